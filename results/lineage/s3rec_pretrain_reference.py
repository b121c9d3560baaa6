"""Runs S3Rec's own pre-training (aHuiWang/CIKM2020-S3Rec run_pretrain.py: AAP, MIP, MAP and SP) for a few epochs on this CPU, for the curve comparison with seqrec's S3Rec pre-training.

Usage (from the repository root):
  /usr/bin/python3 results/lineage/s3rec_pretrain_reference.py [--epochs 1] [--seed 42] [--threads 1]
      [--out PATH.jsonl] [--save PATH.pt] [--data-dir ../shared/data] [--data-name Beauty]
      [--code S3REC_DIR | --mirror GIT_DIR]
e.g.   ... --epochs 2 --out /tmp/s3rec-pretrain.jsonl --save /tmp/s3rec-pretrain-2.pt

The authors' code files (run_pretrain.py, models.py, modules.py, datasets.py, trainers.py,
utils.py) are taken from --code, or else exported from the newest commit of the git mirror
--mirror into a temporary folder; they are byte-identical to RUCAIBox/CIKM2020-S3Rec's. The run
is run_pretrain.py itself, unchanged, with --pre_epochs EPOCHS --seed SEED --no_cuda and all
its other defaults (hidden 64, 2 layers, 2 heads, dropouts 0.5, lr 1e-3, pre_batch_size 100,
mask_p 0.2, loss weights AAP 0.2 / MIP 1 / MAP 1 / SP 0.5). It reads a temporary data folder
holding links to DATA_DIR/NAME.txt and DATA_DIR/attributes/NAME_item2attributes.json (the
script wants both in one folder) and writes its log and every-10-epoch checkpoints to a
temporary output folder, removed at the end.

Each epoch prints, and writes as one JSON line to --out, the average of each of the four losses
exactly as the authors' PretrainTrainer.pretrain prints them (a loss's sum over the epoch's
batches divided by batches x pre_batch_size), the joint loss over the same divisor (which the
authors do not print), and the epoch's wall seconds (the whole pretrain() call: sample
generation, forward, backward and update). --save writes the final model's state dict with the
authors' Trainer.save. --max-batches N (smoke tests only) stops each epoch after N batches; the
divisor is then N x pre_batch_size.
"""
import argparse
import ast
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

from reference_run import run_script

CODE_FILES = ["run_pretrain.py", "models.py", "modules.py", "datasets.py", "trainers.py", "utils.py"]

p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
p.add_argument("--epochs", type=int, default=1, help="pre-training epochs (run_pretrain.py --pre_epochs)")
p.add_argument("--seed", type=int, default=42, help="run_pretrain.py --seed (the authors' default 42)")
p.add_argument("--threads", type=int, default=1, help="torch threads")
p.add_argument("--out", help="JSON lines output, one line per epoch")
p.add_argument("--save", help="write the final state dict here (the authors' Trainer.save)")
p.add_argument("--data-dir", default="../shared/data", help="holds NAME.txt and attributes/NAME_item2attributes.json")
p.add_argument("--data-name", default="Beauty")
p.add_argument("--code", help="a folder holding the authors' code files (instead of --mirror)")
p.add_argument("--mirror", default="/work/.mirror/aHuiWang+CIKM2020-S3Rec",
               help="git directory (or a folder holding repo/.git or repo) of aHuiWang/CIKM2020-S3Rec")
p.add_argument("--max-batches", type=int, help=argparse.SUPPRESS)  # smoke tests only
opt = p.parse_args()
out_path = os.path.abspath(opt.out) if opt.out else None
save_path = os.path.abspath(opt.save) if opt.save else None
data_dir = os.path.abspath(opt.data_dir)
torch.set_num_threads(opt.threads)

work = tempfile.mkdtemp(prefix="s3rec-pretrain-")
if opt.code:
    code = os.path.abspath(opt.code)
    commit = None
else:
    git_dir = next(d for d in (opt.mirror, os.path.join(opt.mirror, "repo", ".git"), os.path.join(opt.mirror, "repo"))
                   if os.path.isfile(os.path.join(d, "HEAD")))
    commit = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], text=True).strip()
    code = os.path.join(work, "code")
    os.makedirs(code)
    for name in CODE_FILES:
        with open(os.path.join(code, name), "wb") as f:
            f.write(subprocess.check_output(["git", "--git-dir", git_dir, "show", f"{commit}:{name}"]))
