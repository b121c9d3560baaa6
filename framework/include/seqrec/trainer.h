#pragma once
/// Training strategies and the epoch loop shared by all of them.
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/loss.h"
#include "seqrec/model.h"
#include "seqrec/sampler.h"

namespace seqrec {

struct TrainOptions;

/// Everything a strategy may use. References stay valid for the whole run.
struct TrainContext {
  Model& model;
  Loss& loss;
  NegativeSampler& sampler;
  const Config& config;
  std::mt19937_64& rng;
  torch::Device device;
  /// The data trained on (its split's training sequences), for strategies that build inputs
  /// of their own; null where a step runs without it (unit tests of one step).
  const Dataset* data = nullptr;
};

/// A training strategy: how one batch updates the model. The plain strategy is one forward,
/// one loss, one optimiser step; ELECRec and adversarial training are other strategies.
class Trainer {
 public:
  virtual ~Trainer() = default;
  /// Called once before the first step (create optimisers here).
  virtual void setup(TrainContext& ctx) = 0;
  /// One optimisation step; returns the batch's loss as a 0-dim tensor on the training
  /// device, detached. Reading it waits for the step (a device sync on a GPU), so the caller
  /// decides when: FitLoop reads it every step on a CPU, at its progress lines on a GPU.
  virtual torch::Tensor step(const Batch& batch) = 0;
  virtual std::string name() const = 0;
  /// Called before epoch `epoch`'s first step (epochs count from 1), not when a resumed run
  /// continues an epoch midway: what a strategy computes here belongs in its save_state.
  virtual void begin_epoch(int64_t epoch) {}
  /// The strategy's own account of the epoch so far (e.g. the parts of its loss), appended to
  /// the epoch's log line; empty for none.
  virtual std::string epoch_note() const { return ""; }
  /// False for strategies with their own objective (the --loss key is then unused).
  virtual bool uses_loss() const { return true; }
  /// True for strategies whose encoder inputs hold no answer they train on (the cloze task
  /// masks its targets; ELECRec's discriminator answers whether the items it sees are real):
  /// an encoder that is not causal may then train on whole sequences.
  virtual bool hides_targets() const { return false; }
  /// What the strategy keeps between steps beyond the model's weights (optimiser moments and
  /// step counts, counters of its own), saved into a run's training state and restored from
  /// it, so that a resumed run continues exactly. The default covers optimizer(); a strategy
  /// with more state (a plugin's too) overrides both.
  virtual void save_state(torch::serialize::OutputArchive& archive) const;
  virtual void load_state(torch::serialize::InputArchive& archive);
  /// The optimiser that the default save_state / load_state cover; nullptr when none.
  virtual torch::optim::Optimizer* optimizer() const { return nullptr; }
  /// Whether step() is correct under data parallelism (distributed.h): its gradients summed
  /// over the ranks (backward_mean does both) so each rank then takes the single-process
  /// step of the global batch. A strategy that does not say so is refused there.
  virtual bool data_parallel() const { return false; }
};

/// Thrown by fit() after a stop signal (SIGTERM, SIGINT, SIGUSR1): the step in flight
/// finished and the training state was written. what() is the one line to print; exit with
/// 128 + signal.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal) : Error(what), signal(signal) {}
  int signal;
};

/// Thrown by fit() when a step's loss is not finite: training stops at that step and no
/// result is written. Exit code 3.
class Diverged : public Error {
 public:
  using Error::Error;
};

/// Where a run keeps its training state: beside its --output, or "" (no state) without one.
std::string state_path_of(const Config& config);

/// Representations and targets of the positions a loss trains on, padding rows dropped.
struct PackedPositions {
  torch::Tensor hidden;        ///< [N, d]
  torch::Tensor targets;       ///< [N]
  std::vector<int64_t> users;  ///< dataset row of each position
};
/// Selects the rows of `hidden` [B, W, d] that `positions` asks for.
PackedPositions pack_positions(const torch::Tensor& hidden, const Batch& batch, Positions positions);

/// Encodes every piece of `batch` and packs the positions a loss asks for, in piece order; a
/// last_only piece (prefix examples) is encoded at its last column only, by encode_last.
PackedPositions encode_packed(Model& model, const Batch& batch, Positions positions, torch::Device device);

