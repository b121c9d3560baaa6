#pragma once
/// Training strategies and the epoch loop shared by all of them.
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/evaluator.h"
#include "seqrec/loss.h"
#include "seqrec/model.h"
#include "seqrec/sampler.h"

namespace seqrec {

/// Everything a strategy may use. References stay valid for the whole run.
struct TrainContext {
  Model& model;
  Loss& loss;
  NegativeSampler& sampler;
  const Config& config;
  std::mt19937_64& rng;
  torch::Device device;
};

/// A training strategy: how one batch updates the model. The plain strategy is one forward,
/// one loss, one optimiser step; ELECRec and adversarial training are other strategies.
class Trainer {
 public:
  virtual ~Trainer() = default;
  /// Called once before the first step (create optimisers here).
  virtual void setup(TrainContext& ctx) = 0;
  /// One optimisation step; returns the batch's loss.
  virtual double step(const Batch& batch) = 0;
  virtual std::string name() const = 0;
  /// False for strategies with their own objective (the --loss key is then unused).
  virtual bool uses_loss() const { return true; }
};

/// Representations and targets of the positions a loss trains on, padding rows dropped.
struct PackedPositions {
  torch::Tensor hidden;        ///< [N, d]
  torch::Tensor targets;       ///< [N]
  std::vector<int64_t> users;  ///< dataset row of each position
};
/// Selects the rows of `hidden` [B, W, d] that `positions` asks for.
PackedPositions pack_positions(const torch::Tensor& hidden, const Batch& batch, Positions positions);

/// Encodes every piece of `batch` and packs the positions a loss asks for, in piece order.
PackedPositions encode_packed(Model& model, const Batch& batch, Positions positions, torch::Device device);

/// The loss's input for `batch`: the model's packed positions, its item table and, when the
/// loss asks for them, `negatives` or (if undefined) a fresh draw from the context's sampler.
LossInput make_loss_input(TrainContext& ctx, const Batch& batch, torch::Tensor negatives = {});

/// The plain strategy: Adam (lr, betas, weight decay from the config) on loss(model(batch)).
class PlainTrainer : public Trainer {
 public:
  void setup(TrainContext& ctx) override;
  double step(const Batch& batch) override;
  std::string name() const override { return "plain"; }

 private:
  TrainContext* ctx_ = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

/// Adam as configured by lr, adam-beta1/2 and weight-decay.
std::unique_ptr<torch::optim::Optimizer> make_adam(std::vector<torch::Tensor> params, const Config& c);

/// One epoch's record in the learning curve.
struct EpochLog {
  int64_t epoch;
  double loss;
  double train_seconds;
  double eval_seconds;
  std::map<std::string, double> valid;  ///< empty on epochs without validation
};

/// The outcome of fit().
struct FitResult {
  std::vector<EpochLog> curve;
  int64_t best_epoch = -1;
  double best_valid = -1;
  std::map<std::string, double> best_valid_metrics;
  EvalResult test;
  bool stopped_early = false;
  double total_seconds = 0;
};

/// Trains with early stopping on `metric` of the validation set (strict improvement,
/// `patience` validations without one stop the run), restores the best weights, then
/// evaluates on the test set. Progress goes to `log` (one line per epoch) and, on a
/// terminal, a bar.
FitResult fit(Model& model, Trainer& trainer, Loss& loss, const Dataset& data, const Config& config,
              RankingEvaluator& evaluator, std::ostream& log);

/// Declares the training keys (epochs, lr, batch-size, ...).
void declare_train_keys(Schema& s);

}  // namespace seqrec
