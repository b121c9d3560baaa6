#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 (coverage, ASan, UBSan) into
# build-fuzz/ and runs each for SECONDS, starting from the committed seeds in
# fuzz/corpus/TARGET (new inputs go to build-fuzz/corpus/TARGET). A finding (crash,
# sanitizer report, an exception other than seqrec::Error, a timeout, memory over 2 GiB)
# is saved under build-fuzz/findings/TARGET/ and makes the script exit 1; replay one with
# build-fuzz/fuzz_TARGET FILE. Leak reports are off (LibTorch's and HDF5's process-lifetime
# allocations). Needs clang-14 and libclang-rt-14-dev.
# Usage: scripts/fuzz.sh [SECONDS (default 600)] [TARGET ...]
#        targets: readers config grid checkpoint results hdf5
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=${*:-readers config grid checkpoint results hdf5}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQREC_FUZZ=ON \
  -DSEQREC_BUILD_TESTS=OFF -DSEQREC_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build build-fuzz -j"${JOBS:-$(nproc)}" --target $(printf 'fuzz_%s ' $targets) > /dev/null
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
scratch=$(mktemp -d /dev/shm/seqrec-fuzz.XXXXXX 2> /dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
printf '%-11s %8s %10s %8s %6s %7s %s\n' target seconds execs exec/s cov corpus findings
for t in $targets; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  log="build-fuzz/fuzz_$t.log"
  status=0
  # libhdf5 1.10.8 (not instrumented) is not memory-safe on malformed images: it reads freed
  # memory and mallocs whatever sizes an image claims. seqrec hands it only images whose
  # checksum passed; the target also feeds it images with valid trailers, so that our code
  # behind the parser is fuzzed too. There the run forks, goes on past crashes, and each
  # crash is then replayed and counted as libhdf5's (its top frame there) or ours.
  extra=()
  if [ "$t" = hdf5 ]; then
    extra=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -malloc_limit_mb=2147483647)
    export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
  fi
  TMPDIR=$scratch "build-fuzz/fuzz_$t" "${extra[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="build-fuzz/findings/$t/" -print_final_stats=1 \
    "build-fuzz/corpus/$t" "fuzz/corpus/$t" > "$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  if [ "$t" = hdf5 ]; then  # fork mode: "#EXECS: cov: ... exec/s: R ..." lines
    execs=$(grep -o '^#[0-9]*: cov' "$log" | tail -n1 | tr -dc 0-9 || true)
    rate=$(grep -o 'exec/s:* [0-9]*' "$log" | tail -n1 | tr -dc 0-9 || true)
    theirs=0 ours=0 alone=0
    for f in build-fuzz/findings/$t/*; do
      [ -e "$f" ] || continue
      replay=$(TMPDIR=$scratch timeout 60 "build-fuzz/fuzz_$t" "$f" 2>&1 || true)
      top=$(echo "$replay" | grep -E '^ +#[0-9]+ .* in [^_]' |
        grep -v -E 'interceptor|in (malloc|calloc|realloc|free|memcpy|memmove|memset) ' | head -n1 || true)
      # Out of memory: the caller of the largest live allocation.
      echo "$replay" | grep -q 'out-of-memory' && top=$(echo "$replay" | grep -m1 -E '^ +#1 ' || true)
      if ! echo "$replay" | grep -q -E 'ERROR|terminate|Aborted|deadly'; then
        alone=$((alone + 1)); rm -f "$f"  # crashed only after earlier inputs: libhdf5's global state
      elif echo "$top" | grep -q libhdf5; then
        theirs=$((theirs + 1)); rm -f "$f"
      else
        ours=$((ours + 1)); echo "    to look at: $f: $top"
      fi
    done
    echo "    hdf5: $theirs crash(es) with libhdf5 on top, $alone that do not recur alone (libhdf5's state" \
      "across inputs), all on images with a valid trailer (removed); $ours to look at (kept)"
    [ "$ours" -eq 0 ] && status=0  # the forked run exits 1 after the crashes it went past
  fi
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
  corpus=$(ls "build-fuzz/corpus/$t" | wc -l)
  findings=$(ls "build-fuzz/findings/$t" | wc -l)
  printf '%-11s %8s %10s %8s %6s %7s %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$findings"
  if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
    failed=1
    grep -m3 -E 'ERROR|SUMMARY|terminate|what\(\)' "$log" | sed 's/^/    /' || true
  fi
done
exit $failed
