#pragma once
/// Negative samplers: draw the negatives of sampled losses. A sampler sees the positions'
/// representations and the item table, so model-generated negatives (GenNi, DNS) are
/// samplers like the uniform one and work with every sampled loss.
#include <torch/types.h>

#include <random>
#include <string>
#include <vector>

#include "seqrec/dataset.h"

namespace seqrec {

/// One batch's request: N packed positions, n negatives each.
struct SampleRequest {
  const std::vector<int64_t>& users;  ///< dataset row of each position
  torch::Tensor hidden;               ///< [N, d] representations (detached)
  torch::Tensor items;                ///< [item_size, d] item table (detached)
  torch::Tensor targets;              ///< [N] target items
  int64_t n;                          ///< negatives per position
};

/// Draws negatives for packed positions.
class NegativeSampler {
 public:
  virtual ~NegativeSampler() = default;
  /// Returns [N, n] int64 item ids (on the CPU or the request's device).
  virtual torch::Tensor sample(const SampleRequest& request, std::mt19937_64& rng) = 0;
  virtual std::string name() const = 0;
};

/// Uniform over ids 1..item_size-1 (the mask id included, as in the reference), rejecting
/// any item of the user's whole sequence: the reference SASRec/CoSeRec sampler.
class UniformSampler : public NegativeSampler {
 public:
  explicit UniformSampler(const Dataset& data);
  torch::Tensor sample(const SampleRequest& request, std::mt19937_64& rng) override;
  /// The same draw from users alone.
  torch::Tensor sample(const std::vector<int64_t>& users, int64_t n, std::mt19937_64& rng);
  std::string name() const override { return "uniform"; }

 private:
  const Dataset& data_;
  std::vector<std::vector<int32_t>> sorted_items_;  // per user, for rejection
};

}  // namespace seqrec
