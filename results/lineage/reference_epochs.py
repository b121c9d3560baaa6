"""Runs ICLRec's own code (salesforce/ICLRec src/) for a few epochs on this machine, timing each epoch and validation, for seqrec's CL4SRec and ICLRec speed ratios and curve checks.

Usage: /usr/bin/python3 results/lineage/reference_epochs.py ICLREC_SRC DATA_DIR EPOCHS THREADS [main.py options...]
e.g.   ... /work/ref/src ../shared/data/ 2 1 --data_name Beauty --contrast_type InstanceCL --cf_weight 0.1 --seed 1

The code imports faiss (GPU k-means and index) at module level; Debian has no faiss, so a
stand-in module is installed first: its Clustering runs Lloyd's k-means in torch (k random
rows, niter iterations, nredo restarts kept by the least error; on later calls the nredo runs
go on one from another, starting from the centroids it holds, and empty clusters are split,
both as faiss does) and its index searches by L2. InstanceCL (CL4SRec)
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
        warm, c, best = self.centroids is not None, self.centroids, None
        for _ in range(max(1, self.nredo)):
            # faiss: each run from k random rows; holding centroids, each run from the last one's
            c = (c if warm else x[torch.randperm(x.shape[0], generator=g)[: self.k]]).clone()
            for _ in range(self.niter):
                a = torch.cdist(x, c).argmin(1)
                n = torch.bincount(a, minlength=self.k).float()
                c = torch.zeros_like(c).index_add_(0, a, x) / n.clamp_min(1).unsqueeze(1)
                split_empty(c, n, x.shape[0])
            err = torch.cdist(x, c).min(1).values.pow(2).sum().item()
            if best is None or err < best[0]:
                best = (err, c)
        self.centroids = best[1]
        index.centroids = best[1]


def split_empty(c, n, rows):
    """faiss's split_clusters: an empty cluster copies one drawn by a cyclic scan (probability
    (size - 1) / (rows - k), a generator seeded 1234 at every call), the two moved apart."""
    k, mt, eps = c.shape[0], np.random.RandomState(1234), 1 / 1024.  # RandomState(int): std::mt19937's stream
    for ci in range(k):
        if n[ci] != 0:
            continue
        cj = 0
        while not (np.float32(mt.randint(0, 2**32, dtype=np.uint32)) / np.float32(2**32 - 1)
                   < np.float32((n[cj].item() - 1.0) / float(np.float32(rows - k)))):
            cj = (cj + 1) % k
        sign = torch.tensor([1.0 if j % 2 == 0 else -1.0 for j in range(c.shape[1])])
        c[ci] = c[cj] * (1 + eps * sign)
        c[cj] = c[cj] * (1 - eps * sign)
        n[ci] = n[cj] / 2
        n[cj] -= n[ci]


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
