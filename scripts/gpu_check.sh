#!/usr/bin/env bash
# The GPU check, in one call on a GPU machine (about 8 minutes), or its CPU-checkable
# parts on any machine:
#  1. build seqrec and its tests against the LibTorch there (scripts/gpu_build.sh; here: BUILD);
#  2. the device tests, Cuda.* (fused CE whole and item-blocked, the evaluator, a training step,
#     each against the CPU; they skip without a GPU);
#  3. Beauty epochs of SASRec+CCE and ELECRec, packed and padded batches: EPOCHS epochs each, the
#     first a warm-up, validation only after the last; GPU utilisation sampled meanwhile;
#  4. the reference PyTorch ELECRec code (.gpu/ref: the authors' main.py, kept out of the repo)
#     timed for the same epochs on the same device (scripts/gpu/reference_epochs.py; on a CPU,
#     4 steps an epoch scaled to the epoch's 88);
#  5. results/timing/gpu-check/DEVICE.json and README-DEVICE.md: epoch seconds, utilisation, and
#     ELECRec's ratio to the reference from this run.
#     On a GPU both also run with --precision bf16 (autocast; the loss and evaluation in float).
# Usage: scripts/gpu_check.sh OUTDIR [EPOCHS]   (EPOCHS default 3 on a GPU, 1 on a CPU)
set -uo pipefail
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
t0=$(date +%s)
res=results/timing/gpu-check
mkdir -p $res
source scripts/gpu_build.sh
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
  device=cuda epochs=${2:-3}
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee $out/gpu.txt
  gpu_build $out ON || exit 1
  bin=$PWD/build-cuda/seqrec tests=$PWD/build-cuda/seqrec_tests threads=4
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -lms 500 > $out/gpu-util.csv &
  smi=$!
else
  device=cpu epochs=${2:-1}
  run() { "$@"; }
  bin=$PWD/${BUILD:-build}/seqrec tests=$PWD/${BUILD:-build}/seqrec_tests threads=1 smi=""
  echo "no GPU here: the CPU-checkable parts (device tests skip; $epochs epoch(s) on the CPU)"
fi
echo "built in $(( $(date +%s) - t0 )) s"
run $bin list | grep "^data-parallel backends" | tee $out/backends.txt
device_tests $tests $out
# name | config | extra arguments
cases=("sasrec-cce-packed|configs/Beauty-sasrec-cce.ini|--batching packed"
       "sasrec-cce-padded|configs/Beauty-sasrec-cce.ini|--batching padded"
       "elecrec-packed|configs/Beauty-elecrec.ini|--batching packed --elecrec.gen-loss-padding reference-weight"
       "elecrec-padded|configs/Beauty-elecrec.ini|--batching padded")
[[ $device == cuda ]] && cases+=("sasrec-cce-padded-bf16|configs/Beauty-sasrec-cce.ini|--batching padded --precision bf16"
                                 "elecrec-padded-bf16|configs/Beauty-elecrec.ini|--batching padded --precision bf16")
: > $out/spans.txt
for c in "${cases[@]}"; do
  IFS='|' read -r name config extra <<< "$c"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  run $bin train --config $config $extra --device $device --threads $threads --epochs $epochs --eval-every $epochs \
    --test false --progress none --output $out/$name.json > $out/$name.log 2>&1 || echo "$name failed: $(tail -1 $out/$name.log)"
  echo "$name $start $(date +%s.%N)" >> $out/spans.txt
done
# A python3 with PyTorch: the one on PATH, else the system's (Debian's python3-torch).
py=python3
python3 -c 'import torch' 2> /dev/null || py=/usr/bin/python3
if $py -c 'import torch' 2> /dev/null && [[ -d .gpu/ref ]]; then
  start=$(date +%s.%N)
  # A whole epoch on a GPU; on a CPU (about 15 s a step here) 4 steps, scaled to the epoch.
  OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads $py scripts/gpu/reference_epochs.py .gpu/ref ../shared/data Beauty $epochs $([[ $device == cpu ]] && echo 4 || echo 0) \
    $out/reference.json \
    $([[ $device == cpu ]] && echo --no_cuda) > $out/reference.log 2>&1 || echo "reference failed: $(tail -1 $out/reference.log)"
  echo "reference $start $(date +%s.%N)" >> $out/spans.txt
