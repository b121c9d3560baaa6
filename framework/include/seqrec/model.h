#pragma once
/// The encoder interface: sequences in, one representation per position out, scored by
/// dot product against an item table.
#include <torch/nn/module.h>

#include <string>

namespace seqrec {

/// A sequential recommender's encoder. Implementations are torch modules whose parameter
/// names are their checkpoint names.
class Model : public torch::nn::Module {
 public:
  /// `seqs` [B, W] int64, left-padded with 0; column c has position id position_offset + c.
  /// Returns [B, W, d]. Causal models must never let column c see columns > c.
  virtual torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) = 0;
  /// The representation at the last column only, [B, d]: what ranking needs. Models may
  /// override it to skip work the other columns need (must equal encode()[:, -1]).
  virtual torch::Tensor encode_last(const torch::Tensor& seqs, int64_t position_offset) {
    torch::Tensor out = encode(seqs, position_offset);
    return out.select(1, out.size(1) - 1);
  }
  /// encode() and encode_last() for rows that are these users' (dataset rows, [B] int64 on seqs'
  /// device): what the trainer and evaluator call. Encoders with a per-user part (Caser's user
  /// embedding) override them; the others ignore the users.
  virtual torch::Tensor encode_users(const torch::Tensor& seqs, int64_t position_offset, const torch::Tensor& users) {
    (void)users;
    return encode(seqs, position_offset);
  }
  virtual torch::Tensor encode_last_users(const torch::Tensor& seqs, int64_t position_offset, const torch::Tensor& users) {
    (void)users;
    return encode_last(seqs, position_offset);
  }
  /// A term added to every training step's loss (Caser's weight norms); undefined for none.
  virtual torch::Tensor penalty() { return {}; }
  /// The [item_size, d] table scored against representations (row 0 = padding).
  virtual torch::Tensor item_table() = 0;
  /// Longest input the model takes (inputs are cut to their last max_len items).
  virtual int64_t max_len() const = 0;
  /// The options that rebuild this model, as a JSON object text (saved in checkpoints).
  virtual std::string options_json() const = 0;
  /// Registry name, e.g. "sasrec".
  virtual std::string kind() const = 0;
  /// False where column c sees columns after c (bidirectional attention, a filter over the
  /// whole sequence): such a model trains on prefix examples or under a strategy that hides
  /// its targets, never on every position of one pass.
  virtual bool causal() const { return true; }
};

}  // namespace seqrec
