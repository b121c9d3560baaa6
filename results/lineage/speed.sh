#!/usr/bin/env bash
# Beauty epochs of seqrec against each model's own code, for speed ratios and curve checks: seed 1,
# one thread each, interleaved per model (seqrec, the authors' code, seqrec again), EPOCHS epochs
# a run (default 1), then the machine's matmul rate. The authors' code runs under Debian's
# python3-torch through the driver beside this script that names its repository:
#   cl4srec, iclrec   salesforce/ICLRec src/             reference_epochs.py
#   coserec           salesforce/CoSeRec src/            coserec_reference_epochs.py
#   fmlprec           RUCAIBox/FMLP-Rec                  fmlprec_reference_epochs.py
#   bsarec            yehjin-shin/BSARec src/            bsarec_reference_epochs.py
# Writes OUT/seqrec-MODEL-{a,b}.{json,log}, OUT/reference-MODEL.log and OUT/matmul.json.
# Times compare only on an otherwise quiet machine.
# Usage: results/lineage/speed.sh OUT MODEL=AUTHORS_SRC...   (SEQREC_BIN, SEQREC_BENCH: the binaries; EPOCHS)
# e.g.   results/lineage/speed.sh results/lineage/speed cl4srec=/tmp/iclrec/src iclrec=/tmp/iclrec/src
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: results/lineage/speed.sh OUT MODEL=AUTHORS_SRC...}
shift
bin=${SEQREC_BIN:-./build/seqrec}
bench=${SEQREC_BENCH:-./build/seqrec_bench}
epochs=${EPOCHS:-1}
data=$(cd ../shared/data && pwd)/
declare -A driver=([cl4srec]=reference_epochs.py [iclrec]=reference_epochs.py
  [coserec]=coserec_reference_epochs.py [fmlprec]=fmlprec_reference_epochs.py [bsarec]=bsarec_reference_epochs.py)
declare -A ref_args=(
  [cl4srec]="--data_name Beauty --contrast_type InstanceCL --cf_weight 0.1 --seed 1"
  [iclrec]="--data_name Beauty --contrast_type Hybrid --cf_weight 0.1 --num_intent_clusters 256 --seq_representation_type mean --warm_up_epoches 0 --intent_cf_weight 0.1 --num_hidden_layers 1 --seed 1"
  [coserec]="--data_name Beauty --augment_threshold 12 --augmentation_warm_up_epoches 220 --augment_type_for_short SIMRC --insert_rate 0.5 --substitute_rate 0.05 --seed 1"
  [fmlprec]="--seed 1"
  [bsarec]="--data_name Beauty --model_type BSARec --alpha 0.7 --c 5 --lr 0.0005 --num_attention_heads 1 --seed 1")
mkdir -p "$out"
for pair in "$@"; do
  method=${pair%%=*} ref=${pair#*=}
  [ -n "${driver[$method]:-}" ] || { echo "speed.sh: no authors' driver for '$method'" >&2; exit 2; }
  for run in a reference b; do
    if [ "$run" = reference ]; then
      /usr/bin/python3 "results/lineage/${driver[$method]}" "$ref" "$data" "$epochs" 1 ${ref_args[$method]} \
        > "$out/reference-$method.log" 2>&1
    else
      "$bin" train --config "configs/Beauty-$method.ini" --epochs "$epochs" --threads 1 --test false --progress lines \
        --output "$out/seqrec-$method-$run.json" > "$out/seqrec-$method-$run.log" 2>&1
    fi
  done
done
"$bench" --benchmark_filter='^BM_Matmul/4096/real_time$' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/matmul.json" --benchmark_out_format=json > /dev/null