else
  echo "reference ELECRec not timed: no PyTorch for python3 or no .gpu/ref here"
fi
[[ -n $smi ]] && kill $smi
python3 - "$out" "$device" "$epochs" "$res" "$threads" <<'PY'
import datetime, json, os, sys
out, device, epochs, res, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
spans = {l.split()[0]: (float(l.split()[1]), float(l.split()[2])) for l in open(f"{out}/spans.txt")}
util = []
if os.path.exists(f"{out}/gpu-util.csv"):
    for line in open(f"{out}/gpu-util.csv"):
        parts = [p.strip() for p in line.split(",")]
        try:
            t = datetime.datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
            util.append((t, float(parts[1].split()[0])))
        except (ValueError, IndexError):
            pass
def mean_util(name):
    a, b = spans[name]
    xs = [u for t, u in util if a <= t <= b]
    return round(sum(xs) / len(xs), 1) if xs else None
def timed(seconds):  # the first epoch warms up (allocator, kernels) unless it is the only one
    return seconds[1:] if len(seconds) > 1 else seconds
rows, summary = [], {"device": device, "epochs": epochs, "threads": threads, "runs": {}}
if os.path.exists(f"{out}/gpu.txt"): summary["gpu"] = open(f"{out}/gpu.txt").read().strip()
if os.path.exists(f"{out}/backends.txt"): summary["data_parallel_backends"] = open(f"{out}/backends.txt").read().split(":")[-1].split()
for name in ["sasrec-cce-packed", "sasrec-cce-padded", "sasrec-cce-padded-bf16", "elecrec-packed", "elecrec-padded",
             "elecrec-padded-bf16"]:
    if not os.path.exists(f"{out}/{name}.json"): continue
    r = json.load(open(f"{out}/{name}.json"))
    s = timed([e["train_seconds"] for e in r["curve"]])
    summary["runs"][name] = {"epoch_seconds": sum(s) / len(s), "gpu_utilisation_percent": mean_util(name),
                             "commit": r["seqrec"]["commit"], "dirty": r["seqrec"]["dirty"], "config": r["config"]}
if os.path.exists(f"{out}/reference.json"):
    ref = json.load(open(f"{out}/reference.json"))
    s = timed(ref["epoch_seconds"])
    summary["runs"]["reference-elecrec"] = {"epoch_seconds": sum(s) / len(s), "gpu_utilisation_percent": mean_util("reference"),
                                            "torch": ref["torch"], "steps_per_epoch": ref["steps_per_epoch"],
                                            "steps_timed": ref["steps_timed"]}
    for name in ["elecrec-packed", "elecrec-padded", "elecrec-padded-bf16"]:
        if name in summary["runs"]:
            summary["runs"][name]["speedup_vs_reference"] = summary["runs"]["reference-elecrec"]["epoch_seconds"] / summary["runs"][name]["epoch_seconds"]
json.dump(summary, open(f"{res}/{device}.json", "w"), indent=2)
lines = [f"# GPU check ({device})", "", "Made by `scripts/gpu_check.sh`: Beauty, " + str(epochs) + " epoch(s) a run, the first a warm-up "
         "when there are more; validation only after the last; " + str(threads) + " CPU thread(s) for seqrec and for the "
         "reference's PyTorch. " + summary.get("gpu", "No GPU: the CPU-checkable parts, timed while other runs shared the CPU."), "",
         "| run | epoch s | GPU utilisation % | vs reference ELECRec |", "|---|---:|---:|---:|"]
for name, x in summary["runs"].items():
    lines.append(f"| {name} | {x['epoch_seconds']:.2f} | {x['gpu_utilisation_percent'] if x['gpu_utilisation_percent'] is not None else '-'} | "
                 f"{'%.2fx' % x['speedup_vs_reference'] if 'speedup_vs_reference' in x else '-'} |")
open(f"{res}/README-{device}.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "done in $(( $(date +%s) - t0 )) s"
