# Sourced by scripts/gpu_run.sh, gpu_check.sh, gpu_yelp.sh and gpu_scale.sh on a CUDA machine (PyTorch's
# LibTorch there, no apt): gpu_build OUTDIR TESTS [DIR [NCCL [JOBS]]] builds seqrec into DIR
# (build-cuda) with JOBS (16) compile jobs against it, with NCCL when NCCL is auto (the default:
# tried first, left out if that build fails) and without it when OFF, with
# the HDF5 / Boost / nlohmann_json (and, for TESTS=ON, GoogleTest) packages unpacked from
# .gpu/debs and libhdf5's run-time libraries from .gpu/rt; `run CMD` runs with those on the
# library path. Prepared on the Debian machine first (.gpu is git-ignored):
#   mkdir -p .gpu/debs .gpu/rt .gpu/data && cp ../shared/data/*.txt .gpu/data/
#   (cd .gpu/debs && apt-get download libhdf5-dev libhdf5-103-1 libsz2 libaec0 libboost1.74-dev \
#      libboost-program-options1.74-dev libboost-program-options1.74.0 nlohmann-json3-dev libgtest-dev zlib1g-dev)
#   ldd /usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so | awk '$3 ~ /^\// {print $3}' |
#     grep -v -e libc.so -e libm.so -e libresolv -e ld-linux | xargs -I{} cp -L {} .gpu/rt/
#   the reference ELECRec code (for gpu_check.sh) in .gpu/ref
# and, before each call that builds there, `bash scripts/gpu_source.sh` from a committed tree: the
# device's copy keeps stale git metadata, and .gpu/source names the commit its build is.
deps=/tmp/deps
rt=$PWD/.gpu/rt
run() { LD_LIBRARY_PATH=$rt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"; }
# gpu_begin OUTDIR SECONDS starts a script's clock (`left`: the seconds of its budget left) and
# writes the GPU's name, memory and driver to OUTDIR/gpu.txt.
gpu_begin() {
  t0=$(date +%s) budget=$2
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$1/gpu.txt"
}
left() { echo $((budget - ($(date +%s) - t0))); }
# device_tests TESTS OUTDIR runs each Cuda.* test of the TESTS binary in a process of its own (a
# crash ends only its own test) into OUTDIR/cuda-tests.log, takes a cuda-gdb backtrace of each
# one that dies of a signal (OUTDIR/TEST.bt; where cuda-gdb is there) and prints a summary line.
device_tests() {
  local bin=$1 out=$2 t rc crashed=()
  : > "$out/cuda-tests.log"
  for t in $(run "$bin" --gtest_list_tests --gtest_filter='Cuda.*' | awk '/^[^ ]/ {s = $1} /^  / {print s $1}'); do
    run "$bin" --gtest_filter="$t" >> "$out/cuda-tests.log" 2>&1
    rc=$?
    if ((rc > 128)); then
      crashed+=("$t (signal $((rc - 128)))")
      echo "[  CRASHED ] $t: signal $((rc - 128))" >> "$out/cuda-tests.log"
      if command -v cuda-gdb > /dev/null; then
        run timeout 180 cuda-gdb -batch -ex run -ex bt --args "$bin" --gtest_filter="$t" > "$out/$t.bt" 2>&1
      fi
    fi
  done
  echo "device tests: $(grep -c '^\[       OK' "$out/cuda-tests.log") passed," \
    "$(grep -cE '^\[  FAILED  \] Cuda.*\([0-9]+ ms\)' "$out/cuda-tests.log") failed," \
    "$(grep -cE '^\[  SKIPPED \] Cuda.*\([0-9]+ ms\)' "$out/cuda-tests.log") skipped, ${#crashed[@]} crashed${crashed[*]:+: ${crashed[*]}} ($out/cuda-tests.log)"
}
gpu_build() {
  local out=$1 tests=${2:-OFF} dir=${3:-build-cuda} with_nccl=${4:-auto} jobs=${5:-16}
  # Unpacked once: a second build beside running programs must not rewrite the libraries they map.
  [[ -e $deps/.unpacked ]] || { mkdir -p $deps && for f in .gpu/debs/*.deb; do dpkg -x "$f" $deps; done && touch $deps/.unpacked; }
  mkdir -p ../shared && [[ -e ../shared/data ]] || ln -sfn "$PWD/.gpu/data" ../shared/data
  local torch_prefix nccl
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  # nccl.h for the NCCL backend: the nvidia-nccl wheel beside PyTorch's.
  nccl=$(python3 -c 'import glob, os, torch
hits = glob.glob(os.path.join(os.path.dirname(os.path.dirname(torch.__file__)), "nvidia", "**", "nccl.h"), recursive=True)
print(os.path.dirname(hits[0]) if hits else "")')
  configure_and_build() {
    cmake -S . -B $dir -DCMAKE_BUILD_TYPE=Release -DSEQREC_BUILD_TESTS=$tests -DSEQREC_BUILD_BENCHMARKS=OFF \
      -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DHDF5_ROOT=$deps/usr/lib/x86_64-linux-gnu/hdf5/serial \
      -DGTest_DIR=$deps/usr/lib/x86_64-linux-gnu/cmake/GTest \
      -DZLIB_INCLUDE_DIR=$deps/usr/include -DZLIB_LIBRARY=$rt/libz.so.1 \
      -DHDF5_C_COMPILER_EXECUTABLE=/nonexistent -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$rt" \
      -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$rt" -DCMAKE_MODULE_LINKER_FLAGS="-Wl,-rpath-link,$rt" "$@" >> $out/build.log 2>&1 &&
      cmake --build $dir -j$jobs --target seqrec >> $out/build.log 2>&1
  }
  : > $out/build.log
  echo "nccl.h: ${nccl:-not found}"
  # If the NCCL backend breaks the build, build without it.
  # (Without nccl.h the first build has no NCCL in it, and a second would fail the same way.)
  if [[ $with_nccl == OFF ]]; then
    configure_and_build -DSEQREC_NCCL=OFF || { tail -40 $out/build.log; return 1; }
  elif ! configure_and_build -DSEQREC_NCCL=ON ${nccl:+-DSEQREC_NCCL_INCLUDE=$nccl}; then
    [[ -n $nccl ]] || { tail -40 $out/build.log; return 1; }
    echo "build with NCCL failed ($out/build-nccl.log): building without it"
    mv $out/build.log $out/build-nccl.log
    grep -m5 "error" $out/build-nccl.log
    configure_and_build -DSEQREC_NCCL=OFF || { tail -40 $out/build.log; return 1; }
  fi
  run $dir/seqrec list > /dev/null || { echo "seqrec does not start"; return 1; }
  grep -h "COMMIT\|DIRTY" $dir/generated/seqrec/git_version.h  # what its results will record
  # If the tests do not build against this PyTorch, the timings still run.
  if [[ $tests == ON ]] && ! cmake --build $dir -j$jobs --target seqrec_tests >> $out/build.log 2>&1; then
    echo "the tests did not build ($out/build.log):"
    grep -m5 "error" $out/build.log
  fi
  return 0
}
