"""Runs CoSeRec's own code (salesforce/CoSeRec src/) for a few epochs on this machine, timing each epoch's training and validation and the offline item similarity, for seqrec's CoSeRec speed ratio and curve check.

Usage: /usr/bin/python3 results/lineage/coserec_reference_epochs.py COSEREC_SRC DATA_DIR EPOCHS THREADS [main.py options...]
e.g.   ... /tmp/coserec/src ../shared/data/ 2 1 --data_name Beauty --augment_threshold 12 \
           --augmentation_warm_up_epoches 220 --augment_type_for_short SIMRC --insert_rate 0.5 \
           --substitute_rate 0.05 --seed 1

The code saves its ItemCF-IUF similarity beside the data file, so the run reads a fresh
temporary folder holding a link to the data file, and writes its log and checkpoint there too.
gensim (imported for the Item2Vec similarity, unused with ItemCF-IUF) is stubbed. Everything
else is the authors' code, unchanged, on the CPU.
"""
import os
import sys
import time
import types

import torch

from reference_run import linked_data, option, run_script, time_epochs

src, data_dir, epochs, threads = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
args = sys.argv[5:]
torch.set_num_threads(threads)
name = option(args, "--data_name", "Sports_and_Outdoors")

sys.modules["gensim"] = types.ModuleType("gensim")
sys.path.insert(0, src)
import models  # noqa: E402
import trainers  # noqa: E402

generate = models.OfflineItemSimilarity._generate_item_similarity


def timed_generate(self, *a, **k):
    t0 = time.perf_counter()
    generate(self, *a, **k)
    print(f"reference-timing similarity {time.perf_counter() - t0:.2f} s", flush=True)


models.OfflineItemSimilarity._generate_item_similarity = timed_generate
time_epochs(trainers.CoSeRecTrainer)
work = linked_data(data_dir, name, "coserec-ref-")
run_script(src, "main.py", ["--data_dir", work + "/", "--output_dir", work + "/", "--epochs", str(epochs),
                            "--no_cuda"] + args)
