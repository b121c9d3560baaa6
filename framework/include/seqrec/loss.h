#pragma once
/// The loss interface. A loss sees the encoder's outputs at the positions it asked for,
/// already packed (no padding rows), so one loss works with every encoder.
#include <torch/types.h>

#include <string>

namespace seqrec {

struct Dataset;

/// Which positions a loss trains on.
enum class Positions {
  kAll,   ///< every real (non-padding) target position
  kLast,  ///< only the last position of each sequence
};

/// What the trainer hands a loss.
struct LossInput {
  torch::Tensor hidden;     ///< [N, d] representations at the chosen positions
  torch::Tensor targets;    ///< [N] int64 target items (never 0)
  torch::Tensor items;      ///< [item_size, d] item table (with gradient)
  torch::Tensor negatives;  ///< [N, n] int64 sampled negatives, when num_negatives() > 0
};

/// A training objective; returns the mean loss over the N positions.
class Loss {
 public:
  virtual ~Loss() = default;
  virtual torch::Tensor forward(const LossInput& in) = 0;
  /// Called once with the training data before the first forward (e.g. to count item
  /// popularity); most losses need nothing.
  virtual void prepare(const Dataset& /*data*/) {}
  virtual Positions positions() const { return Positions::kAll; }
  /// Negatives per position the trainer must sample (0: the loss needs none).
  virtual int64_t num_negatives() const { return 0; }
  virtual std::string name() const = 0;
};

}  // namespace seqrec
