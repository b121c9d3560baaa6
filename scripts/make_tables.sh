#!/usr/bin/env bash
# Regenerates the tables and plots of results/README.md from the committed result JSONs
# (runs that have not finished are simply absent). Usage: scripts/make_tables.sh
set -euo pipefail
cd "$(dirname "$0")/.."
S=${SEQREC_BIN:-./build/seqrec}
mkdir -p results/tables results/plots
r=results/runs
have() { for f in "$@"; do if [ -f "${f#*=}" ]; then echo "$f"; fi; done; }

# Beauty, seed 1: every method trained here (issue 4 + the core runs), published rows beside.
beauty=$(have "sasrec-bce=$r/beauty-sasrec-bce-seed1.json" "sasrec-cce=$r/beauty-sasrec-cce-seed1.json" \
  "elecrec=$r/beauty-elecrec-include-split-seed1.json" "elecrec-mask=$r/beauty-elecrec-seed1.json" \
  "bert4rec=$r/beauty-bert4rec-seed1.json" "gru4rec-ce=$r/beauty-gru4rec-ce-seed1.json" \
  "gru4rec-cce=$r/beauty-gru4rec-cce-seed1.json" "sasrec-genni=$r/beauty-sasrec-genni-seed1.json" \
  "sasrec-sampled-softmax=$r/beauty-sasrec-sampled-softmax-seed1.json" "sasrec-top1-max=$r/beauty-sasrec-top1-max-seed1.json" \
  "sasrec-bpr-max=$r/beauty-sasrec-bpr-max-seed1.json")
$S table $beauty --metrics hit@10,ndcg@10 --baseline sasrec-cce --wall --reference results/published.csv \
  --output results/tables/beauty-seed1.md
# The same runs under the strict protocol (only runs that recorded both protocols).
strict=$(for f in $beauty; do if grep -q test_other_protocol "${f#*=}"; then echo "$f"; fi; done)
$S table $strict --metrics hit@10,ndcg@10 --other-protocol --output results/tables/beauty-seed1-strict.md

# Toys: SASRec+BCE with and without ATSRec, patience 10, seed 1.
toys=$(have "sasrec-bce=$r/toys-sasrec-bce-p10-seed1.json" "sasrec-atsrec=$r/toys-sasrec-atsrec-seed1.json")
$S table $toys --metrics hit@10,ndcg@10 --baseline sasrec-bce --wall --reference results/published.csv \
  --output results/tables/toys-atsrec.md
$S plot $toys --out results/plots/toys-atsrec --title Toys_and_Games

# The Beauty quick grid (seqrec bench configs/grids/beauty-quick.ini): seeds as far as run.
$S table results/grids/beauty-quick --metrics hit@10,ndcg@10,ndcg@20 --wall --output results/tables/beauty-quick-grid.md
$S plot $beauty --out results/plots/beauty-seed1 --title Beauty

# Patience-10 runs against the 3-seed SASRec+BCE of the grid, with paired tests over users
# (needs the runs' rank files; those of results/runs/ were written outside the repository).
p10=$(have "sasrec-genni=$r/beauty-sasrec-genni-seed1.json" "sasrec-sampled-softmax=$r/beauty-sasrec-sampled-softmax-seed1.json" \
  "sasrec-top1-max=$r/beauty-sasrec-top1-max-seed1.json" "sasrec-bpr-max=$r/beauty-sasrec-bpr-max-seed1.json" \
  "bert4rec=$r/beauty-bert4rec-seed1.json" "gru4rec-cce=$r/beauty-gru4rec-cce-seed1.json" "gru4rec-ce=$r/beauty-gru4rec-ce-seed1.json")
$S table results/grids/beauty-quick $p10 --metrics hit@10,ndcg@10 --baseline sasrec-bce --wall \
  --output results/tables/beauty-patience10-significance.md || echo "significance table skipped (rank files missing)"
