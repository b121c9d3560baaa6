#pragma once
/// Adversarial training of the item table (ATSRec; the authors' public code), as a training
/// strategy around any model whose item table is a parameter, and any loss.
#include "seqrec/registry.h"
#include "seqrec/trainer.h"

namespace seqrec {

enum class AdversarialMethod { kPGD, kFGSM, kFGM };
/// The norm of the ball and of the step: the whole table's (ATSRec) or each item row's (APR).
enum class AdversarialNorm { kFrobenius, kRow };
inline const EnumNames<AdversarialMethod> kAdversarialMethods = {
    {"pgd", AdversarialMethod::kPGD}, {"fgsm", AdversarialMethod::kFGSM}, {"fgm", AdversarialMethod::kFGM}};
inline const EnumNames<AdversarialNorm> kAdversarialNorms = {{"frobenius", AdversarialNorm::kFrobenius},
                                                             {"row", AdversarialNorm::kRow}};

/// How the perturbation of the item table E is found.
struct AdversarialOptions {
  TORCH_ARG(AdversarialMethod, method) = AdversarialMethod::kPGD;
  TORCH_ARG(int64_t, steps) = 5;           ///< PGD steps K
  TORCH_ARG(double, eps) = 1.0;            ///< radius of the ball the perturbation stays in
  TORCH_ARG(double, eta) = 0.3;            ///< PGD step size
  TORCH_ARG(AdversarialNorm, norm) = AdversarialNorm::kFrobenius;
  TORCH_ARG(double, weight) = 1.0;         ///< weight of the adversarial gradient
};

/// One step: clean loss and gradient; the perturbation (PGD: K steps E <- E + eta g/||g||,
/// projected onto the eps-ball around the clean E; FGSM: eps sign(g); FGM: eps g/||g||);
/// the gradient of the loss at the perturbed table, times `weight`, added to the clean one;
/// E restored; one Adam step. Negatives are drawn once per step and reused.
class AdversarialTrainer : public Trainer {
 public:
  explicit AdversarialTrainer(AdversarialOptions o) : options_(std::move(o)) {}
  void setup(TrainContext& ctx) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return "atsrec"; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }

 private:
  /// The perturbation direction of gradient g, scaled to unit norm (whole table or per row).
  torch::Tensor normalise(const torch::Tensor& g) const;
  /// Projects d back onto the eps-ball (whole table or per row).
  torch::Tensor project(const torch::Tensor& d) const;
  AdversarialOptions options_;
  TrainContext* ctx_ = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace seqrec
