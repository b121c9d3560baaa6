#!/usr/bin/env bash
# A GPU machine's training job (a CUDA machine with PyTorch's LibTorch and no apt):
# build seqrec against it, then train until a deadline:
#   - configs/grids/elecrec-table-gpu.ini with seqrec bench (ELECRec cells, Beauty first);
#   - Beauty ELECRec seed 1 with gen-loss-padding reference-weight beside it (packed batches).
# Usage: scripts/gpu_run.sh OUTDIR SECONDS   (SECONDS: wall-clock budget for the whole script)
# The build: scripts/gpu_build.sh (what to prepare on the Debian machine is said there).
set -uo pipefail
out=$1
source scripts/gpu_build.sh
gpu_begin $out $2
gpu_build $out OFF || exit 1
echo "built in $(( $(date +%s) - t0 )) s"
bin=$PWD/build-cuda/seqrec
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 10 > $out/gpu-util.csv &
smi=$!
mkdir -p results/runs/cuda
stop=$(( $(left) - 25 ))
run timeout -k 5 $stop $bin train --config configs/Beauty-elecrec.ini --seed 1 --device cuda --threads 2 \
  --batching packed --elecrec.gen-loss-padding reference-weight --progress lines --resume \
  --output results/runs/cuda/beauty-elecrec-reference-weight-packed-seed1.json \
  --ranks results/runs/cuda/beauty-elecrec-reference-weight-packed-seed1.ranks.h5 \
  > results/runs/cuda/beauty-elecrec-reference-weight-packed-seed1.log 2>&1 &
side=$!
run timeout -k 5 $stop $bin bench configs/grids/elecrec-table-gpu.ini > $out/bench.log 2>&1
wait $side
kill $smi
echo "trained until $(( $(date +%s) - t0 )) s"
tar czf $out/results.tgz results/grids/elecrec-table results/runs/cuda
tail -5 $out/bench.log
