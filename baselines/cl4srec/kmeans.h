#pragma once
/// Lloyd's k-means on the rows of a float tensor, as faiss's Clustering runs it for ICLRec:
/// centroids start at k distinct random rows (or at given centroids), each iteration assigns
/// every row to its nearest centroid by L2 and moves each centroid to its rows' mean; an empty
/// cluster takes half of another, as faiss's split_clusters does (a cyclic scan from the first
/// cluster, each taken with probability (size - 1) / (n - k), a generator seeded 1234 at every
/// call); of `restarts` runs from random starts, the one whose last assignment had the least
/// squared error is kept, as faiss keeps it. Seeded: the same inputs give the same centroids.
#include <torch/types.h>

#include <cstdint>

namespace seqrec {

struct KMeansOptions {
  TORCH_ARG(int64_t, clusters) = 256;
  TORCH_ARG(int64_t, iterations) = 20;
  TORCH_ARG(int64_t, restarts) = 5;
  TORCH_ARG(uint64_t, seed) = 1;
  /// From given centroids: false, one run of `iterations`; true, `restarts` runs one after
  /// another, each from where the last ended, the least objective kept (faiss's Clustering when
  /// it holds centroids already, as ICLRec's later epochs call it: restarts x iterations).
  TORCH_ARG(bool, chain_restarts) = false;
};

struct KMeansResult {
  torch::Tensor centroids;   ///< [k, d]
  torch::Tensor assignment;  ///< [n] int64: each row's nearest centroid
  double error = 0;          ///< sum of squared distances of the rows to their centroids
  double objective = 0;      ///< faiss's: that sum at the last iteration's assignment, before its update
};

/// Nearest centroid of each row of x [n, d] by L2 (ties: the lower index), and its squared distance.
std::pair<torch::Tensor, torch::Tensor> nearest_centroids(const torch::Tensor& x, const torch::Tensor& centroids);

/// k-means of x [n, d] (n >= k). With `start` defined, runs from those centroids (ICLRec
/// reclusters every epoch from the last epoch's centroids; see chain_restarts) instead of
/// the random restarts.
KMeansResult kmeans(const torch::Tensor& x, const KMeansOptions& o, const torch::Tensor& start = {});

}  // namespace seqrec
