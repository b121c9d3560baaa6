// "ce": full-softmax cross-entropy at the last position only (GRU4Rec / SR-GNN style, the
// CCE paper's "CE").
#include "baselines/losses/losses.h"

namespace seqrec {
namespace {
class CELoss : public Loss {
 public:
  explicit CELoss(int64_t item_block) : item_block_(item_block) {}
  torch::Tensor forward(const LossInput& in) override { return full_softmax_ce(in, item_block_); }
  Positions positions() const override { return Positions::kLast; }
  std::string name() const override { return "ce"; }

 private:
  int64_t item_block_;
};
}  // namespace

void register_ce(PluginHost& host) {
  host.losses->add("ce", [](const Config& c) { return std::make_unique<CELoss>(c.integer("item-block")); },
        "full-softmax cross-entropy at the last position only");
}
SEQREC_BUILTIN(register_ce);

}  // namespace seqrec
