#!/usr/bin/env bash
# Builds seqrec and its tests with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs the whole suite there. LibTorch, OpenBLAS and HDF5 are not
# instrumented; leak reports are off (LibTorch's and OpenMP's process-lifetime allocations
# would fill them), every other finding fails the run.
# Usage: scripts/sanitize.sh [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-$(nproc)}
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQREC_SANITIZE=address,undefined \
  -DSEQREC_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j"$jobs"
