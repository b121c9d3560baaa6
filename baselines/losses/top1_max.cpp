// TOP1-max in its two forms:
// "top1_max" (Hidasi & Karatzoglou 2018): sum_n softmax(s-)_n (sigmoid(s-_n - s+) + sigmoid((s-_n)^2))
// "top1_max_cce" (the CCE paper's code): mean_n softmax(s-)_n (sigmoid(s-_n - s+) + (s-_n)^2),
// a mean where the original sums and the square without the sigmoid.
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
torch::Tensor top1_max(const SampledScores& s, double) {
  torch::Tensor w = torch::softmax(s.neg, 1);
  return (w * (torch::sigmoid(s.neg - s.pos.unsqueeze(1)) + torch::sigmoid(s.neg * s.neg))).sum(1).mean();
}
torch::Tensor top1_max_cce(const SampledScores& s, double) {
  torch::Tensor w = torch::softmax(s.neg, 1);
  return (w * (torch::sigmoid(s.neg - s.pos.unsqueeze(1)) + s.neg * s.neg)).mean();
}
}  // namespace

void register_top1_max(PluginHost& host) {
  declare_pairwise_keys(*host.schema);
  host.losses->add("top1_max",
        [](const Config& c) { return std::make_unique<PairwiseLoss>("top1_max", top1_max, pairwise_settings(c)); },
        "TOP1-max of Hidasi & Karatzoglou 2018");
  host.losses->add("top1_max_cce",
        [](const Config& c) { return std::make_unique<PairwiseLoss>("top1_max_cce", top1_max_cce, pairwise_settings(c)); },
        "TOP1-max as the CCE paper's code computes it (mean over negatives, plain square)");
}
SEQREC_BUILTIN(register_top1_max);

}  // namespace seqrec
