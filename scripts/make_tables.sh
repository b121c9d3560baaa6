#!/usr/bin/env bash
# Regenerates results/tables/, results/plots/ and results/report/ (read by results/README.md and the study pages
# in results/studies/) from the committed result JSONs (runs that have not finished are simply
# absent). Usage: scripts/make_tables.sh
set -euo pipefail
cd "$(dirname "$0")/.."
S=${SEQREC_BIN:-./build/seqrec}
mkdir -p results/tables results/plots
r=results/runs
have() { for f in "$@"; do if [ -e "${f#*=}" ]; then echo "$f"; fi; done; }

# The Beauty head-to-head (seqrec bench configs/grids/beauty-table.ini): every method, up to
# three seeds, patience 10, paired tests against SASRec+CCE where rank files exist.
# SASRec+ATSRec's seeds come from configs/grids/beauty-atsrec.ini (same folder, same patience);
# gbce with patience 40 (configs/grids/beauty-gbce-patience40.ini) is one more, named row.
# ELECRec's row there is the split batches' objective (include-pieces); the reference's
# objective (padded batches, patience 40, from the four-dataset grid) is one more, named row.
grid="results/grids/beauty-table $(have "sasrec-gbce-p40=results/grids/beauty-gbce-patience40" \
  "elecrec-padded-p40=results/grids/elecrec-table/Beauty/elecrec")"
$S table $grid --metrics hit@10,ndcg@10,ndcg@20 --baseline sasrec-cce --wall --reference results/published.csv \
  --output results/tables/beauty-table.md
$S table $grid --metrics hit@10,ndcg@10,ndcg@20 --other-protocol --output results/tables/beauty-table-strict.md
$S plot $grid --output results/plots/beauty-table --title Beauty --baseline sasrec-cce --reference results/published.csv
$S plot results/grids/elecrec-table --output results/plots/elecrec-table --title "ELECRec paper comparison" \
  --baseline sasrec-cce --reference results/published.csv

# The four-dataset comparison of the ELECRec paper (seqrec bench configs/grids/elecrec-table.ini,
# patience 40; ELECRec's cells from configs/grids/elecrec-table-gpu.ini on a GPU and
# configs/grids/elecrec-table-elecrec-cpu*.ini on the CPU), with whatever cells have results.
$S table results/grids/elecrec-table --metrics hit@10,ndcg@10 --baseline sasrec-cce --wall \
  --reference results/published.csv --output results/tables/elecrec-table.md
$S table results/grids/elecrec-table --metrics hit@10,ndcg@10 --other-protocol --output results/tables/elecrec-table-strict.md
# The same comparison as one HTML page, and how a browser shows it (when chromium is installed).
mkdir -p results/report
$S report results/grids/elecrec-table --metrics hit@10,ndcg@10 --baseline sasrec-cce --wall \
  --reference results/published.csv --title "ELECRec paper comparison: four datasets" --output results/report/elecrec-table.html
if command -v chromium > /dev/null; then
  scripts/screenshot.sh results/report/elecrec-table.html results/report/elecrec-table.png 2400 2400
else
  echo "make_tables: chromium not installed, results/report/elecrec-table.png left as it is"
fi

# ELECRec on Beauty under each generator objective: the reference's (padded batches, the
# configs' setting), the split batches' per-piece mean (include-pieces: the
# head-to-head grid's patience-10 runs and the core run), and reference-weight (packed, GPU).
$S table "elecrec-padded-p40=results/grids/elecrec-table/Beauty/elecrec" \
  "elecrec-split-p10=results/grids/beauty-table/Beauty/elecrec" \
  $(have "elecrec-split-p40=$r/beauty-elecrec-include-split-seed1.json" \
    "elecrec-refweight-packed-p40=$r/cuda/beauty-elecrec-reference-weight-packed-seed1.json") \
  --metrics hit@10,ndcg@10,hit@20,ndcg@20 --baseline elecrec-padded-p40 --wall --reference results/published.csv \
  --output results/tables/beauty-elecrec-objectives.md

# ATSRec's own comparison on Beauty: SASRec+BCE with and without adversarial training, same
# seeds, from the grid above.
g=results/grids/beauty-table/Beauty
$S table "sasrec-bce=$g/sasrec-bce" "sasrec-atsrec=$g/sasrec-atsrec" --metrics hit@10,ndcg@10,ndcg@20 \
  --baseline sasrec-bce --output results/tables/beauty-atsrec.md

