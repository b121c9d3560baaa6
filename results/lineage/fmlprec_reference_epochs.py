"""Runs FMLP-Rec's own code (RUCAIBox/FMLP-Rec, main.py with --full_sort) for a few epochs on this machine, timing each epoch and validation, for seqrec's FMLP-Rec speed ratio and curve check.

Usage: /usr/bin/python3 results/lineage/fmlprec_reference_epochs.py FMLPREC_DIR DATA_DIR EPOCHS THREADS [main.py options...]
e.g.   ... /tmp/FMLP-Rec ../shared/data/ 2 1 --seed 1
or, to evaluate the released weights under full ranking:
       ... /tmp/FMLP-Rec ../shared/data/ 0 1 --do_eval --load_model FMLPRec-Beauty-4eval

main.py reads DATA_NAME_sample.txt (99 sampled negatives a user, used only by the sampled
protocol) even with --full_sort; the shared data has none, so the run reads a copy of the data
directory with a stand-in sample file (items 1-99 for every user), which full ranking never
uses. Checkpoints load onto the CPU (the released weights hold CUDA storages). Everything else
is the authors' code, unchanged, on the CPU (on the GPU with REFERENCE_DEVICE=cuda).
"""
import functools
import os
import sys

import torch

from reference_run import cpu_only, linked_data_with_sample_file, option, run_script, time_epochs

src, data_dir, epochs, threads = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.load = functools.partial(torch.load, map_location="cpu")
args = sys.argv[5:]
name = option(args, "--data_name", "Beauty")
copy = linked_data_with_sample_file(data_dir, name, "fmlprec-data-")
os.makedirs(os.path.join(src, "output"), exist_ok=True)

sys.path.insert(0, src)
import trainers  # noqa: E402  (the authors' module, from FMLPREC_DIR)

time_epochs(trainers.FMLPRecTrainer)
run_script(src, "main.py", ["--data_dir", copy + "/", "--epochs", str(epochs), *cpu_only(), "--full_sort"] + args)
