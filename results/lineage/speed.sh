#!/usr/bin/env bash
# Beauty epochs of seqrec against each model's own code, for speed ratios and curve checks: seed 1,
# one thread each, interleaved per model (seqrec, the authors' code, seqrec again), EPOCHS epochs
# a run (default 1), then the machine's matmul rate. The authors' code runs under Debian's
# python3-torch through the driver beside this script that the model's entry below names;
# AUTHORS_SRC is that repository's folder:
#   cl4srec, iclrec          salesforce/ICLRec src/
#   coserec                  salesforce/CoSeRec src/
#   fmlprec                  RUCAIBox/FMLP-Rec
#   bsarec, caser, duorec    yehjin-shin/BSARec src/ (Caser and DuoRec: its trainer at 704a0d1)
#   s3rec-pretrain,          RUCAIBox/CIKM2020-S3Rec (its .py files); fine-tuning starts from the
#   s3rec-finetune           released ../shared/checkpoints/S3Rec-Beauty-epochs-150.pt in both
# Writes OUT/seqrec-MODEL-{a,b}.{json,log}, OUT/reference-MODEL.log and OUT/matmul.json.
# Times compare only on an otherwise quiet machine.
# Usage: results/lineage/speed.sh OUT MODEL=AUTHORS_SRC...   (SEQREC_BIN, SEQREC_BENCH: the binaries; EPOCHS)
# e.g.   results/lineage/speed.sh results/lineage/speed cl4srec=/tmp/ICLRec/src iclrec=/tmp/ICLRec/src
set -euo pipefail
# One BLAS thread in both programs: torch.set_num_threads leaves OpenBLAS's own threads (one
# per core by default, spinning between calls) as they are.
export OPENBLAS_NUM_THREADS=1
usage="usage: results/lineage/speed.sh OUT MODEL=AUTHORS_SRC..."
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
# Each model's driver, then the authors' options for Beauty with seqrec's settings.
declare -A reference=(
  [cl4srec]="reference_epochs.py --data_name Beauty --contrast_type InstanceCL --cf_weight 0.1 --seed 1"
  [iclrec]="reference_epochs.py --data_name Beauty --contrast_type Hybrid --cf_weight 0.1 --num_intent_clusters 256 --seq_representation_type mean --warm_up_epoches 0 --intent_cf_weight 0.1 --num_hidden_layers 1 --seed 1"
  [coserec]="coserec_reference_epochs.py --data_name Beauty --augment_threshold 12 --augmentation_warm_up_epoches 220 --augment_type_for_short SIMRC --insert_rate 0.5 --substitute_rate 0.05 --seed 1"
  [fmlprec]="fmlprec_reference_epochs.py --seed 1"
  [bsarec]="bsarec_reference_epochs.py --data_name Beauty --model_type BSARec --alpha 0.7 --c 5 --lr 0.0005 --num_attention_heads 1 --seed 1"
  [caser]="bsarec_reference_epochs.py --data_name Beauty --model_type caser --seed 1"
  [duorec]="bsarec_reference_epochs.py --data_name Beauty --model_type duorec --seed 1"
  [s3rec-pretrain]="s3rec_pretrain_reference.py --seed 1"
  [s3rec-finetune]="s3rec_finetune_reference.py --ckp 150 --seed 1")
out=$(realpath -m "$1")
shift
methods=() sources=()
for pair in "$@"; do
  method=${pair%%=*}
  [[ $pair == ?*=?* ]] || { echo "speed.sh: '$pair' is not MODEL=AUTHORS_SRC" >&2; exit 2; }
  [ -n "${reference[$method]:-}" ] || { echo "speed.sh: no authors' driver for '$method' (${!reference[*]})" >&2; exit 2; }
  [ -d "${pair#*=}" ] || { echo "speed.sh: ${pair#*=}: no such folder" >&2; exit 2; }
  methods+=("$method") sources+=("$(realpath "${pair#*=}")")
done
cd "$(dirname "$0")/../.."
bin=${SEQREC_BIN:-./build/seqrec}
bench=${SEQREC_BENCH:-./build/seqrec_bench}
epochs=${EPOCHS:-1}
data=$(cd ../shared/data && pwd)/
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The authors' code of a model on one thread, its log on standard output. Most drivers take
# AUTHORS_SRC DATA EPOCHS THREADS OPTIONS; S3Rec's take their own arguments.
reference_run() {  # METHOD AUTHORS_SRC
  local driver options
  read -r driver options <<<"${reference[$1]}"
  # shellcheck disable=SC2086  # the options are words
  case $1 in
    s3rec-pretrain)
      /usr/bin/python3 "results/lineage/$driver" --code "$2" --data-dir "$data" --epochs "$epochs" --threads 1 $options ;;
    s3rec-finetune)
      # run_finetune_full.py reads NAME.txt and NAME_item2attributes.json from one folder and
      # the pre-training from NAME-epochs-150.pt in its output folder.
      local dir="$scratch/s3rec-finetune"
      mkdir -p "$dir"
      ln -sf "${data}Beauty.txt" "${data}attributes/Beauty_item2attributes.json" "$dir/"
      ln -sf "$(realpath ../shared/checkpoints/S3Rec-Beauty-epochs-150.pt)" "$dir/Beauty-epochs-150.pt"
      /usr/bin/python3 "results/lineage/$driver" "$2" "$dir/" "$dir/" 1 --epochs "$epochs" $options ;;
    *)
      /usr/bin/python3 "results/lineage/$driver" "$2" "$data" "$epochs" 1 $options ;;
  esac
}
for i in "${!methods[@]}"; do
  method=${methods[$i]}
  for run in a reference b; do
    if [ "$run" = reference ]; then
      reference_run "$method" "${sources[$i]}" > "$out/reference-$method.log" 2>&1
    else
      # A config that saves its weights (S3Rec's pre-training) saves them to the scratch folder.
      save=()
      if grep -q '^save *=' "configs/Beauty-$method.ini"; then save=(--save "$scratch/seqrec-$method.pt"); fi
      "$bin" train --config "configs/Beauty-$method.ini" --epochs "$epochs" --threads 1 --test false --progress lines \
        "${save[@]}" --output "$out/seqrec-$method-$run.json" > "$out/seqrec-$method-$run.log" 2>&1
    fi
  done
done
"$bench" --benchmark_filter='^BM_Matmul/4096/real_time$' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/matmul.json" --benchmark_out_format=json > /dev/null