# Tuned against default: each method's configuration chosen by seqrec tune (configs/tune/beauty.ini, one
# budget for every method) run with three seeds (configs/grids/beauty-tuned.ini), beside the
# same methods with their defaults rerun by the tuned rows' binary (configs/grids/beauty-defaults.ini);
# patience 10 in both. The defaults with patience 40 (the four-dataset grid's Beauty cells) are
# named rows: patience 10 cuts SASRec+BCE's slow climb short. Each tuned or patience-40 row is
# compared with its own default row, the defaults with SASRec+CCE.
e=results/grids/elecrec-table/Beauty
$S table results/grids/beauty-tuned results/grids/beauty-defaults "sasrec-bce-p40=$e/sasrec-bce" \
  "bert4rec-p40=$e/bert4rec" "sasrec-cce-p40=$e/sasrec-cce" \
  --metrics hit@10,ndcg@10,ndcg@20 --baseline sasrec-cce --wall --output results/tables/beauty-tuned.md \
  --pairs sasrec-bce-tuned=sasrec-bce,bert4rec-tuned=bert4rec,sasrec-cce-tuned=sasrec-cce,sasrec-bce-p40=sasrec-bce,bert4rec-p40=bert4rec,sasrec-cce-p40=sasrec-cce

# Exposure of the runs that recorded it: the clean default and tuned rows of the three methods
# above; the head-to-head's runs were trained by builds without the exposure metrics.
$S table results/grids/beauty-defaults results/grids/beauty-tuned --baseline sasrec-cce \
  --metrics ndcg@10,coverage@10,gini@10,avgpop@10,novelty@10 --output results/tables/beauty-exposure.md

# Is the data sequential for a trained SASRec+CCE? Each test history shuffled within the
# model's input (table --history shuffled), for the runs that recorded it: Beauty's clean
# default rows, Sports seeds 2-3, Yelp's cells.
e4=results/grids/elecrec-table
$S table "sasrec-cce=results/grids/beauty-defaults/Beauty/sasrec-cce" \
  $(have "sasrec-cce=$e4/Sports_and_Outdoors/sasrec-cce/seed2-fc0948a05f86ac49.json" \
    "sasrec-cce=$e4/Sports_and_Outdoors/sasrec-cce/seed3-70c2308d2134f468.json" "sasrec-cce=$e4/Yelp/sasrec-cce") \
  --history shuffled --metrics hit@10,ndcg@10 --output results/tables/sequentiality-sasrec-cce.md

# Beauty core runs with the papers' patience 40, seed 1: ELECRec's two padding switches
# beside SASRec with BCE and CCE.
core=$(have "sasrec-bce=$r/beauty-sasrec-bce-seed1.json" "sasrec-cce=$r/beauty-sasrec-cce-seed1.json" \
  "elecrec=$r/beauty-elecrec-include-split-seed1.json" "elecrec-mask=$r/beauty-elecrec-seed1.json")
$S table $core --metrics hit@10,ndcg@10 --baseline sasrec-cce --wall --reference results/published.csv \
  --output results/tables/beauty-core-patience40.md

# Toys: ELECRec (published settings) against SASRec+CCE (up to three seeds), all patience 40:
# the split batches' objective (seed 1, CPU) and the reference's (padded batches, GPU).
toys_h2h=$(have "sasrec-cce="$r/toys-sasrec-cce-seed{1,2,3}.json "elecrec-split=$r/toys-elecrec-seed1.json" \
  "elecrec-padded=results/grids/elecrec-table/Toys_and_Games/elecrec")
$S table $toys_h2h --metrics hit@10,ndcg@10,ndcg@20 --baseline sasrec-cce --wall --reference results/published.csv \
  --output results/tables/toys-elecrec.md

# Toys: SASRec+BCE with and without ATSRec (patience 10, seed 1) beside the two above.
toys=$(have "sasrec-bce=$r/toys-sasrec-bce-p10-seed1.json" "sasrec-atsrec=$r/toys-sasrec-atsrec-seed1.json" $toys_h2h)
$S table $toys --metrics hit@10,ndcg@10 --baseline sasrec-bce --wall --reference results/published.csv \
  --output results/tables/toys-atsrec.md
