#!/usr/bin/env bash
# The million-item runs on a GPU, as a call of their own (they need more time than gpu_check.sh
# leaves): builds against the machine's CUDA LibTorch, then
# results/timing/scale/early-stop/scale_early_stop.sh on a
# generated log of 600,000 users over 1,000,000 items (782,388 of them appear in 10.5 M
# interactions; more training positions than the CPU's long-history log, which a GPU affords) within
# SECONDS. Results, logs and, for a training the deadline stopped, its state (a rerun with the same
# OUTDIR continues it) go to OUTDIR/scale/, the folder to copy back from the machine; copy the JSONs,
# logs and the table into results/timing/scale/.
# Usage: scripts/gpu_scale.sh OUTDIR [USERS] [ITEMS] [SECONDS]   (on a CPU: BIN=build/seqrec, small sizes)
set -uo pipefail
out=$1 t0=$(date +%s)
mkdir -p "$out"
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
  source scripts/gpu_build.sh
  gpu_build "$out" OFF || exit 1
  export LD_LIBRARY_PATH=$rt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} BIN=$PWD/build-cuda/seqrec DEVICE=cuda THREADS=4
fi
USERS=${2:-600000} ITEMS=${3:-1000000} MIN_LEN=5 MAX_LEN=30 WORK=$out BUDGET=$(( ${4:-540} - ($(date +%s) - t0) )) \
  results/timing/scale/early-stop/scale_early_stop.sh "$out/scale"