data = os.path.join(work, "data")
os.makedirs(data)
os.symlink(os.path.join(data_dir, opt.data_name + ".txt"), os.path.join(data, opt.data_name + ".txt"))
attributes = os.path.join(data_dir, "attributes", opt.data_name + "_item2attributes.json")
if not os.path.exists(attributes):
    attributes = os.path.join(data_dir, opt.data_name + "_item2attributes.json")
os.symlink(attributes, os.path.join(data, opt.data_name + "_item2attributes.json"))
print(f"reference-code {code}" + (f" (commit {commit})" if commit else ""), flush=True)

sys.path.insert(0, code)
import trainers  # noqa: E402  (the authors' module)


class Truncated:
    """The first N batches of a DataLoader, with len() N (smoke tests only)."""

    def __init__(self, loader, n):
        self.loader, self.n = loader, min(n, len(loader))

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.n)

    def __len__(self):
        return self.n


class Tee:
    """Passes writes on to a stream and keeps the lines written."""

    def __init__(self, stream):
        self.stream, self.text = stream, []

    def write(self, s):
        self.text.append(s)
        return self.stream.write(s)

    def flush(self):
        self.stream.flush()


pretrain = trainers.PretrainTrainer.pretrain
last = {}
if out_path:
    open(out_path, "w").close()


def timed_pretrain(self, epoch, pretrain_dataloader):
    """The authors' pretrain(), timed; the four losses the model returns are recorded as it runs."""
    samples = len(pretrain_dataloader.dataset)
    if opt.max_batches:
        pretrain_dataloader = Truncated(pretrain_dataloader, opt.max_batches)
    sums = [0.0, 0.0, 0.0, 0.0]
    model_pretrain = self.model.pretrain  # the authors' S3RecModel.pretrain, bound

    def recorded(*a, **k):
        losses = model_pretrain(*a, **k)
        for j, loss in enumerate(losses):
            sums[j] += loss.item()  # as pretrain() accumulates them: aap_loss_avg += aap_loss.item() ...
        return losses

    self.model.pretrain = recorded
    tee = Tee(sys.stdout)
    sys.stdout = tee
    t0 = time.perf_counter()
    try:
        pretrain(self, epoch, pretrain_dataloader)
    finally:
        seconds = time.perf_counter() - t0
        sys.stdout = tee.stream
        del self.model.pretrain
    a = self.args
    # pretrain()'s divisor: num = len(pretrain_data_iter) * self.args.pre_batch_size (tqdm's len is the loader's)
    num = len(pretrain_dataloader) * a.pre_batch_size
    aap, mip, map_, sp = (s / num for s in sums)
    # pretrain() never logs the joint loss; this is its joint_loss formula applied to the averages
    joint = a.aap_weight * aap + a.mip_weight * mip + a.map_weight * map_ + a.sp_weight * sp
    printed = [ast.literal_eval(line) for line in "".join(tee.text).splitlines() if line.startswith("{'epoch'")][-1]
    mine = {"aap_loss_avg": aap, "mip_loss_avg": mip, "map_loss_avg": map_, "sp_loss_avg": sp}
    assert printed["epoch"] == epoch and all(printed[k] == "{:.4f}".format(v) for k, v in mine.items()), (printed, mine)
    row = {"epoch": epoch + 1, "aap": aap, "mip": mip, "map": map_, "sp": sp, "joint": joint,
           "seconds": round(seconds, 3), "batches": len(pretrain_dataloader), "samples": samples, "seed": opt.seed}
    print(f"reference-pretrain epoch {epoch + 1} aap {aap:.4f} mip {mip:.4f} map {map_:.4f} sp {sp:.4f} "
          f"joint {joint:.4f} ({len(pretrain_dataloader)} batches, {seconds:.2f} s)", flush=True)
    if out_path:
        with open(out_path, "a") as f:
            f.write(json.dumps(row) + "\n")
    last["trainer"] = self


trainers.PretrainTrainer.pretrain = timed_pretrain
try:
    run_script(code, "run_pretrain.py", ["--data_dir", data + "/", "--output_dir", os.path.join(work, "output") + "/",
                                         "--data_name", opt.data_name, "--pre_epochs", str(opt.epochs),
                                         "--seed", str(opt.seed), "--no_cuda"])
    if save_path and "trainer" in last:
        last["trainer"].save(save_path)
        print(f"saved {save_path}", flush=True)
finally:
    shutil.rmtree(work)
