#!/usr/bin/env bash
# Makes results/runs/beauty-*-seed1.json: the Beauty core runs of results/studies/beauty-core-runs.md.
# Trains reference runs on Beauty and writes results/ (config + metrics + timing in each JSON
# in results/runs/, the epoch log in results/logs/).
# Usage: results/runs/run_core_results.sh NAME... where NAME is a config in configs/ without
# .ini, e.g. Beauty-sasrec-cce Beauty-elecrec.
# SEQREC_BIN overrides the binary; extra flags go in SEQREC_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p results/runs results/logs
for name in "$@"; do
  out=$(echo "$name" | tr 'A-Z' 'a-z')
  "${SEQREC_BIN:-./build/seqrec}" train --config configs/$name.ini --progress lines ${SEQREC_FLAGS:-} \
    --output results/runs/$out-seed1.json 2>&1 | tee results/logs/$out-seed1.log
done
