#pragma once
/// The batches the trainer and evaluator consume, from a dataset and its split.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "seqrec/config.h"
#include "seqrec/dataset.h"

namespace seqrec {

/// A host tensor (a batch's, a sampler's draw) on `device`. On a GPU it goes through pinned
/// memory without waiting: a copy from pageable memory waits for the device's queue, a host
/// sync in every training step. Elsewhere it is t.to(device).
torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device);

/// Dataset rows (a batch's users) as a [N] int64 tensor on `device`.
torch::Tensor rows_tensor(const std::vector<int64_t>& rows, const torch::Device& device);

/// How training sequences are laid out in a batch.
/// kPadded: every batch is max_len wide (the reference layout).
/// kPacked: random batches, cut to the longest sequence in the batch.
/// kBucketed: like kPacked, but batches are drawn from length-sorted pools so widths are tight
///   (fast, but batch membership then correlates with length, which changes the optimisation).
/// kSplit: random batches as kPacked (the reference's batch membership and per-batch mean), each
///   encoded as a few length-sorted parts cut to their own widths: the reference's step at
///   nearly the bucketed cost.
enum class Batching { kPadded, kPacked, kBucketed, kSplit };
/// --batching: padded, packed, bucketed, split.
const EnumNames<Batching>& batching_names();

/// What one training example (one batch row) is.
/// kSequences: a user's training sequence, a target at every position (one causal pass).
/// kPrefixes: one target s[e] (e = 1..t-1) predicted at the last column from the max_len
///   items before it: every target its own example, for encoders that are not causal.
/// kWindowPrefixes: FMLP-Rec's and BSARec's reference examples: the prefixes of a user's last
///   max_len training items, each predicting its last item from the ones before it in that
///   window (so the window's first item is predicted from an empty input, and the items
///   before the window are never inputs or targets).
enum class Examples { kSequences, kPrefixes, kWindowPrefixes };
/// --examples: sequences, prefixes, window-prefixes.
const EnumNames<Examples>& examples_names();

/// Left-padded sequences. Column c of a W-wide batch holds learned position id
/// `position_offset + c`, with position_offset = max_len - W, so a cut batch computes exactly
/// what the max_len-wide one does at the real positions.
struct Batch {
  torch::Tensor inputs;        ///< [B, W] int64, 0 = padding
  torch::Tensor targets;       ///< [B, W] int64 next-item targets (training only), 0 = padding
  std::vector<int64_t> users;  ///< dataset rows, one per batch row
  int64_t position_offset = 0;
  /// Every row's one target sits in its last column (prefix examples): the trainer encodes the
  /// last column only (Model::encode_last).
  bool last_only = false;
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

/// Users' training examples: with t = train_length, input s[0..t-2], targets s[1..t-1], the
/// last max_len positions (kSequences), or one row per target (the prefix examples).
class TrainBatcher {
 public:
  /// A batch row: inputs s[begin..end-1]; targets s[begin+1..end] (kSequences) or s[end] alone.
  struct Example {
    int64_t user, begin, end;
    int64_t length() const { return end - begin; }
  };
  TrainBatcher(const Dataset& data, int64_t max_len, int64_t batch_size, Batching batching,
               Examples examples = Examples::kSequences);
  /// One epoch's batches in random order (every example exactly once).
  std::vector<Batch> epoch(std::mt19937_64& rng) const;
  /// Data parallel: epoch() gives rank `rank`'s share of each global batch (the same global
  /// batches on every rank, drawn from the same stream), every `world`-th user of it.
  void shard(int rank, int world) { rank_ = rank, world_ = world; }
  /// Number of (non-padding) target positions in one epoch.
  int64_t num_positions() const;
  /// Number of examples (batch rows) in one epoch: users with a training target, or prefixes.
  int64_t num_examples() const { return static_cast<int64_t>(examples_.size()); }
  /// Every example of an epoch, in the data's order.
  const std::vector<Example>& examples() const { return examples_; }

 private:
  Batch make_batch(const std::vector<Example>& rows, bool full_width) const;
  const Dataset& data_;
  int64_t max_len_, batch_size_;
  Batching batching_;
  Examples kind_;
  int rank_ = 0, world_ = 1;
  std::vector<Example> examples_;
};

/// Evaluation examples for one stage: input, answer and history of every user.
struct EvalSet {
  Stage stage;
  std::vector<int64_t> users;    ///< dataset rows with an answer at this stage
  std::vector<int64_t> answers;  ///< the held-out item per user
  /// Input sequences (the whole history; the max_len cut happens when batching).
  std::vector<const int32_t*> history;
  std::vector<int64_t> history_len;
  /// Histories the set owns (shuffle_histories), which `history` points into; shared by copies.
  std::shared_ptr<const std::vector<int32_t>> owned;
};
EvalSet make_eval_set(const Dataset& data, Stage stage);

/// The sequentiality check (Klenitskiy et al., RecSys 2024): the same set with the last
/// `window` items of each history (the model's input: its max length) randomly permuted, so
/// the model sees the same items in another order, and the history's exclusions are the same.
/// keep_last: the last item stays last and the others are permuted. Each user's permutation
/// depends only on `seed` and the user's row.
EvalSet shuffle_histories(const EvalSet& set, int64_t window, uint64_t seed, bool keep_last);

/// Batch of eval inputs for users idx[0..] of `set`, left-padded to the longest.
Batch make_eval_batch(const EvalSet& set, const std::vector<int64_t>& idx, int64_t max_len);

}  // namespace seqrec
