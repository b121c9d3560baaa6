// "bce": the original SASRec objective. Per real position
//   -log(sigmoid(s+) + 1e-24) - mean_n log(1 - sigmoid(s-_n) + 1e-24),
// averaged over real positions; the 1e-24 guards are the reference code's.
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
class BCELoss : public Loss {
 public:
  explicit BCELoss(int64_t n) : n_(n) {}
  torch::Tensor forward(const LossInput& in) override {
    SampledScores s = sampled_scores(in);
    torch::Tensor loss = -torch::log(torch::sigmoid(s.pos) + 1e-24) - torch::log(1 - torch::sigmoid(s.neg) + 1e-24).mean(1);
    return loss.mean();
  }
  int64_t num_negatives() const override { return n_; }
  std::string name() const override { return "bce"; }

 private:
  int64_t n_;
};
}  // namespace

void register_bce(PluginHost& host) {
  host.schema->add({"bce.negatives", KeyType::kInt, "1", "uniform negatives per position (user's items excluded)", "loss"});
  host.losses->add("bce",
        [](const Config& c) {
          const int64_t n = c.integer("bce.negatives");
          if (n < 1) throw Error("--bce.negatives must be at least 1");
          return std::make_unique<BCELoss>(n);
        },
        "binary cross-entropy with n uniform negatives per real position (original SASRec)");
}
SEQREC_BUILTIN(register_bce);

}  // namespace seqrec
