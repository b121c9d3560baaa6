// "cce", the enhanced loss of Li et al. (2023) = ELECRec's "SASRec+": full-softmax
// cross-entropy at every real position, mean over those positions. The trainer has already
// dropped padding rows, so the [N, item_size] logits hold real positions only.
#include "baselines/losses/losses.h"

namespace seqrec {

namespace {
class CCELoss : public Loss {
 public:
  explicit CCELoss(int64_t item_block) : item_block_(item_block) {}
  torch::Tensor forward(const LossInput& in) override { return full_softmax_ce(in, item_block_); }
  std::string name() const override { return "cce"; }

 private:
  int64_t item_block_;
};
}  // namespace

void register_cce(PluginHost& host) {
  host.losses->add("cce", [](const Config& c) { return std::make_unique<CCELoss>(c.integer("item-block")); },
        "full-softmax cross-entropy at every real position (Li et al. 2023; ELECRec's SASRec+)");
}
SEQREC_BUILTIN(register_cce);

}  // namespace seqrec
