#!/usr/bin/env bash
# The plugin SDK from a user's side: install seqrec into a temporary prefix, write a loss in
# an empty directory (a CMakeLists.txt of three lines and tests/plugins/toy_loss.cpp), build
# it against the installed tree with find_package(seqrec) + seqrec_add_plugin, and train with
# it through the installed binary. Usage: tests/sdk_check.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
mkdir "$work/myloss"
# The plugin also includes a public header that includes nlohmann_json (a dependency the
# package finds for it), and a baseline's header, installed under include/seqrec-baselines/.
{ echo '#include "seqrec/run_result.h"'; echo '#include "baselines/sasrec/sasrec.h"'; cat "$src/tests/plugins/toy_loss.cpp"; } \
  > "$work/myloss/myloss.cpp"
[ ! -e "$work/prefix/include/baselines" ] || { echo "baseline headers installed as a top-level include/baselines"; exit 1; }
cat > "$work/myloss/CMakeLists.txt" << 'CM'
cmake_minimum_required(VERSION 3.18)
project(myloss CXX)
find_package(seqrec REQUIRED)
seqrec_add_plugin(myloss myloss.cpp)
CM
cmake -S "$work/myloss" -B "$work/myloss/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/myloss/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$work/prefix/bin/seqrec" train --plugin "$work/myloss/build/myloss.so" --loss label_smoothing_ce \
  --data synthetic:markov --cache-dir "$work/cache" --sasrec.hidden-size 8 --epochs 2 --threads 1 \
  --progress none --output "$work/r.json" > "$work/train.log" 2>&1 || { cat "$work/train.log"; exit 1; }
grep -q '"loss": "label_smoothing_ce"' "$work/r.json"
grep -q "myloss.so" "$work/r.json"  # the result names the plugin it trained with
echo "plugin built against $work/prefix and trained: $(grep -m1 -o '"ndcg@10": [0-9.]*' "$work/r.json")"
