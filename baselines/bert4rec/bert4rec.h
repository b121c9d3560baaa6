#pragma once
/// BERT4Rec (Sun et al. 2019): SASRec's blocks without the causal mask, a mask token (the
/// last id, item_size-1), an output head Linear(d, d) + GELU + LayerNorm scored against the
/// tied item table plus a per-item bias, cloze training. The bias rides along as one extra
/// column: encode() returns [head(h), 1] and item_table() [E, b], so the dot product every
/// loss and the evaluator take is head(h) . E_j + b_j.
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "baselines/sasrec/sasrec.h"
#include "seqrec/registry.h"
#include "seqrec/trainer.h"

namespace seqrec {

/// Cloze settings.
struct ClozeOptions {
  TORCH_ARG(double, mask_prob) = 0.2;       ///< max(1, round(p * len)) positions masked per sequence
  TORCH_ARG(double, last_item_prob) = 0.1;  ///< share of sequences with only their last item masked instead
};

class BERT4Rec : public SASRec {
 public:
  explicit BERT4Rec(SASRecOptions o);
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override;
  /// Appends the mask token after the history (the oldest item drops out of a full window)
  /// and returns the representation at the mask.
  torch::Tensor encode_last(const torch::Tensor& seqs, int64_t position_offset) override;
  torch::Tensor item_table() override;
  std::string kind() const override { return "bert4rec"; }
  int64_t mask_id() const { return options().item_size() - 1; }

  torch::nn::Linear head_dense{nullptr};
  torch::nn::LayerNorm head_norm{nullptr};
  torch::Tensor output_bias;
};

/// Cloze training of BERT4Rec: each training sequence (the last max_len items before the
/// validation item) gets some positions replaced by the mask token; full-softmax CE at the
/// masked positions, mean over them.
class ClozeTrainer : public Trainer {
 public:
  explicit ClozeTrainer(ClozeOptions o) : options_(o) {}
  void setup(TrainContext& ctx) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return "cloze"; }
  bool hides_targets() const override { return true; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }
  bool data_parallel() const override { return true; }
  bool uses_loss() const override { return false; }

 private:
  ClozeOptions options_;
  TrainContext* ctx_ = nullptr;
  BERT4Rec* model_ = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

/// Registers the bert4rec model and the cloze trainer with their keys.

}  // namespace seqrec
