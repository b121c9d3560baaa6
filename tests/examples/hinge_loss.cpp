// A loss in one file: a margin between the target's score and one sampled negative's.
#include <torch/nn/functional/activation.h>

#include "seqrec/plugin.h"

namespace {
class HingeLoss : public seqrec::Loss {
 public:
  explicit HingeLoss(double margin) : margin_(margin) {}
  torch::Tensor forward(const seqrec::LossInput& in) override {
    torch::Tensor pos = (in.hidden * in.items.index_select(0, in.targets)).sum(1, true);  // [N, 1]
    torch::Tensor neg = torch::bmm(in.items.index({in.negatives}), in.hidden.unsqueeze(2)).squeeze(2);  // [N, n]
    return torch::relu(margin_ - pos + neg).mean();
  }
  int64_t num_negatives() const override { return 1; }
  std::string name() const override { return "hinge"; }

 private:
  double margin_;
};

void register_hinge(seqrec::PluginHost& host) {
  host.schema->add({"hinge.margin", seqrec::KeyType::kFloat, "1.0", "margin between target and negative", "hinge"});
  host.losses->add("hinge", [](const seqrec::Config& c) { return std::make_unique<HingeLoss>(c.real("hinge.margin")); },
                   "hinge on one sampled negative per position; keys hinge.*", host.origin);
}
}  // namespace

SEQREC_BUILTIN(register_hinge);