$S plot $toys --output results/plots/toys-atsrec --title Toys_and_Games --baseline sasrec-bce --reference results/published.csv

# ATSRec's claim on Toys with the authors' settings and patience 40: SASRec+BCE (the
# four-dataset grid's cells) against SASRec+ATSRec (configs/grids/atsrec.ini), seeds 1-3 as
# they land, with the item tables' singular-value spectra (the plot's spectrum panel).
atsrec=results/grids/atsrec/Toys_and_Games/sasrec-atsrec
if compgen -G "$atsrec/*.json" > /dev/null; then
  toys40="sasrec-bce=results/grids/elecrec-table/Toys_and_Games/sasrec-bce sasrec-atsrec=$atsrec"
  $S table $toys40 --metrics hit@10,ndcg@10,ndcg@20 --baseline sasrec-bce --wall --reference results/published.csv \
    --output results/tables/toys-atsrec-p40.md
  $S plot $toys40 --output results/plots/toys-atsrec-p40 --title "Toys_and_Games, patience 40" --baseline sasrec-bce \
    --reference results/published.csv
fi

# SASRec+CCE on a GPU (results/runs/cuda: an H100 with the CUDA LibTorch 2.11, padded
# batching, patience 40): Sports and Yelp beside ELECRec's published numbers (both protocols:
# Yelp's test answers often repeat a history item), and Toys against the CPU run of the same settings.
c=results/runs/cuda
cuda_sy=$(have "sasrec-cce-cuda="$c/{sports,yelp}-sasrec-cce-cuda-seed{1,2,3}.json)
$S table $cuda_sy --metrics hit@10,ndcg@10 --wall --reference results/published.csv --output results/tables/sports-yelp-cuda.md
$S table $cuda_sy --metrics hit@10,ndcg@10 --other-protocol --output results/tables/sports-yelp-cuda-strict.md
$S table "sasrec-cce-cpu=$r/toys-sasrec-cce-seed1.json" "sasrec-cce-cuda=$c/toys-sasrec-cce-cuda-seed1.json" \
  --metrics hit@10,ndcg@10,ndcg@20 --baseline "sasrec-cce-cpu" --wall --output results/tables/toys-cpu-vs-cuda.md

# Ten-epoch end-to-end checks on Beauty (seed 1) of what the tables do not train: DNS, FGSM,
# FGM, the CCE paper's bpr_max/top1_max code variants, beside plain BCE for ten epochs.
short=results/runs/short
$S table "sasrec-bce=$short/beauty-sasrec-bce-10epochs-seed1.json" \
  $short/beauty-sasrec-{bce-dns,atsrec-fgsm,atsrec-fgm,bpr-max-cce,top1-max-cce}-10epochs-seed1.json \
  --metrics hit@10,ndcg@10 --wall --output results/tables/beauty-short-checks.md

# The Beauty quick grid (seqrec bench configs/grids/beauty-quick.ini).
$S table results/grids/beauty-quick --metrics hit@10,ndcg@10,ndcg@20 --wall --output results/tables/beauty-quick-grid.md

# The self-supervised lineage on Beauty (seqrec bench configs/grids/lineage-beauty.ini), each
# model with its authors' settings, beside its published numbers (the lineage's only), with
# whatever runs have finished. S3Rec's published numbers are tested twice: against its fine-tuning
# from the released pre-training and from seqrec's own.
lineage_published() {
  awk -F, -v OFS=, '/^#/ || $1 == "method" || $6 ~ /^(s3rec-finetune|cl4srec|iclrec|coserec|duorec|bsarec|fmlprec|caser)$/
    $6 == "s3rec-finetune" { $1 = "S3Rec (seqrec'"'"'s pre-training)"; $6 = "s3rec-own-finetune"; print }' \
    results/published.csv
}
if compgen -G "results/grids/lineage/Beauty/*/*.json" > /dev/null; then
  $S table results/grids/lineage --metrics hit@5,ndcg@5,hit@10,ndcg@10,hit@20,ndcg@20 --wall \
    --reference <(lineage_published) --output results/tables/lineage-beauty.md
