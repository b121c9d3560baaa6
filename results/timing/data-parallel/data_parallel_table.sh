#!/usr/bin/env bash
# Makes results/timing/data-parallel/README.md: 1 process against 2 ranks on Beauty, evaluation and training.
# Data parallel on this machine (results/timing/data-parallel/):
#  1. the released ELECRec Beauty checkpoint evaluated by 1 process and by `seqrec launch -n 2`:
#     the metrics and the rank file's checksum must be identical;
#  2. Beauty SASRec+CCE epochs: 1 process x 1 thread, 1 process x 2 threads, 2 ranks x 1 thread,
#     interleaved over `rounds` rounds (the machine's speed drifts), with the matmul rate;
#  3. with EPOCHS > 0, Beauty SASRec+CCE trained EPOCHS epochs by 1 process (seeds 1 and 2, side by
#     side) and by 2 ranks (seed 1): the validation curves, to set the ranks' difference beside
#     the seeds' (the 2-rank run is another draw of seed 1: its samplers and dropout differ).
# Needs both cores to itself: stop background runs first.
# Usage: results/timing/data-parallel/data_parallel_table.sh [BUILD] [ROUNDS] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
rounds=${2:-2}
epochs=${3:-0}
bin=$build/seqrec
out=results/timing/data-parallel
mkdir -p "$out"
ckpt=../shared/checkpoints/ELECRec-Beauty-0.pt
common=(--data ../shared/data/Beauty.txt --progress none)
"$bin" eval --checkpoint "$ckpt" "${common[@]}" --threads 1 --json "$out/eval-1.json" --ranks "$out/eval-1.ranks.h5" > /dev/null
"$bin" launch -n 2 -- eval --checkpoint "$ckpt" "${common[@]}" --threads 1 --json "$out/eval-2.json" \
  --ranks "$out/eval-2.ranks.h5" > /dev/null
train=(train --config configs/Beauty-sasrec-cce.ini "${common[@]}" --epochs 1 --test false)
for round in $(seq 1 "$rounds"); do
  OPENBLAS_NUM_THREADS=1 "$bin" "${train[@]}" --threads 1 --output "$out/epoch-1p1t-r$round.json" > /dev/null
  OPENBLAS_NUM_THREADS=2 "$bin" "${train[@]}" --threads 2 --output "$out/epoch-1p2t-r$round.json" > /dev/null
  "$bin" launch -n 2 -- "${train[@]}" --threads 1 --output "$out/epoch-2r1t-r$round.json" > /dev/null
done
if [[ $epochs -gt 0 ]]; then
  curve=(train --config configs/Beauty-sasrec-cce.ini "${common[@]}" --epochs "$epochs" --threads 1)
  OPENBLAS_NUM_THREADS=1 "$bin" "${curve[@]}" --seed 1 --output "$out/curve-1p-seed1.json" > /dev/null &
  OPENBLAS_NUM_THREADS=1 "$bin" "${curve[@]}" --seed 2 --output "$out/curve-1p-seed2.json" > /dev/null
  wait
  "$bin" launch -n 2 -- "${curve[@]}" --seed 1 --output "$out/curve-2r-seed1.json" > /dev/null
