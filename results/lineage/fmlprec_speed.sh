#!/usr/bin/env bash
# Writes OUT (default results/lineage/fmlprec-speed/): Beauty epochs of seqrec's FMLP-Rec against
# FMLP-Rec's own code (RUCAIBox/FMLP-Rec, run by fmlprec_reference_epochs.py under Debian's
# python3-torch), seed 1, one thread each, interleaved (seqrec, the reference, seqrec again),
# EPOCHS epochs a run (default 1), and the machine's matmul rate beside them. Times compare only
# on an otherwise quiet machine.
# Usage: results/lineage/fmlprec_speed.sh FMLPREC_DIR [OUT]   (SEQREC_BIN, SEQREC_BENCH: the binaries; EPOCHS)
set -euo pipefail
cd "$(dirname "$0")/../.."
ref=${1:?usage: results/lineage/fmlprec_speed.sh FMLPREC_DIR}
bin=${SEQREC_BIN:-./build/seqrec}
bench=${SEQREC_BENCH:-./build/seqrec_bench}
out=${2:-results/lineage/fmlprec-speed}
epochs=${EPOCHS:-1}
data=$(cd ../shared/data && pwd)/
mkdir -p "$out"
for run in a reference b; do
  if [ "$run" = reference ]; then
    /usr/bin/python3 results/lineage/fmlprec_reference_epochs.py "$ref" "$data" "$epochs" 1 --seed 1 > "$out/reference-fmlprec.log" 2>&1
  else
    "$bin" train --config configs/Beauty-fmlprec.ini --epochs "$epochs" --threads 1 --test false --progress lines \
      --output "$out/seqrec-fmlprec-$run.json" > "$out/seqrec-fmlprec-$run.log" 2>&1
  fi
done
"$bench" --benchmark_filter='^BM_Matmul/4096/real_time$' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/matmul.json" --benchmark_out_format=json > /dev/null
