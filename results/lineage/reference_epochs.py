"""Runs ICLRec's own code (salesforce/ICLRec src/) for a few epochs on this machine, timing each epoch and validation, for seqrec's CL4SRec and ICLRec speed ratios and curve checks.

Usage: /usr/bin/python3 results/lineage/reference_epochs.py ICLREC_SRC DATA_DIR EPOCHS THREADS [main.py options...]
e.g.   ... /work/ref/src ../shared/data/ 2 1 --data_name Beauty --contrast_type InstanceCL --cf_weight 0.1 --seed 1

The code imports faiss (GPU k-means and index) at module level; Debian has no faiss, so a
stand-in module is installed first: its Clustering runs Lloyd's k-means in torch (k random
rows, niter iterations, nredo restarts kept by the least error; warm-started from its
centroids on later calls, as faiss does) and its index searches by L2. InstanceCL (CL4SRec)
never calls it. gensim (imported for an unused item2vec model) is stubbed likewise. Everything
else is the authors' code, unchanged, on the CPU.
"""
import os
import sys
import types

import numpy as np
import torch

from reference_run import run_script, time_epochs

src, data_dir, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)


class Clustering:
    def __init__(self, d, k):
        self.d, self.k, self.niter, self.nredo, self.seed = d, k, 20, 1, 1234
        self.centroids = None

    def train(self, x, index):
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        g = torch.Generator().manual_seed(int(self.seed))
        starts = [self.centroids] if self.centroids is not None else [
            x[torch.randperm(x.shape[0], generator=g)[: self.k]] for _ in range(max(1, self.nredo))]
        best = None
        for c in starts:
            c = c.clone()
            for _ in range(self.niter):
                a = torch.cdist(x, c).argmin(1)
                s = torch.zeros_like(c).index_add_(0, a, x)
                n = torch.bincount(a, minlength=self.k).clamp_min(1).unsqueeze(1).float()
                c = torch.where(torch.bincount(a, minlength=self.k).unsqueeze(1) > 0, s / n, c)
            err = torch.cdist(x, c).min(1).values.pow(2).sum().item()
            if best is None or err < best[0]:
                best = (err, c)
        self.centroids = best[1]
        index.centroids = best[1]


class Index:
    def __init__(self, *args):
        self.centroids = None

    def search(self, x, k):
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        d, i = torch.cdist(x, self.centroids).topk(k, largest=False)
        return d.pow(2).numpy(), i.numpy()


faiss = types.ModuleType("faiss")
faiss.Clustering = Clustering
faiss.StandardGpuResources = lambda: types.SimpleNamespace(noTempMemory=lambda: None)
faiss.GpuIndexFlatConfig = lambda: types.SimpleNamespace()
faiss.GpuIndexFlatL2 = Index
faiss.vector_to_array = lambda c: c.numpy().reshape(-1)
sys.modules["faiss"] = faiss
sys.modules["gensim"] = types.ModuleType("gensim")  # imported for CoSeRec's item2vec, unused here

sys.path.insert(0, src)
import trainers  # noqa: E402

time_epochs(trainers.ICLRecTrainer)
os.makedirs("/tmp/iclrec-ref-output", exist_ok=True)
run_script(src, "main.py", ["--data_dir", data_dir, "--epochs", str(epochs), "--no_cuda",
                            "--output_dir", "/tmp/iclrec-ref-output/"] + sys.argv[5:])
