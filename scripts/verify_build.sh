#!/usr/bin/env bash
# Says whether COMMIT holds exactly the code a result's binary was built from: compares the
# result's seqrec.code_tree with the same tree built from COMMIT's code paths (those of
# cmake/git_version.cmake). Usage: scripts/verify_build.sh COMMIT RESULT.json
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$1 result=$2
want=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seqrec'].get('code_tree', ''))" "$result")
[ -n "$want" ] || { echo "$result: records no code_tree (built before 2026-11-26)"; exit 2; }
have=$(bash scripts/code_tree.sh "$commit")
if [ "$have" = "$want" ]; then
  echo "$result: built from the code of $commit (tree $have)"
else
  echo "$result: not the code of $commit (result $want, commit $have)"
  exit 1
fi
