#!/usr/bin/python3
# Makes results/protocol/history-only-reference.txt: a history-only scorer under the reference protocol.
"""What the reference's full-ranking evaluation gives a scorer that knows only the history.

The reference evaluator (ELECRec/S3Rec code base) sets the scores of a user's history items
to 0, not to minus infinity (README, "The protocol, and its switches"). A model whose scores
are below 0 for every other item therefore ranks the history first, and its only hits are
answers that repeat a history item. This script scores every item with a random negative
number, sets the history to 0, and ranks the way the reference does (numpy argpartition of
the top 20, then a descending argsort of those 20, per batch of 256 users); HIT@K counts the
answer among the first K, NDCG@K adds 1/log2(position + 2). It also prints the two bounds
the tie order sits between: every repeated answer first among the tied history items
(optimistic) and last (pessimistic).

Needs Debian's python3-numpy. Usage: history_only_reference.py DATA.txt [--split test|valid]
[--seed N]
"""
import argparse
import math

import numpy as np


def read(path):
    seqs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            seqs.append([int(x) for x in parts[1:]])
    return seqs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--split", choices=["test", "valid"], default="test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()

    seqs = read(a.data)
    item_size = max(max(s) for s in seqs) + 2  # rows 0 (padding) .. max_item + 1 (mask)
    cut = 1 if a.split == "test" else 2        # history s[0 .. n-2] (test) or s[0 .. n-3]
    rng = np.random.default_rng(a.seed)
    ks = (5, 10, 20)
    hit = dict.fromkeys(ks, 0.0)
    ndcg = dict.fromkeys(ks, 0.0)
    ties = []  # per repeated answer: the number of distinct history items it is tied with
    for b0 in range(0, len(seqs), a.batch):
        batch = seqs[b0:b0 + a.batch]
        # float32 like the reference's scores; strictly negative, so the history's 0 is the top
        scores = -rng.uniform(0.01, 1.0, size=(len(batch), item_size)).astype(np.float32)
        for r, s in enumerate(batch):
            scores[r, s[:-cut]] = 0.0
            if s[-cut] in s[:-cut]:
                ties.append(len(set(s[:-cut])))
        rows = np.arange(len(batch))[:, None]
        top = np.argpartition(scores, -20)[:, -20:]
        ranked = top[rows, np.argsort(scores[rows, top])[:, ::-1]]
        for r, s in enumerate(batch):
            where = np.nonzero(ranked[r] == s[-cut])[0]
            for k in ks:
                if where.size and where[0] < k:
                    hit[k] += 1.0
                    ndcg[k] += 1.0 / math.log2(where[0] + 2)
    n = len(seqs)
    print(f"{a.data} ({a.split}): {n} users, {item_size} item rows, answers repeating a history item "
          f"{len(ties)} ({len(ties) / n:.4f})")
    print(f"{'rule':<32}" + "  ".join(f"HIT@{k} NDCG@{k}" for k in ks))

    def row(name, h, g):
        print(f"{name:<32}" + "  ".join(f"{h[k] / n:.4f} {g[k] / n:.4f}".ljust(len(f"HIT@{k} NDCG@{k}")) for k in ks))

    row("reference (numpy tie order)", hit, ndcg)
    first = {k: float(len(ties)) for k in ks}  # rank 0 among the tied history items
    row("bound: repeats first of ties", first, first)
    # rank d - 1: after the answer's d - 1 distinct companions at 0
    last_hit = {k: float(sum(1 for d in ties if d - 1 < k)) for k in ks}
    last_ndcg = {k: sum(1.0 / math.log2(d + 1) for d in ties if d - 1 < k) for k in ks}
    row("bound: repeats last of ties", last_hit, last_ndcg)


if __name__ == "__main__":
    main()
