#pragma once
/// DuoRec (Qiu et al., WSDM 2022) as a training strategy for any encoder and main loss on
/// prefix examples, after RuihongQiu/DuoRec and yehjin-shin/BSARec's port
/// (src/model/duorec.py): beside the main loss on each example's last position, InfoNCE
/// between its input encoded a second time (another dropout draw: the unsupervised view) and
/// the input of another training example with the same target (the supervised view).
#include <torch/optim/optimizer.h>

#include <memory>
#include <vector>

#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/trainer.h"

namespace seqrec {

/// Which pairs InfoNCE compares, as DuoRec's `contrast` / the port's `ssl`: us_x (the
/// dropout view against the same-target view: DuoRec's own setting), us (the example against
/// both views, two terms), un (against the dropout view alone), su (against the same-target
/// view alone).
enum class DuoRecContrast { kUsX, kUs, kUn, kSu };

struct DuoRecOptions {
  TORCH_ARG(DuoRecContrast, contrast) = DuoRecContrast::kUsX;
  TORCH_ARG(double, weight) = 0.1;           ///< lmd: the dropout view's term (us, un)
  TORCH_ARG(double, same_target_weight) = 0.1;  ///< lmd_sem: the same-target terms (us_x, us, su)
  TORCH_ARG(double, temperature) = 1.0;
  TORCH_ARG(bool, cosine) = false;  ///< similarity: dot (the reference's) or cosine
};

class DuoRecTrainer : public Trainer {
 public:
  explicit DuoRecTrainer(const DuoRecOptions& o) : options_(o) {}
  /// Indexes the training examples by target (the run's --examples, which must be prefixes).
  void setup(TrainContext& ctx) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return "duorec"; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }
  /// For each row of `batch` (piece order), the input of a training example with the same
  /// target, drawn uniformly; when the target's examples do not all have the same input, the
  /// draw is repeated until its input differs from the row's own, as the reference does.
  /// [N, max_len], left-padded; `users` gets each drawn example's user.
  torch::Tensor same_target_inputs(const Batch& batch, std::vector<int64_t>* users);

 private:
  DuoRecOptions options_;
  TrainContext* ctx_ = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<TrainBatcher::Example> examples_;
  /// by_target_[item]: indices into examples_ of the examples with that target; varied_[item]:
  /// whether their inputs are not all the same.
  std::vector<std::vector<size_t>> by_target_;
  std::vector<char> varied_;
};

}  // namespace seqrec
