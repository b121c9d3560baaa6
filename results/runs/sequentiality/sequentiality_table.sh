#!/usr/bin/env bash
# Makes results/runs/sequentiality/README.md: the released ELECRec checkpoints on shuffled test histories.
# The sequentiality check on the released ELECRec checkpoints (README, "Is the data
# sequential?"): each test history as recorded, permuted within the model's input, and
# permuted with the last item kept last; writes results/runs/sequentiality/*.json and the
# table README.md there from them.
# Run: bash results/runs/sequentiality/sequentiality_table.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=${1:-build}/seqrec
out=results/runs/sequentiality
mkdir -p "$out"
for ds in Beauty Toys_and_Games; do
  for order in original shuffled shuffled-keep-last; do
    args=(--history-order "${order%-keep-last}")
    [[ $order == *keep-last ]] && args+=(--history-order.keep-last true)
    "$bin" eval --checkpoint "../shared/checkpoints/ELECRec-$ds-0.pt" --data "../shared/data/$ds.txt" --threads 1 \
      --progress none "${args[@]}" --json "$out/ELECRec-$ds-$order.json" > /dev/null
  done
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = ["| dataset | history order | HIT@10 | NDCG@10 | MRR | change in NDCG@10 | coverage@10 | gini@10 |",
        "|---|---|---:|---:|---:|---:|---:|---:|"]
commits = set()
for ds in ["Beauty", "Toys_and_Games"]:
    base = None
    for order in ["original", "shuffled", "shuffled-keep-last"]:
        r = json.load(open(f"{out}/ELECRec-{ds}-{order}.json"))
        m = r["metrics"]
        commits.add(r["seqrec"]["commit"][:7] + ("+dirty" if r["seqrec"]["dirty"] else ""))
        base = base or m["ndcg@10"]
        rows.append(f"| {ds} | {order} | {m['hit@10']:.4f} | {m['ndcg@10']:.4f} | {m['mrr']:.4f} | "
                    f"{100 * (m['ndcg@10'] / base - 1):+.1f}% | {m['coverage@10']:.4f} | {m['gini@10']:.4f} |")
text = ("# Is the data sequential? The released ELECRec checkpoints with shuffled histories\n\n"
        "Test set, full ranking, reference protocol (`" + r["protocol"]["label"].rsplit("/", 1)[0] + "`); each history "
        "permuted within the model's input window (the last 50 items), seeded per user (`--seed 1`); keep-last pins "
        "the last item. Made by `results/runs/sequentiality/sequentiality_table.sh` with seqrec " + ", ".join(sorted(commits)) +
        "; every number is in the JSON beside this file.\n\n" + "\n".join(rows) + "\n")
open(f"{out}/README.md", "w").write(text)
print(text)
PY
