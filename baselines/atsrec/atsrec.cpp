#include "baselines/atsrec/atsrec.h"

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>

#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

void AdversarialTrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  torch::Tensor e = ctx.model.item_table();
  if (!e.is_leaf() || !e.requires_grad())
    throw Error("--trainer atsrec perturbs the item table, but " + ctx.model.kind() + "'s item table is not a parameter");
  optimizer_ = make_adam(ctx.model.parameters(), ctx.config);
}

torch::Tensor AdversarialTrainer::normalise(const torch::Tensor& g) const {
  if (options_.norm() == AdversarialNorm::kRow) return g / g.norm(2, {1}, true).clamp_min(1e-12);
  return g / g.norm().clamp_min(1e-12);
}

torch::Tensor AdversarialTrainer::project(const torch::Tensor& d) const {
  if (options_.norm() == AdversarialNorm::kRow) return d * (options_.eps() / d.norm(2, {1}, true).clamp_min(options_.eps()));
  return d * (options_.eps() / d.norm().clamp_min(options_.eps()));
}

torch::Tensor AdversarialTrainer::step(const Batch& batch) {
  Model& model = ctx_->model;
  Loss& loss = ctx_->loss;
  model.train();
  optimizer_->zero_grad();
  torch::Tensor negatives;  // drawn by the first forward, reused by the perturbed ones
  auto forward = [&] {
    LossInput in = make_loss_input(*ctx_, batch, negatives);
    negatives = in.negatives;
    return loss.forward(in);
  };
  torch::Tensor clean = forward();
  clean.backward();

  torch::Tensor table = model.item_table();
  torch::Tensor e0 = table.detach().clone();
  torch::Tensor g = table.grad().clone();
  torch::Tensor delta;
  if (options_.method() == AdversarialMethod::kFGSM) {
    delta = options_.eps() * g.sign();
  } else if (options_.method() == AdversarialMethod::kFGM) {
    delta = options_.eps() * normalise(g);
  } else {  // PGD
    delta = torch::zeros_like(g);
    for (int64_t k = 1; k <= options_.steps(); ++k) {
      delta = project(delta + options_.eta() * normalise(g));
      if (k == options_.steps()) break;
      {
        torch::NoGradGuard no_grad;
        table.copy_(e0 + delta);
      }
      g = torch::autograd::grad({forward()}, {table})[0];
    }
  }
  {
    torch::NoGradGuard no_grad;
    table.copy_(e0 + delta);
  }
  torch::Tensor adv = forward();
  (options_.weight() * adv).backward();  // adds to the clean gradient
  {
    torch::NoGradGuard no_grad;
    table.copy_(e0);
  }
  // The model's penalty, after the perturbation: the attack follows the loss's gradient alone.
  torch::Tensor total = with_penalty(model, clean.detach() + options_.weight() * adv.detach());
  if (total.requires_grad()) total.backward();
  optimizer_->step();
  return total.detach();
}

namespace {
/// "advsoft": the closed form of the worst case for softmax CE under an eps-ball on the
/// target's embedding: the target logit shrinks by eps ||h||, every other logit stays.
class AdvSoftLoss : public Loss {
 public:
  explicit AdvSoftLoss(double eps) : eps_(eps) {}
  torch::Tensor forward(const LossInput& in) override {
    torch::Tensor logits = torch::mm(in.hidden, in.items.t());
    torch::Tensor shift = -eps_ * in.hidden.norm(2, {1}, true);
    logits = logits.scatter_add(1, in.targets.unsqueeze(1), shift);
    return torch::nn::functional::cross_entropy(logits, in.targets);
  }
  std::string name() const override { return "advsoft"; }

 private:
  double eps_;
};
}  // namespace

void register_atsrec(PluginHost& host) {
  Schema& s = *host.schema;
  s.add({"atsrec.method", KeyType::kString, "pgd", "perturbation of the item table", "atsrec", choices_of(kAdversarialMethods)});
  s.add({"atsrec.steps", KeyType::kInt, "5", "PGD steps K", "atsrec"});
  s.add({"atsrec.eps", KeyType::kFloat, "1.0", "radius of the perturbation ball", "atsrec"});
  s.add({"atsrec.eta", KeyType::kFloat, "0.3", "PGD step size", "atsrec"});
  s.add({"atsrec.norm", KeyType::kString, "frobenius", "ball and step norm: frobenius (whole table, ATSRec) or row (APR)",
         "atsrec", choices_of(kAdversarialNorms)});
  s.add({"atsrec.weight", KeyType::kFloat, "1.0", "weight of the adversarial gradient", "atsrec"});
  s.add({"advsoft.eps", KeyType::kFloat, "0.1", "advsoft: radius of the target embedding's perturbation", "loss"});
  host.trainers->add("atsrec",
               [](const Config& c) -> std::unique_ptr<Trainer> {
                 AdversarialOptions o;
                 o.method(c.choice("atsrec.method", kAdversarialMethods)).steps(c.integer("atsrec.steps")).eps(c.real("atsrec.eps"))
                     .eta(c.real("atsrec.eta")).norm(c.choice("atsrec.norm", kAdversarialNorms)).weight(c.real("atsrec.weight"));
                 if (o.steps() < 1 || o.eps() <= 0 || o.eta() <= 0) throw Error("atsrec: steps, eps and eta must be positive");
                 return std::make_unique<AdversarialTrainer>(o);
               },
               "adversarial training of the item table around any loss (ATSRec PGD, FGSM, FGM; keys atsrec.*)");
  host.losses->add("advsoft",
             [](const Config& c) -> std::unique_ptr<Loss> {
               if (c.real("advsoft.eps") < 0) throw Error("--advsoft.eps must be at least 0");
               return std::make_unique<AdvSoftLoss>(c.real("advsoft.eps"));
             },
             "full-softmax CE at every real position against the closed-form worst case (target logit - eps ||h||)");
}
SEQREC_BUILTIN(register_atsrec);

}  // namespace seqrec
