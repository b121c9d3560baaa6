#!/usr/bin/env python3
"""Times the reference ELECRec code (the authors' main.py, kept out of the repo in .gpu/ref)
for a few training epochs on this machine's device: only ELECITY.train is timed (the device
synchronised around it); validation is skipped. Writes one JSON.

Usage: reference_epochs.py REF_DIR DATA_DIR DATASET EPOCHS OUT.json [extra main.py arguments]
"""
import json
import os
import runpy
import sys
import tempfile
import time

ref, data_dir, dataset, epochs, out = sys.argv[1:6]
epochs = int(epochs)
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


def timed_train(self, epoch):
    sync()
    start = time.perf_counter()
    train(self, epoch)
    sync()
    seconds.append(time.perf_counter() - start)
    steps.append(len(self.train_dataloader))
    if len(seconds) == epochs:
        json.dump({"epoch_seconds": seconds, "steps_per_epoch": steps, "device": "cuda" if torch.cuda.is_available() else "cpu",
                   "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                   "torch": torch.__version__, "dataset": dataset, "arguments": sys.argv[6:]}, open(out, "w"), indent=2)
        sys.exit(0)


trainers.ELECITY.train = timed_train
trainers.ELECITY.valid = lambda self, epoch, full_sort=False: ([0.0], "")
output_dir = tempfile.mkdtemp(prefix="elecrec-ref-")
sys.argv = [os.path.join(ref, "main.py"), "--data_dir", data_dir.rstrip("/") + "/", "--data_name", dataset,
            "--output_dir", output_dir + "/", "--epochs", str(epochs)] + sys.argv[6:]
runpy.run_path(os.path.join(ref, "main.py"), run_name="__main__")
