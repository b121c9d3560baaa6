// Helpers shared by the built-in losses.
#include "baselines/losses/losses.h"
#include "baselines/losses/softmax_ce.h"

namespace seqrec {

torch::Tensor full_softmax_ce(const LossInput& in, int64_t item_block) {
  return fused_softmax_ce(in.hidden, in.items, in.targets, nullptr, item_block);
}

SampledScores sampled_scores(const LossInput& in) {
  const int64_t n = in.negatives.size(0), k = in.negatives.size(1);
  torch::Tensor pos = (in.hidden * in.items.index_select(0, in.targets)).sum(-1);
  torch::Tensor neg_emb = in.items.index_select(0, in.negatives.reshape(-1)).view({n, k, -1});
  torch::Tensor neg = torch::bmm(neg_emb, in.hidden.unsqueeze(2)).squeeze(2);  // [N, n]
  return {pos, neg};
}

void declare_pairwise_keys(Schema& s) {
  if (s.find("pairwise.negatives")) return;
  s.add({"pairwise.negatives", KeyType::kInt, "100",
         "uniform negatives per position for bpr, bpr_max, top1, top1_max and their _cce variants", "loss"});
  s.add({"pairwise.positions", KeyType::kString, "last",
         "positions the GRU4Rec-family losses train on: last (the GRU4Rec and CCE papers) or all real ones", "loss",
         {"last", "all"}});
}

PairwiseSettings pairwise_settings(const Config& c) {
  const int64_t n = c.integer("pairwise.negatives");
  if (n < 1) throw Error("--pairwise.negatives must be at least 1");
  return {n, c.str("pairwise.positions") == "last" ? Positions::kLast : Positions::kAll};
}

}  // namespace seqrec
