#!/usr/bin/env bash
# Writes OUT (default results/lineage/speed/): Beauty epochs of seqrec's CL4SRec and ICLRec against
# ICLRec's own code (salesforce/ICLRec src/, run by reference_epochs.py under Debian's
# python3-torch), seed 1, one thread each, interleaved (seqrec, the reference, seqrec again),
# EPOCHS epochs a run (default 2), and the machine's matmul rate beside them. Times compare only
# on an otherwise idle machine.
# Usage: results/lineage/speed.sh ICLREC_SRC [OUT]   (SEQREC_BIN, SEQREC_BENCH: the binaries; EPOCHS)
set -euo pipefail
cd "$(dirname "$0")/../.."
ref=${1:?usage: results/lineage/speed.sh ICLREC_SRC}
bin=${SEQREC_BIN:-./build/seqrec}
bench=${SEQREC_BENCH:-./build/seqrec_bench}
out=${2:-results/lineage/speed}
epochs=${EPOCHS:-2}
data=$(cd ../shared/data && pwd)/
mkdir -p "$out"
declare -A ref_args=(
  [cl4srec]="--data_name Beauty --contrast_type InstanceCL --cf_weight 0.1 --seed 1"
  [iclrec]="--data_name Beauty --contrast_type Hybrid --cf_weight 0.1 --num_intent_clusters 256 --seq_representation_type mean --warm_up_epoches 0 --intent_cf_weight 0.1 --num_hidden_layers 1 --seed 1")
for method in cl4srec iclrec; do
  for run in a reference b; do
    if [ "$run" = reference ]; then
      /usr/bin/python3 results/lineage/reference_epochs.py "$ref" "$data" "$epochs" 1 ${ref_args[$method]} > "$out/reference-$method.log" 2>&1
    else
      "$bin" train --config "configs/Beauty-$method.ini" --epochs "$epochs" --threads 1 --test false --progress lines \
        --output "$out/seqrec-$method-$run.json" > "$out/seqrec-$method-$run.log" 2>&1
    fi
  done
done
"$bench" --benchmark_filter='^BM_Matmul/4096/real_time$' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/matmul.json" --benchmark_out_format=json > /dev/null
