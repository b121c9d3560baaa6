#!/usr/bin/env bash
# Trains the core issue's reference runs on Beauty and writes results/ (config + metrics +
# timing in each JSON, the epoch log beside it). Usage: scripts/run_core_results.sh [losses...]
set -euo pipefail
cd "$(dirname "$0")/.."
losses=("${@:-cce bce}")
for loss in ${losses[@]}; do
  "${SEQREC_BIN:-./build/seqrec}" train --config configs/Beauty-sasrec-$loss.ini --progress lines \
    --output results/beauty/sasrec-$loss-seed1.json --ranks /tmp/beauty-sasrec-$loss-ranks.h5 \
    2>&1 | tee results/logs/beauty-sasrec-$loss-seed1.log
done
