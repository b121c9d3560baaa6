"""Sets a seqrec run's epochs beside an authors' training log: each epoch's training loss and validation NDCG@20.

Usage: /usr/bin/python3 results/lineage/authors_curve.py SEQREC_RESULT.json AUTHORS_LOG.csv [EVERY]
e.g.   ... results/grids/lineage/Beauty/bsarec/seed1-41b83e2cb06f9ad6.json results/lineage/bsarec-first-epochs/authors-log.csv 5

AUTHORS_LOG.csv has the columns epoch, loss, valid_ndcg20 (epochs counted from 1; lines starting
with # are comments; valid_ndcg20 empty where the log's validation is not comparable). Prints a Markdown table of every EVERY-th epoch both runs reached (default
1), then the largest differences over all of them and each run's best validation epoch.
"""
import csv
import json
import sys

result, authors_csv = sys.argv[1], sys.argv[2]
every = int(sys.argv[3]) if len(sys.argv) > 3 else 1
ours = {e["epoch"]: (e["loss"], e["valid"]["ndcg@20"]) for e in json.load(open(result))["curve"]}
with open(authors_csv) as f:
    theirs = {int(r["epoch"]): (float(r["loss"]), float(r["valid_ndcg20"]) if r["valid_ndcg20"] else None)
              for r in csv.DictReader(line for line in f if not line.startswith("#"))}
common = sorted(set(ours) & set(theirs))
print("| epoch | loss, seqrec | loss, authors | difference | valid NDCG@20, seqrec | authors | difference |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for e in common:
    if e % every == 0 or e == 1:
        (lo, vo), (lt, vt) = ours[e], theirs[e]
        valid = f"{vt:.4f} | {vo - vt:+.4f}" if vt is not None else "– | –"
        print(f"| {e} | {lo:.4f} | {lt:.4f} | {100 * (lo / lt - 1):+.2f}% | {vo:.4f} | {valid} |")
loss_gap = max(abs(ours[e][0] / theirs[e][0] - 1) for e in common)
print(f"\nepochs 1-{common[-1]}: loss within {100 * loss_gap:.2f}%", end="")
validated = [e for e in common if theirs[e][1] is not None]
if validated:
    print(f", validation NDCG@20 within {max(abs(ours[e][1] - theirs[e][1]) for e in validated):.4f}", end="")
print()
for name, run in (("seqrec", ours), ("authors", theirs)):
    if all(v is None for _, v in run.values()):
        continue
    best = max(run, key=lambda e: (run[e][1], -e))
    print(f"{name}: best validation NDCG@20 {run[best][1]:.4f} at epoch {best} of {max(run)}")
