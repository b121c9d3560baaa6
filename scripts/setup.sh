#!/usr/bin/env bash
# Installs seqrec's system packages (Debian 12) when missing, then configures and builds
# into build/: the seqrec command and its bundled plugins, or with --tests everything
# (the test suite, fuzz-corpus replays, examples, kernel benchmarks). Safe to re-run: it
# skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(--target seqrec)
case "${1:-}" in
  --tests) targets=() ;;
  "") ;;
  *) echo "usage: bash scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

packages=(build-essential cmake git libtorch-dev libgloo-dev libopenblas0-pthread libhdf5-dev
          libboost-program-options-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev gnuplot-nox ninja-build)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# LibTorch calls whatever libblas.so.3 is selected; the reference BLAS is ~11x slower.
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | grep -q openblas; then
  echo "setup: warning: libblas.so.3 is not OpenBLAS; run: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2
fi

# Ninja keeps both cores busy across targets (the baselines compile while the library's last
# units do): the seqrec target builds in 0.78x make's time. A build/ configured before keeps
# its generator.
generator=()
[ -f build/CMakeCache.txt ] || generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"
