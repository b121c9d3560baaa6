#pragma once
/// Negative samplers: draw items a user did not interact with, for sampled losses.
#include <torch/types.h>

#include <random>
#include <vector>

#include "seqrec/dataset.h"

namespace seqrec {

/// Draws negatives for packed positions.
class NegativeSampler {
 public:
  virtual ~NegativeSampler() = default;
  /// `users` [N] (dataset rows, one per position); returns [N, n] int64 item ids.
  virtual torch::Tensor sample(const std::vector<int64_t>& users, int64_t n, std::mt19937_64& rng) = 0;
};

/// Uniform over ids 1..item_size-1 (the mask id included, as in the reference), rejecting
/// any item of the user's whole sequence: the reference SASRec/CoSeRec sampler.
class UniformSampler : public NegativeSampler {
 public:
  explicit UniformSampler(const Dataset& data);
  torch::Tensor sample(const std::vector<int64_t>& users, int64_t n, std::mt19937_64& rng) override;

 private:
  const Dataset& data_;
  std::vector<std::vector<int32_t>> sorted_items_;  // per user, for rejection
};

}  // namespace seqrec
