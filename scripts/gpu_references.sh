#!/usr/bin/env bash
# A GPU machine's reference runs for the lineage on Beauty: the authors' own code, unchanged, to
# early stop, side by side on one GPU under the machine's PyTorch, seed 42 (both repositories'
# default), for the models with no readable published number on seqrec's protocol (Caser and
# DuoRec as yehjin-shin/BSARec ports them, FMLP-Rec with --full_sort) and for BSARec itself with
# the settings of the log behind its published numbers. Each run's log (per-epoch loss and
# validation, then the test score) lands in OUTDIR; a run still going at the deadline is stopped
# and its log keeps the epochs it finished.
# Usage: scripts/gpu_references.sh OUTDIR SECONDS   (SECONDS: wall-clock budget for the whole script;
#   PYTHON: the interpreter with PyTorch, python3 by default; REFERENCE_DEVICE=cpu to try it here)
# Prepared on the Debian machine (.gpu is git-ignored; name .gpu in the run's carry):
#   mkdir -p .gpu/data .gpu/ref-lineage && cp ../shared/data/Beauty.txt .gpu/data/
#   .gpu/ref-lineage/BSARec-src: BSARec's src/ with the trainer of 704a0d1 and the model files of
#     b9d056b (results/lineage/bsarec_reference_epochs.py says why)
#   .gpu/ref-lineage/FMLP-Rec: RUCAIBox/FMLP-Rec at f3c4285 (its *.py files)
set -uo pipefail
out=$1 budget=$2 t0=$(date +%s)
mkdir -p "$out"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt"
${PYTHON:-python3} -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)' > "$out/python.txt"
export REFERENCE_DEVICE=${REFERENCE_DEVICE:-cuda} PYTHONUNBUFFERED=1 TQDM_DISABLE=1  # no progress bars in the logs
ref=$PWD/.gpu/ref-lineage data=$PWD/.gpu/data/ drivers=$PWD/results/lineage
stop=$((budget - 15))
reference() {  # NAME DRIVER CODE_DIR [options...]
  local name=$1 driver=$2 code=$3
  shift 3
  timeout -k 5 $stop ${PYTHON:-python3} "$drivers/$driver" "$code" "$data" 200 2 "$@" > "$out/$name.log" 2>&1
  echo "$name: exit $? after $(($(date +%s) - t0)) s" >> "$out/status.txt"
}
reference bsarec bsarec_reference_epochs.py "$ref/BSARec-src" --model_type bsarec --lr 0.0005 --alpha 0.7 --c 5 --num_attention_heads 1 &
reference caser bsarec_reference_epochs.py "$ref/BSARec-src" --model_type caser &
reference duorec bsarec_reference_epochs.py "$ref/BSARec-src" --model_type duorec &
reference fmlprec fmlprec_reference_epochs.py "$ref/FMLP-Rec" &
wait
cat "$out/status.txt"
# The last validation and the test score of each (BSARec's port logs "Test Score"; FMLP-Rec prints a dict per evaluation).
for f in "$out"/{bsarec,caser,duorec,fmlprec}.log; do
  echo "== $f"
  grep -E "Test Score|HIT@20|'HIT@5'" "$f" | tail -3
done
