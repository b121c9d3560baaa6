#!/usr/bin/env bash
# Names this checkout's commit for a copy of its working tree whose git metadata is stale (as a
# GPU machine's copy can be): writes "COMMIT CODE_TREE" to .gpu/source, which cmake/git_version.cmake reads
# there. Run it before each call that builds on the device, from a committed tree: a build whose
# code is not exactly CODE_TREE ignores the file and stays dirty.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu
commit=$(git rev-parse HEAD)
echo "$commit $(bash scripts/code_tree.sh "$commit")" > .gpu/source
cat .gpu/source
