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
    torch::Tensor pos = (in.hidden * in.items.index_select(0, in.targets)).sum(-1);
    torch::Tensor neg_emb = in.items.index_select(0, in.negatives.reshape(-1)).view({in.negatives.size(0), n_, -1});
    torch::Tensor neg = (neg_emb * in.hidden.unsqueeze(1)).sum(-1);  // [N, n]
    torch::Tensor loss = -torch::log(torch::sigmoid(pos) + 1e-24) - torch::log(1 - torch::sigmoid(neg) + 1e-24).mean(1);
    return loss.mean();
  }
  int64_t num_negatives() const override { return n_; }
  std::string name() const override { return "bce"; }

 private:
  int64_t n_;
};
}  // namespace

void register_bce(LossRegistry& r, Schema& s) {
  s.add({"bce.negatives", KeyType::kInt, "1", "uniform negatives per position (user's items excluded)", "loss"});
  r.add("bce",
        [](const Config& c) {
          const int64_t n = c.integer("bce.negatives");
          if (n < 1) throw Error("--bce.negatives must be at least 1");
          return std::make_unique<BCELoss>(n);
        },
        "binary cross-entropy with n uniform negatives per real position (original SASRec)");
}

}  // namespace seqrec
