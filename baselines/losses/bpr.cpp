// "bpr": Bayesian personalised ranking against n sampled negatives,
//   -mean_n log(1e-10 + sigmoid(s+ - s-_n)),
// the GRU4Rec form (the 1e-10 guard is the CCE paper's code; the original has none, which
// changes nothing at float precision for non-saturated scores).
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
torch::Tensor bpr(const SampledScores& s, double) {
  return -torch::log(1e-10 + torch::sigmoid(s.pos.unsqueeze(1) - s.neg)).mean();
}
}  // namespace

void register_bpr(PluginHost& host) {
  declare_pairwise_keys(*host.schema);
  host.losses->add("bpr", [](const Config& c) { return std::make_unique<PairwiseLoss>("bpr", bpr, pairwise_settings(c)); },
        "BPR against pairwise.negatives uniform negatives (GRU4Rec); pairwise.positions last|all");
}
SEQREC_BUILTIN(register_bpr);

}  // namespace seqrec
