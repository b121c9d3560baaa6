#pragma once
/// Lloyd's k-means on the rows of a float tensor, as faiss's Clustering runs it for ICLRec:
/// centroids start at k distinct random rows (or at given centroids), each iteration assigns
/// every row to its nearest centroid by L2 and moves each centroid to its rows' mean; an empty
/// cluster takes half of a cluster drawn by size (faiss's split: the two centroids pushed
/// apart by a small relative step); `restarts` runs from random starts keep the one with the
/// least squared error. Seeded: the same inputs give the same centroids.
#include <torch/types.h>

#include <cstdint>

namespace seqrec {

struct KMeansOptions {
  TORCH_ARG(int64_t, clusters) = 256;
  TORCH_ARG(int64_t, iterations) = 20;
  TORCH_ARG(int64_t, restarts) = 5;
  TORCH_ARG(uint64_t, seed) = 1;
};

struct KMeansResult {
  torch::Tensor centroids;   ///< [k, d]
  torch::Tensor assignment;  ///< [n] int64: each row's nearest centroid
  double error = 0;          ///< sum of squared distances of the rows to their centroids
};

/// Nearest centroid of each row of x [n, d] by L2 (ties: the lower index), and its squared distance.
std::pair<torch::Tensor, torch::Tensor> nearest_centroids(const torch::Tensor& x, const torch::Tensor& centroids);

/// k-means of x [n, d] (n >= k). With `start` defined, one run from those centroids
/// (ICLRec reclusters every epoch from the last epoch's centroids) instead of the restarts.
KMeansResult kmeans(const torch::Tensor& x, const KMeansOptions& o, const torch::Tensor& start = {});

}  // namespace seqrec
