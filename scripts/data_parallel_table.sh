#!/usr/bin/env bash
# Data parallel on this machine (results/timing/data-parallel/):
#  1. the released ELECRec Beauty checkpoint evaluated by 1 process and by `seqrec launch -n 2`:
#     the metrics and the rank file's checksum must be identical;
#  2. Beauty SASRec+CCE epochs: 1 process x 1 thread, 1 process x 2 threads, 2 ranks x 1 thread,
#     interleaved over `rounds` rounds (the machine's speed drifts), with the matmul rate.
# Needs both cores to itself: stop background runs first. Usage: scripts/data_parallel_table.sh [BUILD] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-2}
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

Made by `scripts/data_parallel_table.sh` with seqrec {", ".join(sorted(commits))}; every number is in the
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
open(f"{out}/README.md", "w").write(text)
print(text)
PY
