// "sampled_softmax": softmax over the target and n negatives shared by the whole batch,
// drawn with replacement from a proposal Q (uniform over the catalogue, or popularity in the
// training part), with the logQ correction: every logit is s_j - log(n Q(j)). Negatives
// equal to a row's target ("accidental hits") are masked out of that row.
#include <torch/nn/functional/loss.h>

#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
class SampledSoftmaxLoss : public Loss {
 public:
  SampledSoftmaxLoss(int64_t n, bool popularity) : n_(n), popularity_(popularity) {}
  void prepare(const Dataset& data) override {
    if (!popularity_) return;
    proposal_ = torch::tensor(training_popularity(data), torch::kFloat);
    proposal_ = proposal_ / proposal_.sum();
  }
  torch::Tensor forward(const LossInput& in) override {
    const int64_t item_size = in.items.size(0);
    if (!proposal_.defined()) {
      if (popularity_) throw Error("sampled_softmax: popularity proposal used before prepare()");
      proposal_ = torch::ones({item_size}, torch::kFloat);
      proposal_[0] = 0;  // padding; ids 1..item_size-1 as the reference's uniform sampler
      proposal_ = proposal_ / proposal_.sum();
    }
    torch::Tensor q = proposal_.to(in.items.device());
    torch::Tensor negs = torch::multinomial(q, n_, true);  // [n] shared by all rows
    torch::Tensor log_nq = torch::log(q * n_).to(in.hidden.dtype());
    torch::Tensor pos = (in.hidden * in.items.index_select(0, in.targets)).sum(-1) - log_nq.index_select(0, in.targets);
    torch::Tensor neg = torch::mm(in.hidden, in.items.index_select(0, negs).t()) - log_nq.index_select(0, negs);
    neg = neg.masked_fill(negs.unsqueeze(0) == in.targets.unsqueeze(1), -std::numeric_limits<double>::infinity());
    torch::Tensor logits = torch::cat({pos.unsqueeze(1), neg}, 1);
    return -torch::log_softmax(logits, 1).select(1, 0).mean();
  }
  std::string name() const override { return "sampled_softmax"; }

 private:
  int64_t n_;
  bool popularity_;
  torch::Tensor proposal_;  // [item_size] probabilities
};
}  // namespace

void register_sampled_softmax(PluginHost& host) {
  host.schema->add({"sampled-softmax.negatives", KeyType::kInt, "256", "negatives shared by the batch", "loss"});
  host.schema->add({"sampled-softmax.proposal", KeyType::kString, "uniform", "proposal the negatives are drawn from", "loss",
         {"uniform", "popularity"}});
  host.losses->add("sampled_softmax",
        [](const Config& c) {
          const int64_t n = c.integer("sampled-softmax.negatives");
          if (n < 1) throw Error("--sampled-softmax.negatives must be at least 1");
          return std::make_unique<SampledSoftmaxLoss>(n, c.str("sampled-softmax.proposal") == "popularity");
        },
        "softmax over the target and shared negatives with logQ correction (uniform or popularity proposal)");
}
SEQREC_BUILTIN(register_sampled_softmax);

}  // namespace seqrec
