#!/usr/bin/env bash
# Prints the git tree id of COMMIT's code paths (those of cmake/git_version.cmake), the id a
# build of exactly that code records as seqrec.code_tree. Runs on the repository of the current
# directory. Usage: scripts/code_tree.sh COMMIT
set -euo pipefail
index=$(mktemp)
trap 'rm -f "$index"' EXIT
rm -f "$index"
git ls-tree -r "$1" -- framework baselines plugin benchmarks tests cmake CMakeLists.txt |
  GIT_INDEX_FILE="$index" git update-index --add --index-info
GIT_INDEX_FILE="$index" git write-tree
