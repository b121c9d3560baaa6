#pragma once
/// Leave-one-out split and the batches the trainer and evaluator consume.
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "seqrec/dataset.h"

namespace seqrec {

/// Which part of the leave-one-out split.
enum class Stage { kTrain, kValid, kTest };

/// How training sequences are laid out in a batch.
/// kPadded: every batch is max_len wide (the reference layout).
/// kPacked: random batches, cut to the longest sequence in the batch.
/// kBucketed: like kPacked, but batches are drawn from length-sorted pools so widths are tight
///   (fast, but batch membership then correlates with length, which changes the optimisation).
/// kSplit: random batches as kPacked (the reference's batch membership and per-batch mean), each
///   encoded as a few length-sorted parts cut to their own widths: the reference's step at
///   nearly the bucketed cost.
enum class Batching { kPadded, kPacked, kBucketed, kSplit };
Batching batching_from_string(const std::string& s);

/// Left-padded sequences. Column c of a W-wide batch holds learned position id
/// `position_offset + c`, with position_offset = max_len - W, so a cut batch computes exactly
/// what the max_len-wide one does at the real positions.
struct Batch {
  torch::Tensor inputs;        ///< [B, W] int64, 0 = padding
  torch::Tensor targets;       ///< [B, W] int64 next-item targets (training only), 0 = padding
  std::vector<int64_t> users;  ///< dataset rows, one per batch row
  int64_t position_offset = 0;
  /// When non-empty, this batch is these parts (one optimisation step over all of them) and
  /// inputs/targets/users above are empty.
  std::vector<Batch> parts;
  int64_t width() const { return inputs.size(1); }
  /// The pieces to encode one by one: the parts, or the batch itself.
  std::vector<const Batch*> pieces() const {
    if (parts.empty()) return {this};
    std::vector<const Batch*> out;
    for (const Batch& p : parts) out.push_back(&p);
    return out;
  }
};

/// Range of a user's items that form the input of `stage` (before the max_len cut).
/// Train input: s[0..n-4]; valid: s[0..n-3]; test: s[0..n-2].
inline int64_t input_length(int64_t n, Stage stage) {
  return stage == Stage::kTrain ? n - 3 : stage == Stage::kValid ? n - 2 : n - 1;
}

/// Users' training examples: input s[0..n-4], targets s[1..n-3], last max_len positions.
class TrainBatcher {
 public:
  TrainBatcher(const Dataset& data, int64_t max_len, int64_t batch_size, Batching batching);
  /// One epoch's batches in random order (every user with a training target exactly once).
  std::vector<Batch> epoch(std::mt19937_64& rng) const;
  /// Number of (non-padding) target positions in one epoch.
  int64_t num_positions() const;
  int64_t num_users() const { return static_cast<int64_t>(users_.size()); }

 private:
  Batch make_batch(const std::vector<int64_t>& users, bool full_width) const;
  const Dataset& data_;
  int64_t max_len_, batch_size_;
  Batching batching_;
  std::vector<int64_t> users_;  // users with at least one training target
};

/// Evaluation examples for one stage: input, answer and history of every user.
struct EvalSet {
  Stage stage;
  std::vector<int64_t> users;    ///< dataset rows with an answer at this stage
  std::vector<int64_t> answers;  ///< the held-out item per user
  /// Input sequences (the whole history; the max_len cut happens when batching).
  std::vector<const int32_t*> history;
  std::vector<int64_t> history_len;
};
EvalSet make_eval_set(const Dataset& data, Stage stage);

/// Batch of eval inputs for users idx[0..] of `set`, left-padded to the longest.
Batch make_eval_batch(const EvalSet& set, const std::vector<int64_t>& idx, int64_t max_len);

}  // namespace seqrec
