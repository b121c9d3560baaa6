// "ce": full-softmax cross-entropy at the last position only (GRU4Rec / SR-GNN style, the
// CCE paper's "CE").
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
class CELoss : public Loss {
 public:
  torch::Tensor forward(const LossInput& in) override { return full_softmax_ce(in); }
  Positions positions() const override { return Positions::kLast; }
  std::string name() const override { return "ce"; }
};
}  // namespace

void register_ce(PluginHost& host) {
  host.losses->add("ce", [](const Config&) { return std::make_unique<CELoss>(); },
        "full-softmax cross-entropy at the last position only");
}
SEQREC_BUILTIN(register_ce);

}  // namespace seqrec
