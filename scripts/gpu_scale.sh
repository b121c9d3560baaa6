#!/usr/bin/env bash
# Issue 15's million-item run, for a GPU session of its own (the gpu_check.sh call leaves too
# little of one): a generated log (seqrec generate; 600,000 users over 1,000,000 items show
# 782,388 of them in 10.5 M interactions), then on it, each until early stop or the deadline:
#   - popularity (the floor to beat);
#   - SASRec+CCE, full softmax over the whole catalogue in item blocks (--item-block 0: auto);
#   - SASRec with sampled softmax + logQ, popularity proposal (the usual way around a large catalogue).
# Results (with peak memory and epoch and evaluation times), logs and, for a run the deadline
# stopped, its training state (rerun with --resume to continue it) go to OUTDIR/scale/, the
# folder a lent machine sends back; copy the JSONs and logs into results/timing/scale/.
# Usage: scripts/gpu_scale.sh OUTDIR [USERS] [ITEMS] [SECONDS]   (on a CPU: BUILD=build, small sizes)
set -uo pipefail
out=$1 users=${2:-600000} items=${3:-1000000} budget=${4:-540}
mkdir -p "$out"
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
  device=cuda threads=4
  source scripts/gpu_build.sh
  gpu_build "$out" OFF || exit 1
  bin=$PWD/build-cuda/seqrec
else
  device=cpu threads=1
  run() { "$@"; }
  bin=$PWD/${BUILD:-build}/seqrec
fi
res=$out/scale
mkdir -p $res
data=$out/gen-u$users-i$items.inter
run $bin generate --out "$data" --users "$users" --items "$items" --seed 1 > /dev/null || exit 1
common=(--data "$data" --cache-dir "$out/cache" --device $device --threads $threads --max-len 20 --sasrec.hidden-size 64
        --batching padded --patience 3 --progress lines)
name=u$users-i$items-$device
run $bin train "${common[@]}" --model pop --output $res/$name-pop.json > $res/$name-pop.log 2>&1
# The two trainings share what is left, one after the other.
half=$(( ($(left) - 30) / 2 ))
for loss in cce sampled_softmax; do
  proposal=() && [[ $loss == sampled_softmax ]] && proposal=(--sampled-softmax.proposal popularity)
  run timeout -k 10 $half $bin train "${common[@]}" --loss $loss "${proposal[@]}" --item-block 0 --output $res/$name-$loss.json \
    > $res/$name-$loss.log 2>&1 || echo "$loss: stopped at the deadline or failed: $(tail -1 $res/$name-$loss.log)"
done
python3 - "$res" "$name" <<'PY'
import json, os, sys
res, name = sys.argv[1], sys.argv[2]
for m in ["pop", "cce", "sampled_softmax"]:
    f = f"{res}/{name}-{m}.json"
    if not os.path.exists(f):
        print(f"{m}: no result (see {res}/{name}-{m}.log)")
        continue
    r = json.load(open(f))
    t = r["timing"]
    print(f"{m}: items {r['dataset']['items']:,}, epochs {r['epochs_run']}, test NDCG@10 {r['test']['ndcg@10']:.4f}, "
          f"epoch {t['epoch_seconds_mean']:.1f} s, validation {t['valid_eval_seconds_mean']:.1f} s, "
          f"peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB")
PY
echo "done in $(( $(date +%s) - t0 )) s"
