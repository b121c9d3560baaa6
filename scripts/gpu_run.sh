#!/usr/bin/env bash
# One GPU session's work, as run on a lent CUDA machine (PyTorch's LibTorch there, no apt):
# build seqrec against it with the HDF5 / Boost / nlohmann_json packages unpacked from .gpu/debs
# (and libhdf5's run-time libraries from .gpu/rt), then train until a deadline:
#   - configs/grids/elecrec-table-gpu.ini with seqrec bench (ELECRec cells, Beauty first);
#   - Beauty ELECRec seed 1 with gen-loss-padding reference-weight beside it (packed batches).
# Usage: scripts/gpu_run.sh OUTDIR SECONDS   (SECONDS: wall-clock budget for the whole script)
# Prepared on the Debian machine first (.gpu is git-ignored through .git/info/exclude):
#   mkdir -p .gpu/debs .gpu/rt .gpu/data && cp ../shared/data/*.txt .gpu/data/
#   (cd .gpu/debs && apt-get download libhdf5-dev libhdf5-103-1 libsz2 libaec0 libboost1.74-dev \
#      libboost-program-options1.74-dev libboost-program-options1.74.0 nlohmann-json3-dev)
#   ldd /usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so | awk '$3 ~ /^\// {print $3}' |
#     grep -v -e libc.so -e libm.so -e libresolv -e ld-linux | xargs -I{} cp -L {} .gpu/rt/
set -uo pipefail
out=$1 budget=$2
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
deps=/tmp/deps
mkdir -p $deps && for f in .gpu/debs/*.deb; do dpkg -x "$f" $deps; done
# libhdf5's own run-time libraries, for seqrec alone (the machine's tools keep theirs).
rt=$PWD/.gpu/rt
run() { LD_LIBRARY_PATH=$rt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"; }
mkdir -p ../shared && ln -sfn "$PWD/.gpu/data" ../shared/data
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee $out/gpu.txt
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DSEQREC_BUILD_TESTS=OFF -DSEQREC_BUILD_BENCHMARKS=OFF \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DHDF5_ROOT=$deps/usr/lib/x86_64-linux-gnu/hdf5/serial \
  -DHDF5_C_COMPILER_EXECUTABLE=/nonexistent -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$rt" \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$rt" -DCMAKE_MODULE_LINKER_FLAGS="-Wl,-rpath-link,$rt" > $out/build.log 2>&1 &&
  cmake --build build-cuda -j16 >> $out/build.log 2>&1 || { tail -40 $out/build.log; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"
run build-cuda/seqrec list > /dev/null || { echo "seqrec does not start"; exit 1; }
bin=$PWD/build-cuda/seqrec
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 10 > $out/gpu-util.csv &
smi=$!
mkdir -p results/runs/cuda
stop=$(( $(left) - 25 ))
run timeout -k 5 $stop $bin train --config configs/Beauty-elecrec.ini --seed 1 --device cuda --threads 2 \
  --batching packed --elecrec.gen-loss-padding reference-weight --progress lines \
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
