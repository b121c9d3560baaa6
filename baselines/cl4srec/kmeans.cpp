#include "baselines/cl4srec/kmeans.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "seqrec/error.h"

namespace seqrec {

std::pair<torch::Tensor, torch::Tensor> nearest_centroids(const torch::Tensor& x, const torch::Tensor& centroids) {
  // ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, in blocks of rows to bound memory.
  const int64_t n = x.size(0), block = 8192;
  torch::Tensor c_norm = centroids.pow(2).sum(1);
  torch::Tensor ids = torch::empty({n}, torch::kLong), dist = torch::empty({n}, x.options());
  for (int64_t b = 0; b < n; b += block) {
    torch::Tensor xb = x.slice(0, b, std::min(n, b + block));
    torch::Tensor d = (xb.pow(2).sum(1, true) - 2 * torch::mm(xb, centroids.t()) + c_norm.unsqueeze(0)).clamp_min(0);
    auto [best, at] = d.min(1);
    ids.slice(0, b, b + xb.size(0)).copy_(at);
    dist.slice(0, b, b + xb.size(0)).copy_(best);
  }
  return {ids, dist};
}

namespace {

/// One Lloyd run from `centroids` (modified in place); the final assignment and error.
KMeansResult lloyd(const torch::Tensor& x, torch::Tensor centroids, int64_t iterations, std::mt19937_64& rng) {
  const int64_t k = centroids.size(0), d = x.size(1);
  KMeansResult r;
  for (int64_t it = 0; it < iterations; ++it) {
    auto [ids, dist] = nearest_centroids(x, centroids);
    torch::Tensor sums = torch::zeros({k, d}, x.options()).index_add_(0, ids, x);
    torch::Tensor counts = torch::bincount(ids, {}, k).to(x.scalar_type());
    torch::Tensor moved = sums / counts.clamp_min(1).unsqueeze(1);
    // Empty clusters (faiss's split): take a cluster with probability by its size, share its
    // centroid, and push the two apart by 1/1024 of each coordinate.
    auto cnt = counts.accessor<float, 1>();
    std::vector<double> sizes(k);
    for (int64_t j = 0; j < k; ++j) sizes[j] = cnt[j];
    for (int64_t j = 0; j < k; ++j) {
      if (sizes[j] > 0) continue;
      std::discrete_distribution<int64_t> pick(sizes.begin(), sizes.end());
      const int64_t big = pick(rng);
      moved[j].copy_(moved[big] * (1 + 1.0 / 1024));
      moved[big].mul_(1 - 1.0 / 1024);
      sizes[j] = sizes[big] / 2;
      sizes[big] -= sizes[j];
    }
    centroids = moved;
  }
  auto [ids, dist] = nearest_centroids(x, centroids);
  r.centroids = centroids;
  r.assignment = ids;
  r.error = dist.to(torch::kDouble).sum().item<double>();
  return r;
}

}  // namespace

KMeansResult kmeans(const torch::Tensor& x_in, const KMeansOptions& o, const torch::Tensor& start) {
  torch::Tensor x = x_in.detach().to(torch::kFloat).contiguous();
  const int64_t n = x.size(0), k = o.clusters();
  if (k < 1 || n < k) throw Error("k-means: " + std::to_string(n) + " rows cannot make " + std::to_string(k) + " clusters");
  std::mt19937_64 rng(o.seed());
  KMeansResult best;
  if (start.defined()) {
    torch::Tensor from = start.detach().to(torch::kFloat).clone();
    for (int64_t r = 0; r < (o.chain_restarts() ? std::max<int64_t>(1, o.restarts()) : 1); ++r) {
      KMeansResult run = lloyd(x, from, o.iterations(), rng);
      from = run.centroids;
      if (!best.centroids.defined() || run.error < best.error) best = run;
    }
    return best;
  }
  std::vector<int64_t> rows(n);
  for (int64_t r = 0; r < std::max<int64_t>(1, o.restarts()); ++r) {
    std::iota(rows.begin(), rows.end(), 0);
    for (int64_t i = 0; i < k; ++i) std::swap(rows[i], rows[std::uniform_int_distribution<int64_t>(i, n - 1)(rng)]);
    torch::Tensor init = x.index_select(0, torch::tensor(std::vector<int64_t>(rows.begin(), rows.begin() + k)));
    KMeansResult run = lloyd(x, init, o.iterations(), rng);
    if (!best.centroids.defined() || run.error < best.error) best = run;
  }
  return best;
}

}  // namespace seqrec
