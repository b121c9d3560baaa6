// BPR-max, in the two forms that circulate under one name:
// "bpr_max" (Hidasi & Karatzoglou 2018, the original):
//   -log sum_n softmax(s-)_n sigmoid(s+ - s-_n) + lambda sum_n softmax(s-)_n (s-_n)^2
// "bpr_max_cce" (the CCE paper's code): the log inside the mixture, no score regulariser,
//   -mean_n log(1e-10 + softmax(s-)_n sigmoid(s+ - s-_n)).
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
torch::Tensor bpr_max(const SampledScores& s, double lambda) {
  torch::Tensor w = torch::softmax(s.neg, 1);
  torch::Tensor mix = (w * torch::sigmoid(s.pos.unsqueeze(1) - s.neg)).sum(1);
  return (-torch::log(1e-10 + mix) + lambda * (w * s.neg * s.neg).sum(1)).mean();
}
torch::Tensor bpr_max_cce(const SampledScores& s, double) {
  torch::Tensor w = torch::softmax(s.neg, 1);
  return -torch::log(1e-10 + w * torch::sigmoid(s.pos.unsqueeze(1) - s.neg)).mean();
}
}  // namespace

void register_bpr_max(PluginHost& host) {
  declare_pairwise_keys(*host.schema);
  host.schema->add({"bpr-max.lambda", KeyType::kFloat, "1.0", "score regulariser of the original bpr_max", "loss"});
  host.losses->add("bpr_max",
        [](const Config& c) {
          return std::make_unique<PairwiseLoss>("bpr_max", bpr_max, pairwise_settings(c), c.real("bpr-max.lambda"));
        },
        "BPR-max of Hidasi & Karatzoglou 2018 (softmax-weighted, score regulariser bpr-max.lambda)");
  host.losses->add("bpr_max_cce",
        [](const Config& c) { return std::make_unique<PairwiseLoss>("bpr_max_cce", bpr_max_cce, pairwise_settings(c)); },
        "BPR-max as the CCE paper's code computes it (log inside the mixture, no regulariser)");
}
SEQREC_BUILTIN(register_bpr_max);

}  // namespace seqrec
