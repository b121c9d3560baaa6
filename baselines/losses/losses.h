#pragma once
/// What the built-in losses share. Each loss is one file that registers itself
/// (SEQREC_BUILTIN); a loss and its labelled variant share a file.
#include "seqrec/config.h"
#include "seqrec/plugin.h"
#include "seqrec/registry.h"

namespace seqrec {

/// Full-softmax cross-entropy of hidden . items^T against targets, mean over rows.
/// item_block: --item-block (fused_softmax_ce).
torch::Tensor full_softmax_ce(const LossInput& in, int64_t item_block);

/// Scores of a sampled loss: pos [N] = h . M[y], neg [N, n] = h . M[negatives].
struct SampledScores {
  torch::Tensor pos, neg;
};
SampledScores sampled_scores(const LossInput& in);

/// The GRU4Rec family (bpr, bpr_max, top1, top1_max and their CCE-paper variants) shares
/// two keys, declared once: pairwise.negatives and pairwise.positions (last = the papers').
void declare_pairwise_keys(Schema& s);
struct PairwiseSettings {
  int64_t negatives;
  Positions positions;
};
PairwiseSettings pairwise_settings(const Config& c);

/// A loss defined by one function of its sampled scores; used by the GRU4Rec family.
class PairwiseLoss : public Loss {
 public:
  using Fn = torch::Tensor (*)(const SampledScores&, double reg);
  PairwiseLoss(std::string name, Fn fn, PairwiseSettings s, double reg = 0)
      : name_(std::move(name)), fn_(fn), settings_(s), reg_(reg) {}
  torch::Tensor forward(const LossInput& in) override { return fn_(sampled_scores(in), reg_); }
  Positions positions() const override { return settings_.positions; }
  int64_t num_negatives() const override { return settings_.negatives; }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  Fn fn_;
  PairwiseSettings settings_;
  double reg_;
};

}  // namespace seqrec
