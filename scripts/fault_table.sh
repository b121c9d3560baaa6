#!/usr/bin/env bash
# Provokes each failure of README's "Interrupted runs, preemption, and files that are whole or
# absent" through the CLI, and prints one Markdown row per fault: what was done, the exit code, the first stderr line, how many error lines, and
# what was left at the final path. Full disk and read-only rows need root (a 64 KiB tmpfs,
# then remounted read-only); without it they are skipped (the tests provoke the same write
# failures with RLIMIT_FSIZE). Kill -9 and signal rows: scripts/resume_check.sh.
# Usage: scripts/fault_table.sh
set -u
B=$(realpath "${SEQREC_BIN:-build/seqrec}")
work=$(mktemp -d)
trap 'umount "$work/disk" 2> /dev/null; rm -rf "$work"' EXIT
cd "$work"
python3 - << 'PY'
import random
random.seed(1)
with open("data.txt", "w") as f:
    for u in range(1, 1501):
        f.write(" ".join(map(str, [u] + [random.randint(1, 300) for _ in range(random.randint(5, 20))])) + "\n")
PY
small="--data data.txt --cache-dir cache --sasrec.hidden-size 8 --epochs 2 --threads 1"
"$B" train $small --output ok.json --save ok.pt --ranks ok.ranks.h5 > /dev/null 2>&1 || { echo "baseline run failed"; exit 1; }

echo "| fault | command | exit | error lines | first error line | left at the final path |"
echo "|---|---|---|---|---|---|"
# row FAULT FINAL_PATH COMMAND...: runs it, reports.
row() {
  local fault=$1 final=$2
  shift 2
  "$@" > out.txt 2> err.txt
  local code=$? lines first left
  lines=$(grep -c -E 'error|damaged|note|diverged|stopped' err.txt)
  first=$(grep -m1 -E 'error|damaged|note|diverged|stopped' err.txt | sed "s|$work/||g; s/|/\\\\|/g")
  left=$(ls -d $final $final.tmp.* 2> /dev/null | sed "s|$work/||g" | tr '\n' ' ')
  local cmd="${*:2}"
  cmd=$(echo "$cmd" | sed "s|$work/||g; s|$small|SMALL|; s/|/\\\\|/g" | cut -c1-70)
  echo "| $fault | \`seqrec $cmd\` | $code | $lines | ${first:-(none)} | ${left:-nothing} |"
}

if mkdir -p disk && mount -t tmpfs -o size=64k tmpfs disk 2> /dev/null; then
  cat /dev/zero > disk/filler 2> /dev/null
  row "full disk: dataset cache" "disk/c/*.h5" "$B" prepare --data data.txt --cache-dir disk/c
  row "full disk: output lock" "disk/r.json*" "$B" train $small --output disk/r.json
  truncate -s -4096 disk/filler  # one page free: the lock fits, the state and the result do not
  row "full disk: training state" "disk/r.json disk/r.json.state" "$B" train $small --output disk/r.json
  row "full disk: result JSON" "disk/r.json" "$B" train $small --state-every 0 --output disk/r.json
  cat /dev/zero >> disk/filler 2> /dev/null
  row "full disk: checkpoint" "disk/m.pt" "$B" train $small --save disk/m.pt
  row "full disk: rank file" "disk/r.ranks.h5" "$B" eval --checkpoint ok.pt --data data.txt --cache-dir cache --ranks disk/r.ranks.h5
  row "full disk: table" "disk/t.md" "$B" table ok.json --output disk/t.md
  row "full disk: plot data" "disk/p*" "$B" plot ok.json --out disk/p
  rm -f disk/filler
  mount -o remount,ro disk
  row "read-only dir: result JSON" "disk/r.json" "$B" train $small --output disk/r.json
  row "read-only dir: checkpoint" "disk/m.pt" "$B" train $small --save disk/m.pt
  row "read-only dir: rank file" "disk/r.ranks.h5" "$B" eval --checkpoint ok.pt --data data.txt --cache-dir cache --ranks disk/r.ranks.h5
  row "read-only dir: table" "disk/t.md" "$B" table ok.json --output disk/t.md
  umount disk
else
  echo "| full disk, read-only dir | (skipped: mounting a tmpfs needs root) | | | | |"
fi
echo x > afile
row "parent is a file" "afile/r.json" "$B" train $small --output afile/r.json

flip() { python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); i=int(len(b)*float(sys.argv[2])); b[i]^=0x10; open(p,'wb').write(b)" "$@"; }
cp ok.pt bad.pt && flip bad.pt 0.6
row "flipped byte: checkpoint" "-" "$B" eval --checkpoint bad.pt --data data.txt --cache-dir cache
cp -r cache flipped-cache && flip flipped-cache/*.h5 0.5
row "flipped byte: dataset cache" "-" "$B" prepare --data data.txt --cache-dir flipped-cache
mkdir -p ranks && cp ok.json ranks/ && cp ok.ranks.h5 ranks/ok.ranks.h5 && flip ranks/ok.ranks.h5 0.5
sed -i "s|\"ranks\": \"ok.ranks.h5\"|\"ranks\": \"ranks/ok.ranks.h5\"|" ranks/ok.json
row "flipped byte: rank file" "-" "$B" table ranks/ok.json
SEQREC_FAULT_SIGNAL_AT_STEP=3 "$B" train $small --output st.json > /dev/null 2>&1
flip st.json.state 0.5
row "flipped byte: training state" "st.json" "$B" train $small --output st.json --resume
row "truncated: checkpoint" "-" bash -c "head -c 3000 ok.pt > cut.pt && '$B' eval --checkpoint cut.pt --data data.txt --cache-dir cache"
row "divergence (--lr 1e6)" "dv.json" "$B" train $small --lr 1e6 --output dv.json
row "seed overflow" "-" "$B" train $small --seed 99999999999999999999999
row "abbreviated key (--dropout)" "-" "$B" train $small --dropout 0.2
row "probability outside [0, 1]" "-" "$B" train $small --sasrec.dropout 1.5
"$B" train ${small/--epochs 2/--epochs 50} --output busy.json > /dev/null 2>&1 &
pid=$!
sleep 2
row "second train on the same --output" "-" "$B" train $small --output busy.json
kill -TERM $pid
wait $pid
code=$?
echo "| SIGTERM to that first train | \`kill -TERM\` | $code | | | $(ls busy.json* | tr '\n' ' ') |"
row "train again on that output without --resume" "busy.json" "$B" train ${small/--epochs 2/--epochs 50} --output busy.json
row "resume with another config" "busy.json" "$B" train ${small/--epochs 2/--epochs 50} --output busy.json --resume --patience 1
row "resume after SIGTERM" "busy.json" "$B" train ${small/--epochs 2/--epochs 50} --output busy.json --resume
