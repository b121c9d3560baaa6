// A loss plugin as a user would write it outside the seqrec tree: it includes only the
// public headers (framework/include/seqrec) and registers one loss, "label_smoothing_ce":
// full-softmax CE at every real position against (1 - eps) onehot + eps / V.
#include <torch/torch.h>

#include "seqrec/loss.h"
#include "seqrec/plugin.h"

namespace {
class LabelSmoothingCE : public seqrec::Loss {
 public:
  explicit LabelSmoothingCE(double eps) : eps_(eps) {}
  torch::Tensor forward(const seqrec::LossInput& in) override {
    torch::Tensor logp = torch::log_softmax(torch::mm(in.hidden, in.items.t()), 1);
    torch::Tensor nll = -logp.gather(1, in.targets.unsqueeze(1)).squeeze(1);
    return ((1 - eps_) * nll - eps_ * logp.mean(1)).mean();
  }
  std::string name() const override { return "label_smoothing_ce"; }

 private:
  double eps_;
};

void register_toy(seqrec::PluginHost& host) {
  host.schema->add({"label-smoothing.eps", seqrec::KeyType::kFloat, "0.1", "smoothing mass", "label_smoothing_ce"});
  host.losses->add("label_smoothing_ce",
                   [](const seqrec::Config& c) { return std::make_unique<LabelSmoothingCE>(c.real("label-smoothing.eps")); },
                   "CE with label smoothing (test plugin)", host.origin);
}
}  // namespace

SEQREC_PLUGIN(register_toy)
