#!/usr/bin/env bash
# Yelp ELECRec on a GPU, in one call on a CUDA machine: ELECRec on Yelp with the published
# settings (configs/Yelp-elecrec.ini: padded batches, patience 40), seeds 1-3 as one process each
# on the GPU, to set beside the grid's 2-rank data-parallel CPU seeds (does one process on
# another device train the same way?). Meanwhile a second build, with NCCL and the tests, whose
# device tests (Cuda.*) then run (results/studies/yelp.md and results/studies/gpu.md).
# Run `bash scripts/gpu_source.sh` from a committed tree first, so that the build names its commit.
# Usage: scripts/gpu_yelp.sh OUTDIR SECONDS   (SECONDS: wall-clock budget for the whole script)
# Results: results/runs/cuda/yelp-elecrec-cuda-seed{1,2,3}.{json,ranks.h5,log}, packed into
# OUTDIR/results.tgz with the second build's logs; a run the budget stops leaves its log.
set -uo pipefail
out=$1
source scripts/gpu_build.sh
gpu_begin $out $2
gpu_build $out OFF build-cuda OFF 16 || exit 1
echo "built in $(($(date +%s) - t0)) s"
bin=$PWD/build-cuda/seqrec
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 5 > $out/gpu-util.csv &
smi=$!
dir=results/runs/cuda
mkdir -p $dir
stop=$(($(left) - 30))
pids=()
for seed in 1 2 3; do
  name=$dir/yelp-elecrec-cuda-seed$seed
  run timeout -k 10 $stop $bin train --config configs/Yelp-elecrec.ini --seed $seed --device cuda --threads 2 \
    --progress lines --resume --output $name.json --ranks $name.ranks.h5 > $name.log 2>&1 &
  pids+=($!)
done
check=$out/nccl
mkdir -p $check
(
  gpu_build $check ON build-cuda-nccl auto 8 || exit 1
  run build-cuda-nccl/seqrec list | grep "^data-parallel backends"
  [[ -x build-cuda-nccl/seqrec_tests ]] || exit 1
  device_tests build-cuda-nccl/seqrec_tests $check
) > $check/check.txt 2>&1 &
side=$!
wait "${pids[@]}"
echo "trained until $(($(date +%s) - t0)) s"
# The second build gets what is left of the budget.
while kill -0 $side 2> /dev/null && (($(left) > 15)); do sleep 2; done
kill -- $side 2> /dev/null
kill $smi
cat $check/check.txt
for seed in 1 2 3; do
  echo "seed $seed: $(grep -c '^epoch' $dir/yelp-elecrec-cuda-seed$seed.log) epochs; $(tail -1 $dir/yelp-elecrec-cuda-seed$seed.log)"
done
tar czf $out/results.tgz $dir/yelp-elecrec-cuda-seed*.json $dir/yelp-elecrec-cuda-seed*.ranks.h5 $dir/yelp-elecrec-cuda-seed*.log \
  $check $out/build.log 2> /dev/null
rm -rf $check
echo "done in $(($(date +%s) - t0)) s"