fi
# The same under pessimistic ties, once Caser has results: a user whose ReLU outputs are all 0
# scores every item 0, which the reference's argpartition ranks as a miss (the lineage study,
# Caser); the other encoders do not tie, so their cells are the same.
if compgen -G "results/grids/lineage/Beauty/caser/*.json" > /dev/null; then
  $S table results/grids/lineage --metrics hit@5,ndcg@5,hit@10,ndcg@10,hit@20,ndcg@20 --other-ties --wall \
    --reference <(lineage_published) --output results/tables/lineage-beauty-pessimistic-ties.md
fi

# What BSARec's, FMLP-Rec's and Caser's encoders add (seqrec bench configs/grids/frequency-beauty.ini):
# each against SASRec trained on the same prefix examples with the same objective, per-user
# paired tests, with the pairs that have results on both sides (their published numbers: the
# lineage table above).
l=results/grids/lineage/Beauty
# encoders_table OUT [SEED]: every seed's runs, or with SEED that seed's runs only
encoders_table() {
  local out=$1 runs="${2:+seed$2-}*.json" rows=() pairs=() pair a b m f
  for pair in bsarec=sasrec-prefix-ce fmlprec=sasrec-prefix-bce caser=sasrec-prefix-bce; do
    a=${pair%=*} b=${pair#*=}
    compgen -G "$l/$a/$runs" > /dev/null && compgen -G "$l/$b/$runs" > /dev/null || continue
    pairs+=("$pair")
    for m in "$a" "$b"; do
      for f in "$l/$m"/$runs; do rows+=("$m=$f"); done
    done
  done
  if [ ${#pairs[@]} -gt 0 ]; then
    # shellcheck disable=SC2046  # one word per row
    $S table $(printf '%s\n' "${rows[@]}" | sort -u) --pairs "$(IFS=,; echo "${pairs[*]}")" \
      --metrics hit@10,ndcg@10,ndcg@20 --wall --output "$out"
  fi
}
encoders_table results/tables/encoders-beauty.md
# seed 1 of each alone: the lineage study's first comparison of each pair
encoders_table results/tables/encoders-beauty-seed1.md 1
# What the self-supervised objectives add to SASRec under its own settings: S3Rec's fine-tuning is
# configs/Beauty-sasrec-bce.ini with patience 10 and the pre-trained weights (against that config's
# patience-10 seeds, the Beauty head-to-head's); CL4SRec and CoSeRec keep patience 40 and add an
# InfoNCE term between two augmented views (against its patience-40 seeds, the four-dataset grid's);
# DuoRec against SASRec trained as DuoRec without its contrastive term, once that has results.
# Per-user paired tests.
if compgen -G "$l/cl4srec/*.json" > /dev/null && compgen -G "$l/coserec/*.json" > /dev/null &&
  compgen -G "$l/s3rec-finetune/*.json" > /dev/null && compgen -G "$l/s3rec-own-finetune/*.json" > /dev/null; then
  rows=("s3rec-finetune=$l/s3rec-finetune" "s3rec-own-finetune=$l/s3rec-own-finetune"
        "sasrec-bce-p10=results/grids/beauty-table/Beauty/sasrec-bce" "cl4srec=$l/cl4srec" "coserec=$l/coserec"
        "sasrec-bce-p40=results/grids/elecrec-table/Beauty/sasrec-bce")
  pairs=s3rec-finetune=sasrec-bce-p10,s3rec-own-finetune=sasrec-bce-p10,cl4srec=sasrec-bce-p40,coserec=sasrec-bce-p40
  if compgen -G "$l/sasrec-prefix-ce-duorec/*.json" > /dev/null; then
    rows+=("duorec=$l/duorec" "sasrec-prefix-ce-duorec=$l/sasrec-prefix-ce-duorec")
    pairs+=,duorec=sasrec-prefix-ce-duorec
  fi
  $S table "${rows[@]}" --pairs "$pairs" --metrics hit@10,ndcg@10,ndcg@20 --wall \
    --output results/tables/self-supervision-beauty.md
fi
# Caser's Beauty seeds that picked their best epoch under the optimistic tie rule (trained before
# Caser's configs set valid-ties = pessimistic), which the lineage study discusses: their published
# checks under both tie rules, and against the BCE twin.
o=results/grids/caser-optimistic-valid
if compgen -G "$o/Beauty/caser/*.json" > /dev/null; then
  for ties in "" --other-ties; do
    # shellcheck disable=SC2086  # no flag, or one
    $S table $o --metrics hit@5,ndcg@5,hit@10,ndcg@10,hit@20,ndcg@20 $ties --wall --reference <(lineage_published) \
      --output "results/tables/caser-optimistic-valid-beauty${ties:+-pessimistic-ties}.md"
  done
  $S table "caser=$o/Beauty/caser" "sasrec-prefix-bce=$l/sasrec-prefix-bce" --pairs caser=sasrec-prefix-bce \
    --metrics hit@10,ndcg@10,ndcg@20 --wall --output results/tables/caser-optimistic-valid-encoders-beauty.md
  $S table "caser=$(echo $o/Beauty/caser/seed1-*.json)" "sasrec-prefix-bce=$(echo $l/sasrec-prefix-bce/seed1-*.json)" \
    --pairs caser=sasrec-prefix-bce --metrics hit@10,ndcg@10,ndcg@20 --wall \
    --output results/tables/caser-optimistic-valid-encoders-beauty-seed1.md
fi
# Caser's window and objective (results/lineage/caser-variants/): Caser's configs with a 5-item
# window (--max-len 5 --examples prefixes) against its configs' seeds, with full-softmax CE
# against its BCE at the same window, and with CE at the configs' window against SASRec with CE
# (the CE twin: the same examples and objective, lr 0.0005 against Caser's 0.001; the twin's row
# shows its gain over Caser with CE); per-user paired tests.
v=results/lineage/caser-variants
if compgen -G "$v/caser-window5-seed*.json" > /dev/null && compgen -G "$l/caser/*.json" > /dev/null; then
  rows=("caser=$l/caser") vpairs=caser-window5=caser
  for m in caser-window5 caser-window5-ce caser-ce; do
    for f in "$v/$m"-seed*.json; do [ -f "$f" ] && rows+=("$m=$f"); done
  done
  compgen -G "$v/caser-window5-ce-seed*.json" > /dev/null && vpairs+=,caser-window5-ce=caser-window5
  if compgen -G "$v/caser-ce-seed*.json" > /dev/null; then
    vpairs+=,caser-ce=caser
    compgen -G "$l/sasrec-prefix-ce/*.json" > /dev/null &&
      rows+=("sasrec-prefix-ce=$l/sasrec-prefix-ce") vpairs+=,sasrec-prefix-ce=caser-ce
  fi
  $S table "${rows[@]}" --pairs "$vpairs" --metrics hit@10,ndcg@10,ndcg@20 --wall \
    --output results/tables/caser-variants-beauty.md
fi
# S3Rec fine-tuned from seqrec's own pre-training against the same fine-tuning from the released
# pre-training, per-user paired tests, once both have results.
if compgen -G "$l/s3rec-own-finetune/*.json" > /dev/null && compgen -G "$l/s3rec-finetune/*.json" > /dev/null; then
  $S table "s3rec-own-finetune=$l/s3rec-own-finetune" "s3rec-finetune=$l/s3rec-finetune" --baseline s3rec-finetune \
    --metrics hit@5,ndcg@5,hit@10,ndcg@10,hit@20,ndcg@20 --wall --output results/tables/s3rec-pretraining-beauty.md
fi

# ml-1m-u2999 (users 1-2999 of ML-1M) under leave-one-out and under the temporal split
# (seqrec bench configs/grids/ml-1m-u2999-{loo,temporal}.ini): accuracy with tests against
# SASRec+CCE, the shuffled-history check and exposure, one table per protocol.
for split in loo temporal; do
  g=results/grids/ml-1m-u2999-$split
  compgen -G "$g/*/*/*.json" > /dev/null || continue
  $S table $g --metrics hit@10,ndcg@10,ndcg@20 --baseline sasrec-cce --wall --output results/tables/ml-1m-u2999-$split.md
  $S table $g --metrics hit@10,ndcg@10 --history shuffled --output results/tables/ml-1m-u2999-$split-shuffled.md
  $S table $g --metrics ndcg@10,coverage@10,gini@10,avgpop@10,novelty@10 --output results/tables/ml-1m-u2999-$split-exposure.md
done
