// TOP1 in its two forms:
// "top1" (GRU4Rec, Hidasi et al. 2016): mean_n sigmoid(s-_n - s+) + sigmoid((s-_n)^2)
// "top1_cce" (the CCE paper's code): mean sigmoid(s- - s+) + mean (s-)^2, the square
// without the sigmoid.
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
torch::Tensor top1(const SampledScores& s, double) {
  return (torch::sigmoid(s.neg - s.pos.unsqueeze(1)) + torch::sigmoid(s.neg * s.neg)).mean();
}
torch::Tensor top1_cce(const SampledScores& s, double) {
  return torch::sigmoid(s.neg - s.pos.unsqueeze(1)).mean() + (s.neg * s.neg).mean();
}
}  // namespace

void register_top1(PluginHost& host) {
  declare_pairwise_keys(*host.schema);
  host.losses->add("top1", [](const Config& c) { return std::make_unique<PairwiseLoss>("top1", top1, pairwise_settings(c)); },
        "TOP1 of GRU4Rec (2016), sigmoid of the squared negative score as regulariser");
  host.losses->add("top1_cce",
        [](const Config& c) { return std::make_unique<PairwiseLoss>("top1_cce", top1_cce, pairwise_settings(c)); },
        "TOP1 as the CCE paper's code computes it (plain squared negative score)");
}
SEQREC_BUILTIN(register_top1);

}  // namespace seqrec
