#!/usr/bin/env bash
# Makes results/timing/scale/steps.md: CPU seconds per SASRec training step over a million items.
# The million-item row where a CPU cannot train an epoch in reasonable time: SASRec with the full
# softmax (cce) and with sampled softmax + logQ (256 shared negatives from the training
# popularity, the proposal where the correction matters) on the generated 1M-item log, each trained for a
# wall budget from its first step and then stopped with SIGINT (it saves its state). At each
# progress line the process's CPU time and peak RSS are sampled; the table gives CPU seconds per
# step over the steps after the first, and an epoch's CPU hours extrapolated from them (an
# estimate, labelled as one). Writes results/timing/scale/steps-*.{log,csv} and steps.md.
# Usage: results/timing/scale/scale_steps.sh [SECONDS] [USERS] [ITEMS]   (env: BIN=build, WORK=/tmp/seqrec-scale,
# LOSSES="cce sampled_softmax": the runs to (re)make; the table reads both)
set -euo pipefail
cd "$(dirname "$0")/../../.."
budget=${1:-300} users=${2:-600000} items=${3:-1000000}
bin=${BIN:-build}/seqrec work=${WORK:-/tmp/seqrec-scale} out=results/timing/scale
data=$work/gen-u$users-i$items.inter
mkdir -p "$work" "$out"
[[ -f $data ]] || "$bin" generate --out "$data" --users "$users" --items "$items" --seed 1 > /dev/null
tick=$(getconf CLK_TCK)
for loss in ${LOSSES:-cce sampled_softmax}; do
  name=steps-u$users-i$items-$loss
  proposal=() && [[ $loss == sampled_softmax ]] && proposal=(--sampled-softmax.proposal popularity)
  rm -f "$work/$name.json.state"  # each run is stopped by design: a rerun starts afresh
  "$bin" train --data "$data" --cache-dir "$work/cache" --threads 1 --max-len 20 --sasrec.hidden-size 64 \
    --batching padded --loss "$loss" "${proposal[@]}" --progress lines --progress-every 20 --output "$work/$name.json" > "$out/$name.log" 2>&1 &
  pid=$!
  echo "step,steps_per_epoch,wall_s,cpu_s,peak_rss_kb" > "$out/$name.csv"
  seen=0 t0=
  while kill -0 $pid 2> /dev/null; do
    line=$(grep -o 'epoch 1 [0-9]*/[0-9]*' "$out/$name.log" | tail -1 || true)
    if [[ -n $line && $line != "$seen" ]]; then
      seen=$line step=${line#epoch 1 } && t0=${t0:-$(date +%s)}
      read -r ut st < <(awk '{print $14, $15}' /proc/$pid/stat)
      echo "${step%/*},${step#*/},$(date +%s),$(( (ut + st) / tick )),$(awk '/VmHWM/ {print $2}' /proc/$pid/status)" >> "$out/$name.csv"
    fi
    if [[ -n $t0 && $(( $(date +%s) - t0 )) -ge $budget ]]; then kill -INT $pid; wait $pid || true; break; fi
    sleep 2
  done
done
python3 - "$out" "$users" "$items" <<'PY'
import csv, sys
out, users, items = sys.argv[1:]
lines = ["# SASRec over a 1M-item catalogue on a CPU: steps, not epochs", "",
         f"Made by `results/timing/scale/scale_steps.sh` (generated log: {int(users):,} users over {int(items):,} items), one thread, "
         "hidden 64, max length 20, padded batches of 256; other runs shared the 2 cores, so CPU seconds (user + system of "
         "the training process) are the measure, not wall time. Each run was stopped after its budget; the epoch is "
         "extrapolated from the CPU seconds per step after the first.", "",
         "| loss | steps timed | CPU s per step | steps per epoch | epoch, CPU hours (extrapolated) | peak RSS GiB |",
         "|---|---:|---:|---:|---:|---:|"]
for loss in ["cce", "sampled_softmax"]:
    rows = list(csv.DictReader(open(f"{out}/steps-u{users}-i{items}-{loss}.csv")))
    if len(rows) < 2:
        lines.append(f"| {loss} | {len(rows)} | – | – | – | – |")
        continue
    a, b = rows[0], rows[-1]
    steps = int(b["step"]) - int(a["step"])
    per = (int(b["cpu_s"]) - int(a["cpu_s"])) / steps
    total = int(b["steps_per_epoch"])
    lines.append(f"| {loss} | {steps} | {per:.1f} | {total:,} | {per * total / 3600:.1f} | {int(b['peak_rss_kb']) / 2**20:.2f} |")
open(f"{out}/steps.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
