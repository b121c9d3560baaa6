#!/usr/bin/env bash
# For each method: an uninterrupted run, then a run stopped (SIGTERM at step K via the fault
# hook, or kill -9 after a random delay) and resumed until done; compares curve and test.
# Usage: scripts/resume_check.sh signal STEP   (SIGTERM after that training step)
#        scripts/resume_check.sh kill SECONDS  (SIGKILL at a random moment within SECONDS after the first state)
set -u
B=$(realpath ${SEQREC_BIN:-build/seqrec})
mode=$1 at=$2
dir=$(mktemp -d); cd $dir
common="--data synthetic:markov --cache-dir $dir/cache --sasrec.hidden-size 16 --epochs 6 --patience 10 --threads 1 --progress lines"
declare -A M=(
  [sasrec-cce]="--loss cce"
  [sasrec-bce]="--loss bce"
  [bert4rec]="--model bert4rec --trainer cloze --bert4rec.mask-prob 0.6"
  [sasrec-genni]="--loss bce --sampler genni"
  [sasrec-atsrec]="--loss bce --trainer atsrec --atsrec.method pgd --atsrec.steps 2"
  [elecrec]="--model elecrec --trainer elecrec --batching padded --elecrec.gen-hidden-size 16 --elecrec.dis-hidden-size 16"
)
for m in sasrec-cce sasrec-bce bert4rec sasrec-genni sasrec-atsrec elecrec; do
  [ -f full-$m.json ] || $B train $common ${M[$m]} --output full-$m.json > full-$m.log 2>&1 || { echo "$m: full run failed"; tail -3 full-$m.log; continue; }
  rm -f cut-$m.json cut-$m.json.state
  if [ $mode = signal ]; then
    SEQREC_FAULT_SIGNAL_AT_STEP=$at $B train $common ${M[$m]} --output cut-$m.json > cut-$m.log 2>&1; code=$?
  else
    $B train $common ${M[$m]} --output cut-$m.json > cut-$m.log 2>&1 & pid=$!
    for _ in $(seq 600); do [ -f cut-$m.json.state ] && break; sleep 0.05; done
    sleep $(python3 -c "import random; print(round(random.uniform(0, $at), 2))"); kill -9 $pid 2>/dev/null; wait $pid; code=$?
  fi
  state=$( [ -f cut-$m.json.state ] && echo yes || echo no )
  $B train $common ${M[$m]} --output cut-$m.json --resume >> cut-$m.log 2>&1 || { echo "$m: resume failed"; tail -3 cut-$m.log; continue; }
  python3 - "$m" "$code" "$state" <<'PY'
import json,sys
m,code,state=sys.argv[1:]
a=json.load(open(f'full-{m}.json'));b=json.load(open(f'cut-{m}.json'))
strip=lambda c:[{k:v for k,v in e.items() if 'seconds' not in k} for e in c]
ok=strip(a['curve'])==strip(b['curve']) and a['test']==b['test'] and a['best_epoch']==b['best_epoch']
print(f"{m}: stopped with exit {code}, state {state}, resumes {b['resumes']}, identical {ok}")
PY
done
