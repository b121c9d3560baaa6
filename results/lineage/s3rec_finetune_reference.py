"""Runs S3Rec's own fine-tuning (RUCAIBox/CIKM2020-S3Rec run_finetune_full.py) from the released pre-training for a few epochs on this CPU, for the curve comparison with seqrec's s3rec-finetune config.

Usage: /usr/bin/python3 results/lineage/s3rec_finetune_reference.py S3REC_DIR DATA_DIR OUTPUT_DIR THREADS [run_finetune_full.py options...]
DATA_DIR holds Beauty.txt and Beauty_item2attributes.json; OUTPUT_DIR holds Beauty-epochs-150.pt.
The released weights were saved from a GPU: torch.load is given map_location="cpu", the one
change to the authors' code; each epoch's training and validation are timed.
"""
import functools
import sys

import torch

from reference_run import run_script, time_epochs

code, data_dir, out_dir, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
torch.load = functools.partial(torch.load, map_location="cpu")
sys.path.insert(0, code)
import trainers  # noqa: E402


time_epochs(trainers.FinetuneTrainer)
run_script(code, "run_finetune_full.py", ["--data_dir", data_dir, "--output_dir", out_dir, "--no_cuda"] + sys.argv[5:])
