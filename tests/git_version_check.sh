#!/usr/bin/env bash
# cmake/git_version.cmake on a copy of a checkout whose git metadata is stale (as on a lent GPU
# machine): the copy's files hold commit B's code while its HEAD is the older A. Without
# .gpu/source the build is A+dirty; with scripts/gpu_source.sh's record of B it is B, clean, and
# its code_tree is B's (scripts/code_tree.sh); with code that is not exactly B's, A+dirty again.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo/scripts"
cd "$repo"
git init -q && git config user.email t@t && git config user.name t
cp "$src/scripts/code_tree.sh" "$src/scripts/gpu_source.sh" scripts/
for d in framework baselines plugin benchmarks tests cmake; do mkdir $d && echo "$d" > $d/README; done  # the code paths
echo 'int a = 1;' > framework/a.cpp && echo 'project(x)' > CMakeLists.txt
git add -A && git commit -qm A && a=$(git rev-parse HEAD)
echo 'int a = 2;' > framework/a.cpp
git add -A && git commit -qm B && b=$(git rev-parse HEAD)
bash scripts/gpu_source.sh > /dev/null
git reset -q --soft "$a"  # HEAD is A, the files are B's: the stale copy
build() { cmake -DSRC="$repo" -DOUT="$work/v.h" -P "$src/cmake/git_version.cmake" && cat "$work/v.h"; }
expect() {  # COMMIT DIRTY
  local h
  h=$(build)
  grep -q "SEQREC_BUILD_COMMIT \"$1\"" <<< "$h" && grep -q "SEQREC_BUILD_DIRTY $2\$" <<< "$h" ||
    { echo "expected commit $1 dirty $2, got:"; echo "$h"; exit 1; }
}
expect "$b" false
grep -q "SEQREC_BUILD_CODE_TREE \"$(bash scripts/code_tree.sh "$b")\"" "$work/v.h" || { echo "code tree is not B's"; exit 1; }
echo 'int a = 3;' > framework/a.cpp
expect "$a" true
echo 'int a = 2;' > framework/a.cpp
rm .gpu/source
expect "$a" true
echo "a stale copy names the commit whose code it holds, and only that"
