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

/// faiss's split_clusters: each empty cluster scans the clusters cyclically from the first,
/// with a generator seeded 1234 at every call, until it draws one with probability
/// (size - 1) / (n - k); it takes a copy of that centroid, and the two move apart by 1/1024
/// of each coordinate, in alternating directions; the donor's count is shared between them.
void split_empty_clusters(torch::Tensor& centroids, std::vector<float> sizes, int64_t n) {
  const int64_t k = centroids.size(0), d = centroids.size(1);
  constexpr double kEps = 1 / 1024.;
  std::mt19937 rng(1234);
  auto c = centroids.accessor<float, 2>();
  for (int64_t ci = 0; ci < k; ++ci) {
    if (sizes[ci] != 0) continue;
    int64_t cj = 0;
    for (;; cj = (cj + 1) % k) {
      const float p = (sizes[cj] - 1.0) / static_cast<float>(n - k);
      if (rng() / static_cast<float>(rng.max()) < p) break;
    }
    for (int64_t t = 0; t < d; ++t) {
      c[ci][t] = c[cj][t];
      c[ci][t] *= t % 2 == 0 ? 1 + kEps : 1 - kEps;
      c[cj][t] *= t % 2 == 0 ? 1 - kEps : 1 + kEps;
    }
    sizes[ci] = sizes[cj] / 2;
    sizes[cj] -= sizes[ci];
  }
}

/// One Lloyd run from `centroids`; the final assignment and error, and the objective of its
/// last iteration's assignment.
KMeansResult lloyd(const torch::Tensor& x, torch::Tensor centroids, int64_t iterations) {
  const int64_t k = centroids.size(0), d = x.size(1);
  KMeansResult r;
  for (int64_t it = 0; it < iterations; ++it) {
    auto [ids, dist] = nearest_centroids(x, centroids);
    r.objective = dist.to(torch::kDouble).sum().item<double>();
    torch::Tensor sums = torch::zeros({k, d}, x.options()).index_add_(0, ids, x);
    torch::Tensor counts = torch::bincount(ids, {}, k).to(torch::kFloat);
    centroids = (sums * counts.clamp_min(1).reciprocal().unsqueeze(1)).contiguous();  // faiss: c *= 1 / count
    if (counts.eq(0).any().item<bool>())
      split_empty_clusters(centroids, std::vector<float>(counts.data_ptr<float>(), counts.data_ptr<float>() + k),
                           x.size(0));
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
  // From given centroids: one run, or the restarts chained; else the restarts from random rows.
  const bool warm = start.defined();
  const int64_t runs = warm && !o.chain_restarts() ? 1 : std::max<int64_t>(1, o.restarts());
  torch::Tensor from = warm ? start.detach().to(torch::kFloat).clone() : torch::Tensor();
  std::mt19937_64 rng(o.seed());
  std::vector<int64_t> rows(n);
  KMeansResult best;
  for (int64_t r = 0; r < runs; ++r) {
    if (!warm) {
      std::iota(rows.begin(), rows.end(), 0);
      for (int64_t i = 0; i < k; ++i) std::swap(rows[i], rows[std::uniform_int_distribution<int64_t>(i, n - 1)(rng)]);
      from = x.index_select(0, torch::tensor(std::vector<int64_t>(rows.begin(), rows.begin() + k)));
    }
    KMeansResult run = lloyd(x, from, o.iterations());
    if (warm) from = run.centroids;
    if (!best.centroids.defined() || run.objective < best.objective) best = run;
  }
  return best;
}

}  // namespace seqrec
