// "bce": the original SASRec objective. Per real position
//   -log(sigmoid(s+) + 1e-24) - mean_n log(1 - sigmoid(s-_n) + 1e-24),
// averaged over real positions; the 1e-24 guards are the reference code's (SASRec's, S3Rec's,
// FMLP-Rec's). bce.form logits is the same objective as softplus terms, PyTorch's
// BCEWithLogitsLoss (BSARec's ports of SASRec and Caser): the two part only where a score is so
// large that sigmoid rounds to 1 in float (about 16.6), where the guarded form's term stops at
// -log(1e-24) with no gradient.
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
class BCELoss : public Loss {
 public:
  BCELoss(int64_t n, bool logits) : n_(n), logits_(logits) {}
  torch::Tensor forward(const LossInput& in) override {
    SampledScores s = sampled_scores(in);
    torch::Tensor loss =
        logits_ ? torch::softplus(-s.pos) + torch::softplus(s.neg).mean(1)
                : -torch::log(torch::sigmoid(s.pos) + 1e-24) - torch::log(1 - torch::sigmoid(s.neg) + 1e-24).mean(1);
    return loss.mean();
  }
  int64_t num_negatives() const override { return n_; }
  std::string name() const override { return "bce"; }

 private:
  int64_t n_;
  bool logits_;
};
}  // namespace

void register_bce(PluginHost& host) {
  host.schema->add({"bce.negatives", KeyType::kInt, "1", "uniform negatives per position (user's items excluded)", "loss"});
  host.schema->add({"bce.form", KeyType::kString, "guarded",
                    "guarded: -log(sigmoid + 1e-24) terms (SASRec's, S3Rec's, FMLP-Rec's code); logits: softplus terms "
                    "(BCEWithLogitsLoss: BSARec's ports of SASRec and Caser), which keep a gradient where sigmoid "
                    "rounds to 1",
                    "loss", {"guarded", "logits"}});
  host.losses->add("bce",
        [](const Config& c) {
          const int64_t n = c.integer("bce.negatives");
          if (n < 1) throw Error("--bce.negatives must be at least 1");
          return std::make_unique<BCELoss>(n, c.str("bce.form") == "logits");
        },
        "binary cross-entropy with n uniform negatives per real position (original SASRec)");
}
SEQREC_BUILTIN(register_bce);

}  // namespace seqrec
