"""Turns the output of s3rec_finetune_reference.py (the authors' run_finetune_full.py) into the CSV authors_curve.py reads: each epoch's rec_avg_loss and validation NDCG@20, epochs counted from 1; the test block after early stopping is left out.

Usage: /usr/bin/python3 results/lineage/s3rec_finetune_log.py REFERENCE_OUTPUT.log AUTHORS_LOG.csv
"""
import ast
import sys

source = ("# RUCAIBox/CIKM2020-S3Rec run_finetune_full.py (commit 2a81540), from the released S3Rec-Beauty-epochs-150.pt, "
          "seed 42, on this CPU (results/lineage/s3rec_finetune_reference.py): each epoch's rec_avg_loss and "
          "full-ranking validation NDCG@20, epochs counted from 1\n")
loss = {}
with open(sys.argv[2], "w") as out:
    out.write(source + "epoch,loss,valid_ndcg20\n")
    for line in open(sys.argv[1]):
        if "test_rating_matrix" in line:  # the test block after early stopping
            break
        if line.startswith("{'epoch'"):
            d = ast.literal_eval(line)
            loss[d["epoch"] + 1] = d["rec_avg_loss"]
        elif line.startswith("{'Epoch'"):
            d = ast.literal_eval(line)
            out.write(f"{d['Epoch'] + 1},{loss[d['Epoch'] + 1]},{d['NDCG@20']}\n")