fi
matmul=$("$build/seqrec_bench" --benchmark_filter="BM_Matmul/" --benchmark_format=json 2>/dev/null |
  python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"]; print("%.1f" % b[0]["GFLOP/s"])' || echo "?")
python3 - "$out" "$rounds" "$matmul" <<'PY'
import json, sys
out, rounds, matmul = sys.argv[1], int(sys.argv[2]), sys.argv[3]
e1, e2 = (json.load(open(f"{out}/eval-{n}.json")) for n in (1, 2))
same = e1["metrics"] == e2["metrics"] and e1["ranks_fnv1a"] == e2["ranks_fnv1a"]
commits = {r["seqrec"]["commit"][:7] + ("+dirty" if r["seqrec"]["dirty"] else "") for r in (e1, e2)}
rows = ["| layout | " + " | ".join(f"round {i}" for i in range(1, rounds + 1)) + " | mean | vs 1 process x 1 thread |",
        "|---|" + "---:|" * (rounds + 2)]
means = {}
for tag, name in [("1p1t", "1 process x 1 thread"), ("1p2t", "1 process x 2 threads"), ("2r1t", "2 ranks x 1 thread")]:
    secs = []
    for i in range(1, rounds + 1):
        r = json.load(open(f"{out}/epoch-{tag}-r{i}.json"))
        commits.add(r["seqrec"]["commit"][:7] + ("+dirty" if r["seqrec"]["dirty"] else ""))
        secs.append(r["timing"]["epoch_seconds_mean"])
    means[tag] = sum(secs) / len(secs)
    rows.append(f"| {name} | " + " | ".join(f"{s:.1f} s" for s in secs) + f" | {means[tag]:.1f} s | "
                f"{means['1p1t'] / means[tag]:.2f}x |")
text = f"""# Data parallel on this machine

Made by `results/timing/data-parallel/data_parallel_table.sh` with seqrec {", ".join(sorted(commits))}; every number is in the
JSON beside this file. BM_Matmul at the end of the run: {matmul} GFLOP/s.

## Sharded evaluation equals one process

The released ELECRec Beauty checkpoint, test set, full ranking (`{e1["protocol"]["label"]}`):

| processes | HIT@10 | NDCG@10 | MRR | rank file FNV-1a |
|---|---:|---:|---:|---|
| 1 | {e1["metrics"]["hit@10"]:.6f} | {e1["metrics"]["ndcg@10"]:.6f} | {e1["metrics"]["mrr"]:.6f} | `{e1["ranks_fnv1a"]}` |
| 2 (`seqrec launch -n 2`) | {e2["metrics"]["hit@10"]:.6f} | {e2["metrics"]["ndcg@10"]:.6f} | {e2["metrics"]["mrr"]:.6f} | `{e2["ranks_fnv1a"]}` |

Every metric and the rank file identical: **{"yes" if same else "NO"}**.

## Beauty SASRec+CCE, one training epoch (configs/Beauty-sasrec-cce.ini, split batches)

Interleaved: each round runs the three layouts one after the other.

""" + "\n".join(rows) + "\n"
import os
if os.path.exists(f"{out}/curve-2r-seed1.json"):
    runs = [("1 process, seed 1", "curve-1p-seed1"), ("1 process, seed 2", "curve-1p-seed2"), ("2 ranks, seed 1", "curve-2r-seed1")]
    rs = [json.load(open(f"{out}/{f}.json")) for _, f in runs]
    n = len(rs[0]["curve"])
    marks = sorted({e for e in (1, n // 4, n // 2, 3 * n // 4, n) if e >= 1})
    text += (f"\n## Beauty SASRec+CCE, {n} epochs: validation NDCG@20 by epoch\n\n"
             "The 2-rank run takes the 1-process steps of the same global batches with other sampler and dropout "
             "streams; seed 2 of one process shows how far another draw moves the curve.\n\n"
             "| run | " + " | ".join(f"epoch {e}" for e in marks) + " | best | test NDCG@10 | epoch s |\n|---|" +
             "---:|" * (len(marks) + 3) + "\n")
    for (name, _), r in zip(runs, rs):
        commits.add(r["seqrec"]["commit"][:7] + ("+dirty" if r["seqrec"]["dirty"] else ""))
        v = {e["epoch"]: e["valid"]["ndcg@20"] for e in r["curve"] if e.get("valid")}
        text += (f"| {name} | " + " | ".join(f"{v[e]:.4f}" for e in marks) + f" | {r['valid_best']['ndcg@20']:.4f} @{r['best_epoch']} | "
                 f"{r['test']['ndcg@10']:.4f} | {r['timing']['epoch_seconds_mean']:.1f} |\n")
open(f"{out}/README.md", "w").write(text)
print(text)
PY