/// The loss's input for `batch`: the model's packed positions, its item table and, when the
/// loss asks for them, `negatives` or (if undefined) a fresh draw from the context's sampler.
LossInput make_loss_input(TrainContext& ctx, const Batch& batch, torch::Tensor negatives = {});

/// `loss` plus the model's penalty(), where it has one: every strategy's training loss.
torch::Tensor with_penalty(Model& model, const torch::Tensor& loss);

/// The plain strategy: Adam (lr, betas, weight decay from the config) on loss(model(batch)).
class PlainTrainer : public Trainer {
 public:
  void setup(TrainContext& ctx) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return "plain"; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }
  bool data_parallel() const override { return true; }

 private:
  TrainContext* ctx_ = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

/// The optimiser's parameters in order, each once (ELECRec's double step lists shared
/// tensors twice; they have one state and one gradient).
std::vector<torch::Tensor> unique_parameters(torch::optim::Optimizer& o);

/// backward() of `loss`, the mean over `positions` of this process's batch. Under data
/// parallelism (distributed.h) each rank's mean is weighted by its share of the global
/// batch's positions and the gradients are summed over the ranks, so every rank then holds
/// the single-process gradient of the global batch. Returns the global batch's loss (detached;
/// in one process it stays on the device, unread).
torch::Tensor backward_mean(const torch::Tensor& loss, int64_t positions, torch::optim::Optimizer& o);

/// Adam as configured by lr, adam-beta1/2 and weight-decay.
std::unique_ptr<torch::optim::Optimizer> make_adam(std::vector<torch::Tensor> params, const Config& c);

/// --precision bf16: while alive, LibTorch's autocast runs this thread's eligible ops
/// (matmuls, linear layers) in bfloat16 on `device` (CUDA or CPU); a no-op for fp32. The
/// trainer's steps run inside one; evaluation stays in float, so metrics compare across
/// precisions, and the full-softmax loss casts its input up and runs in float.
class PrecisionScope {
 public:
  PrecisionScope(const std::string& precision, torch::Device device);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool on_ = false, cuda_ = false, was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::ScalarType::Float;
};

/// One epoch's record in the learning curve.
struct EpochLog {
  int64_t epoch;
  double loss;
  double train_seconds;
  double eval_seconds;
  std::map<std::string, double> valid;  ///< empty on epochs without validation
  /// The validation metric under the other tie rule (the log shows it where it differs).
  std::optional<double> valid_other_ties;
};

/// The outcome of fit().
struct FitResult {
  std::vector<EpochLog> curve;
  int64_t best_epoch = -1;
  double best_valid = -1;
  std::map<std::string, double> best_valid_metrics;
  EvalResult test;
  bool stopped_early = false;
  double total_seconds = 0;  ///< over every process of the run, when resumed
  int64_t resumes = 0;       ///< times the run continued from its training state
  /// The builds that trained the run, in order ("commit" or "commit+dirty", each listed once
  /// per change): one entry unless a resume ran another build. States written before builds
  /// were recorded count as "unknown".
  std::vector<std::string> builds;
  double state_seconds = 0;  ///< spent writing training states (this process)
  int64_t states_written = 0;
  int64_t state_bytes = 0;  ///< size of the last state written
};

/// Trains with early stopping on `metric` of the validation set (strict improvement,
/// `patience` validations without one stop the run), restores the best weights, then
/// evaluates on the test set. Progress goes to `log` (one line per epoch) and, on a
/// terminal, a bar. With a state path (state_path_of), the training state (weights, best
/// weights, the strategy's state, every random stream, the curve and the early-stopping
/// state) is written every `state-every` epochs and when a stop signal arrives (then
/// Interrupted is thrown); `resume` continues from it, bit for bit on a CPU at the same
/// thread count.
/// `config` is what states record and what the sampler reads; `options` is
/// train_options_from(config), read once by the caller.
FitResult fit(Model& model, Trainer& trainer, Loss& loss, const Dataset& data, const Config& config,
              const TrainOptions& options, RankingEvaluator& evaluator, std::ostream& log);

/// Declares the training keys (epochs, lr, batch-size, ...).
void declare_train_keys(Schema& s);

}  // namespace seqrec
