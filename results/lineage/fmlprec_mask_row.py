"""What one more item row, ranked but never trained, does to FMLP-Rec's full-ranking test numbers.

seqrec's item tables have a mask row (num_items + 2 rows) that the FMLP-Rec, BSARec and Caser
authors' tables lack (max item + 1 rows). Under the reference protocol that row is ranked like
any item, so a model trained without ever touching it (BCE with uniform negatives) keeps it at its
initial draw, normal with std 0.02, and ranks it as one more competitor. This runs the authors'
own evaluation (main.py --full_sort --do_eval, unchanged) of a checkpoint with such a row
appended to the scores: none, a zero row, rows drawn with std 0.02 under seeds 1-3, and a control
drawn with std 20, which shows the appended row is ranked.

Usage: /usr/bin/python3 results/lineage/fmlprec_mask_row.py FMLPREC_DIR DATA_DIR CHECKPOINT_NAME
e.g.   ... ../FMLP-Rec ../shared/data/ FMLPRec-Beauty-4eval
"""
import functools
import os
import sys

import torch

from reference_run import linked_data_with_sample_file, run_script

src, data_dir, name = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
torch.set_num_threads(1)
torch.load = functools.partial(torch.load, map_location="cpu")
copy = linked_data_with_sample_file(data_dir, "Beauty", "fmlprec-data-")
sys.path.insert(0, src)
import scipy.sparse  # noqa: E402
import trainers  # noqa: E402
import utils  # noqa: E402

extra = {"row": None}
plain_scores = trainers.FMLPRecTrainer.predict_full
plain_matrix = utils.get_rating_matrix


def scores_with_row(self, seq_out):
    s = plain_scores(self, seq_out)
    return s if extra["row"] is None else torch.cat([s, seq_out @ extra["row"].unsqueeze(1)], 1)


def matrices_with_column(*args):  # the history matrices gain the extra column, never set
    return tuple(scipy.sparse.hstack([m, scipy.sparse.csr_matrix((m.shape[0], 1))]).tocsr() if extra["row"] is not None else m
                 for m in plain_matrix(*args))


trainers.FMLPRecTrainer.predict_full = scores_with_row
utils.get_rating_matrix = matrices_with_column  # main.py imports it from utils
for label, row in [("none (the authors' table)", None), ("zeros", torch.zeros(64))] + [
        (f"normal, std 0.02, seed {seed}", torch.randn(64, generator=torch.Generator().manual_seed(seed)) * 0.02)
        for seed in (1, 2, 3)] + [("normal, std 20, seed 1 (a control: a row that outranks the answer for many users)",
                                   torch.randn(64, generator=torch.Generator().manual_seed(1)) * 20)]:
    extra["row"] = row
    print(f"extra row: {label}", flush=True)
    run_script(src, "main.py", ["--data_dir", copy + "/", "--no_cuda", "--full_sort", "--do_eval", "--load_model", name])
