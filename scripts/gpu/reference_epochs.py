#!/usr/bin/env python3
"""Times the reference ELECRec code (the authors' main.py, kept out of the repo in .gpu/ref)
for a few training epochs on this machine's device: only ELECITY.train is timed (the device
synchronised around it); validation is skipped. With STEPS > 0 each epoch stops after STEPS
batches and the JSON also gives the whole epoch's time at that rate. Writes one JSON.

Usage: reference_epochs.py REF_DIR DATA_DIR DATASET EPOCHS STEPS OUT.json [extra main.py arguments]
"""
import json
import os
import runpy
import sys
import tempfile
import time

ref, data_dir, dataset, epochs, max_steps, out = sys.argv[1:7]
epochs, max_steps = int(epochs), int(max_steps)
extra = sys.argv[7:]
sys.path.insert(0, ref)
try:
    import tqdm  # noqa: F401  (the reference's progress bars)
except ImportError:  # a bare PyTorch install: a pass-through stand-in
    import types
    sys.modules["tqdm"] = types.SimpleNamespace(tqdm=lambda iterable, **kwargs: iterable)
import torch  # noqa: E402
import trainers  # noqa: E402  (the reference's module)


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


seconds = []
steps = []
train = trainers.ELECITY.train


class FirstBatches:
    """The first `n` batches of a loader, with the loader's other attributes."""

    def __init__(self, loader, n):
        self.loader, self.n = loader, n

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if i == self.n:
                return
            yield batch

    def __len__(self):
        return min(self.n, len(self.loader))

    def __getattr__(self, name):
        return getattr(self.loader, name)


def timed_train(self, epoch):
    whole = len(self.train_dataloader)
    loader = self.train_dataloader
    if max_steps > 0:
        self.train_dataloader = FirstBatches(loader, max_steps)
    sync()
    start = time.perf_counter()
    train(self, epoch)
    sync()
    elapsed = time.perf_counter() - start
    self.train_dataloader = loader
    done = min(whole, max_steps) if max_steps > 0 else whole
    seconds.append(elapsed * whole / done)
    steps.append(done)
    if len(seconds) == epochs:
        json.dump({"epoch_seconds": seconds, "steps_timed": steps, "steps_per_epoch": whole, "device": "cuda" if torch.cuda.is_available() else "cpu",
                   "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                   "torch": torch.__version__, "dataset": dataset, "arguments": extra}, open(out, "w"), indent=2)
        sys.exit(0)


trainers.ELECITY.train = timed_train
trainers.ELECITY.valid = lambda self, epoch, full_sort=False: ([0.0], "")
output_dir = tempfile.mkdtemp(prefix="elecrec-ref-")
sys.argv = [os.path.join(ref, "main.py"), "--data_dir", data_dir.rstrip("/") + "/", "--data_name", dataset,
            "--output_dir", output_dir + "/", "--epochs", str(epochs)] + extra
runpy.run_path(os.path.join(ref, "main.py"), run_name="__main__")
