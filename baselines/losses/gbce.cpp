// "gbce": generalised BCE of gSASRec (Petrov & Macdonald 2023), k uniform negatives:
//   -(1/(k+1)) [beta log sigmoid(s+) + sum_i log(1 - sigmoid(s-_i))],
//   alpha = k / (num_items - 1), beta = alpha (t (1 - 1/alpha) + 1/alpha).
// t = 0 is BCE over k negatives, t = 1 is fully calibrated. num_items excludes the padding
// and mask rows of the item table. Negatives exclude the user's items (gSASRec's do not).
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
class GBCELoss : public Loss {
 public:
  GBCELoss(int64_t k, double t) : k_(k), t_(t) {}
  torch::Tensor forward(const LossInput& in) override {
    const double num_items = static_cast<double>(in.items.size(0) - 2);
    const double alpha = std::min(1.0, k_ / (num_items - 1));
    const double beta = alpha * (t_ * (1 - 1 / alpha) + 1 / alpha);
    SampledScores s = sampled_scores(in);
    torch::Tensor sum = beta * torch::log_sigmoid(s.pos) + torch::log_sigmoid(-s.neg).sum(1);
    return -(sum / (k_ + 1)).mean();
  }
  int64_t num_negatives() const override { return k_; }
  std::string name() const override { return "gbce"; }

 private:
  int64_t k_;
  double t_;
};
}  // namespace

void register_gbce(PluginHost& host) {
  host.schema->add({"gbce.negatives", KeyType::kInt, "256", "uniform negatives per position (k)", "loss"});
  host.schema->add({"gbce.t", KeyType::kFloat, "0.75", "calibration parameter t in [0, 1]", "loss"});
  host.losses->add("gbce",
        [](const Config& c) {
          const int64_t k = c.integer("gbce.negatives");
          const double t = c.real("gbce.t");
          if (k < 1) throw Error("--gbce.negatives must be at least 1");
          if (t < 0 || t > 1) throw Error("--gbce.t must lie in [0, 1]");
          return std::make_unique<GBCELoss>(k, t);
        },
        "gSASRec's generalised BCE (gbce.negatives k, gbce.t) at every real position");
}
SEQREC_BUILTIN(register_gbce);

}  // namespace seqrec
