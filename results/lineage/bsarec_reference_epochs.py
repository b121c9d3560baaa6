"""Runs a model of yehjin-shin/BSARec's repository (its src/main.py: BSARec and its ports of Caser, DuoRec, SASRec, FMLP-Rec, ...) for a few epochs on this machine, timing each epoch's training and validation, for seqrec's speed ratios and curve checks.

Usage: /usr/bin/python3 results/lineage/bsarec_reference_epochs.py BSAREC_SRC DATA_DIR EPOCHS THREADS [main.py options...]
e.g.   ... /tmp/bsarec/src ../shared/data/ 1 1 --model_type caser --seed 1

BSAREC_SRC is the repository's src/ folder. Caser and DuoRec need the version whose trainer
passes user ids and same-target examples to the models (commit 704a0d1; its model files at
b9d056b): the newest trainer calls calculate_loss(input_ids, answer), which theirs do not
accept. The run reads a copy of the data directory (the data file linked) and writes its log
and checkpoint to a fresh temporary folder, with no data-loading worker processes. For DuoRec
the copy also holds the same-target index the authors' code would otherwise build there (the
training prefixes grouped by their last item, in order): the code's own builder loops over
every item and prefix, and saves a ragged array that numpy 1.24 refuses to build. Everything
else is the authors' code, unchanged, on the CPU (on the GPU with REFERENCE_DEVICE=cuda).
"""
import os
import sys
import tempfile

import numpy as np
import torch

from reference_run import cpu_only, linked_data, option, run_script, time_epochs

src, data_dir, epochs, threads = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
args = sys.argv[5:]
torch.set_num_threads(threads)
name = option(args, "--data_name", "Beauty")
model = option(args, "--model_type", "bsarec").lower()
max_len = int(option(args, "--max_seq_length", 50))

copy = linked_data(data_dir, name, "bsarec-data-")
if model in ("duorec", "fearec"):
    prefixes = []
    with open(os.path.join(data_dir, name + ".txt")) as f:
        for line in f:
            seq = [int(i) for i in line.split()[1:]]
            window = seq[-(max_len + 2):-2]
            prefixes += [window[:i + 1] for i in range(len(window))]
    groups = [[] for _ in range(max(max(p) for p in prefixes) + 2)]
    for p in prefixes:
        groups[p[-1]].append(p)
    index = np.empty(len(groups), dtype=object)
    for i, group in enumerate(groups):
        index[i] = group
    np.save(os.path.join(copy, name + "_same_target.npy"), index, allow_pickle=True)
out = tempfile.mkdtemp(prefix="bsarec-output-")

sys.path.insert(0, src)
import trainers  # noqa: E402  (the authors' module, from BSAREC_SRC)

time_epochs(trainers.Trainer)
run_script(src, "main.py", ["--data_dir", copy + "/", "--output_dir", out + "/", "--train_name", "reference",
                            "--epochs", str(epochs), *cpu_only(), "--num_workers", "0"] + args)
