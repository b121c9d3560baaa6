#pragma once
/// Model-generated negatives. GenNi (Chen et al., "Generating Negative Samples for Sequential
/// Recommendation", 2022) published its abstract only, no code: the sampler below is our
/// specification of it (docs in baselines/genni/README.md). DNS (dynamic negative sampling,
/// Zhang et al. 2013) is the classic comparison.
#include <torch/types.h>

#include "seqrec/config.h"
#include "seqrec/registry.h"
#include "seqrec/sampler.h"

namespace seqrec {

/// GenNi settings.
struct GenNiOptions {
  TORCH_ARG(double, alpha) = 1.0;          ///< q(j) ~ exp(alpha * s_j); 0 = uniform over the candidates
  TORCH_ARG(double, ratio) = 1.0;          ///< share of the catalogue drawn as candidates per batch
  TORCH_ARG(double, uniform_share) = 0.0;  ///< share of negatives drawn by the uniform sampler instead
  TORCH_ARG(int64_t, block) = 1024;        ///< positions scored together (bounds memory)
};

/// At every position, draws n negatives from softmax(alpha * h . M_C^T) over a fresh uniform
/// candidate set C (a share `ratio` of items 1..num_items, per batch), the target excluded,
/// with no gradient. Cost: one [N, |C|] product, so it falls linearly with `ratio`.
class GenNiSampler : public NegativeSampler {
 public:
  GenNiSampler(const Dataset& data, GenNiOptions o);
  torch::Tensor sample(const SampleRequest& request, std::mt19937_64& rng) override;
  std::string name() const override { return "genni"; }

 private:
  GenNiOptions options_;
  UniformSampler uniform_;
};

/// DNS: draws `candidates` uniform items per negative and keeps the best-scored one.
class DNSSampler : public NegativeSampler {
 public:
  DNSSampler(const Dataset& data, int64_t candidates) : candidates_(candidates), uniform_(data) {}
  torch::Tensor sample(const SampleRequest& request, std::mt19937_64& rng) override;
  std::string name() const override { return "dns"; }

 private:
  int64_t candidates_;
  UniformSampler uniform_;
};

/// Registers "uniform", "genni" and "dns" with their keys.

}  // namespace seqrec
