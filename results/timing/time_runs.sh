#!/usr/bin/env bash
# Makes results/timing/eval-wall.txt and epoch timings, results/benchmarks/kernels.json, results/checkpoints/ELECRec-*.json.
# Timing of whole runs and hot kernels on this machine, written under results/:
#   results/benchmarks/kernels.json       Google Benchmark of the kernels (GFLOP/s beside matmul)
#   results/checkpoints/ELECRec-*.json    the published checkpoints evaluated, both protocols
#   results/timing/eval-wall.txt          wall time of `seqrec eval` (process start to exit)
#   results/timing/*-epochs.json          short training runs for epoch times per batching/loss
#   results/timing/*-1epoch-1thread.json  one ELECRec epoch per generator-loss padding
# Run it on an otherwise idle machine. Usage: results/timing/time_runs.sh [path/to/shared]
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${1:-../shared}
bin=./build/seqrec
mkdir -p results/benchmarks results/checkpoints results/timing
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

OMP_WAIT_POLICY=passive ./build/seqrec_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out=results/benchmarks/kernels.json --benchmark_out_format=json

: > results/timing/eval-wall.txt
for ds in Beauty Toys_and_Games; do
  ckpt=$shared/checkpoints/ELECRec-$ds-0.pt
  [ -f "$ckpt" ] || continue
  $bin prepare --data "$shared/data/$ds.txt" --cache-dir "$cache" >/dev/null  # warm the cache once
  for protocol in reference strict; do
    $bin eval --checkpoint "$ckpt" --data "$shared/data/$ds.txt" --cache-dir "$cache" --protocol $protocol \
      --json results/checkpoints/ELECRec-$ds-$protocol.json
  done
  TIMEFORMAT="$ds eval wall %R s"
  for i in 1 2 3 4 5; do
    { time $bin eval --checkpoint "$ckpt" --data "$shared/data/$ds.txt" --cache-dir "$cache" >/dev/null; } \
      2>>results/timing/eval-wall.txt
  done
done
cat results/timing/eval-wall.txt

for spec in "cce split 2" "cce bucketed 2" "cce padded 1" "bce split 2"; do
  set -- $spec
  $bin train --config configs/Beauty-sasrec-$1.ini --cache-dir "$cache" --batching $2 --epochs $3 --progress lines \
    --output results/timing/beauty-sasrec-$1-$2-$3epochs.json | grep epoch
done

# ELECRec on Beauty, one epoch each way of the generator's padding (one LibTorch thread,
# OpenBLAS on both cores: the fastest setting measured here): the reference's objective on
# padded batches, and the split-batch variants.
for spec in "include padded" "include-pieces split" "reference-weight split" "mask split"; do
  set -- $spec
  $bin train --config configs/Beauty-elecrec.ini --cache-dir "$cache" --elecrec.gen-loss-padding $1 --batching $2 \
    --epochs 1 --threads 1 --progress lines --output results/timing/beauty-elecrec-$1-$2-1epoch-1thread.json | grep epoch
done
