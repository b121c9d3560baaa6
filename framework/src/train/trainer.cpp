#include "seqrec/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <torch/version.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <type_traits>
#include <utility>

#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/options.h"
#include "seqrec/progress.h"
#include "seqrec/provenance.h"
#include "seqrec/registry.h"
#include "seqrec/signals.h"
#include "train/state.h"

namespace seqrec {

void declare_train_keys(Schema& s) {
  s.add({"epochs", KeyType::kInt, "300", "maximum training epochs", "train"});
  s.add({"patience", KeyType::kInt, "40", "validations without improvement before stopping", "train"});
  s.add({"metric", KeyType::kString, "ndcg@20", "validation metric for early stopping (e.g. ndcg@20, hit@10, mrr)", "train"});
  s.add({"valid-ties", KeyType::kString, "same",
         "tie rule of the validation metric that picks the best epoch: same (--ties'), optimistic or pessimistic "
         "(the reference's argpartition leaves an answer that ties with every item out of its top k, as pessimistic "
         "does); the log shows the metric under both rules where they differ",
         "train", {"same", "optimistic", "pessimistic"}});
  s.add({"eval-every", KeyType::kInt, "1", "validate every N epochs", "train"});
  s.add({"batch-size", KeyType::kInt, "256", "examples (sequences or prefixes) per batch", "train"});
  s.add({"lr", KeyType::kFloat, "0.001", "Adam learning rate", "train"});
  s.add({"adam-beta1", KeyType::kFloat, "0.9", "Adam beta1", "train"});
  s.add({"adam-beta2", KeyType::kFloat, "0.999", "Adam beta2", "train"});
  s.add({"weight-decay", KeyType::kFloat, "0", "Adam weight decay", "train"});
  s.add({"batching", KeyType::kString, "split",
         "batch layout: padded (max-len wide, the reference), packed (cut to the longest), split (random batches "
         "encoded in length-sorted parts: the reference's steps, fast), bucketed (batches from length-sorted pools: "
         "fastest, but changes which users share a step)",
         "train", choices_of(batching_names())});
  s.add({"examples", KeyType::kString, "sequences",
         "training examples: sequences (each user's sequence, a target at every position of one pass), prefixes "
         "(every target its own example, predicted at the last position from the max-len items before it: for "
         "encoders that are not causal), window-prefixes (FMLP-Rec's and BSARec's reference: the prefixes of each "
         "user's last max-len training items only, the first predicted from an empty input)",
         "train", choices_of(examples_names())});
  s.add({"trainer", KeyType::kString, "plain", "training strategy", "train"});
  s.add({"sampler", KeyType::kString, "uniform", "negative sampler of sampled losses (see seqrec list)", "train"});
  s.add(KeySpec{"progress", KeyType::kString, "auto",
         "progress display: auto (a bar on a terminal, else lines), bar, lines (epoch lines, and a line within long "
         "work every --progress-every seconds), none",
         "output", choices_of(progress_setting_names())}.unhashed());
  s.add(KeySpec{"progress-every", KeyType::kFloat, "30", "seconds between progress lines within an epoch, evaluation or read",
         "output"}.unhashed());
  s.add(KeySpec{"resume", KeyType::kBool, "false",
         "train: continue from the training state beside --output (OUTPUT.state) when there is one", "output"}.unhashed());
  s.add(KeySpec{"state-every", KeyType::kInt, "1",
         "train: write the training state beside --output every N epochs (0: at no epoch's end; --state-minutes "
         "and stop signals still write it)", "output"}.unhashed());
  s.add(KeySpec{"state-minutes", KeyType::kFloat, "30",
         "train: also write the training state within an epoch once this many minutes have passed since the last one "
         "(0: only at epoch ends and on a stop signal), so a killed run loses at most that much", "output"}.unhashed());
  s.add(KeySpec{"keep-state", KeyType::kBool, "false", "train: keep the training state after the result is written", "output"}.unhashed());
  s.add({"test", KeyType::kBool, "true",
         "train: evaluate the test set once training ends; false = validation only (what seqrec tune runs: its "
         "results hold no test metric)", "train"});
  s.add(KeySpec{"tuned", KeyType::kString, "",
                "set by the configs seqrec tune writes: the tuning summary they were chosen in (tables show it)", "output"}
            .unhashed());
  s.add({"precision", KeyType::kString, "fp32",
         "training arithmetic: fp32, or bf16 (autocast: matmuls and linear layers in bfloat16, the full-softmax loss "
         "and every evaluation in float)", "train", {"fp32", "bf16"}});
  s.add(KeySpec{"dist.backend", KeyType::kString, "gloo",
                "data parallel (seqrec launch, torchrun or Slurm variables): the c10d backend (gloo on CPU; nccl needs a "
                "CUDA build)", "dist", {"gloo", "nccl"}}.unhashed());
  s.add(KeySpec{"dist.timeout", KeyType::kFloat, "300",
                "data parallel: seconds a rendezvous or collective may wait before the rank stops with one line (a dead "
                "peer never hangs the others)", "dist"}.unhashed());
  const double inf = HUGE_VAL;
  s.limit("dist.timeout", {1, inf});
  for (const char* k : {"epochs", "patience", "eval-every", "batch-size"}) s.limit(k, {1, inf});
  s.limit("state-every", {0, inf});
  s.limit("state-minutes", {0, inf});
  s.limit("progress-every", {0, inf});
  s.limit("lr", {0, inf});  // 0 freezes the weights (tests use it)
  for (const char* k : {"adam-beta1", "adam-beta2"}) s.limit(k, {0, 1, false, /*hi_open=*/true});
  s.limit("weight-decay", {0, inf});
}

std::vector<torch::Tensor> unique_parameters(torch::optim::Optimizer& o) {
  std::vector<torch::Tensor> out;
  std::set<const void*> seen;
  for (auto& group : o.param_groups())
    for (auto& p : group.params())
      if (seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
  return out;
}

namespace {

// Autocast's switches for CUDA or the CPU. LibTorch 2.4 keys them by device type and
// deprecates the per-device names (each call of those then warns); 1.13 has only those.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
at::DeviceType device_type(bool cuda) { return cuda ? at::kCUDA : at::kCPU; }
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(device_type(cuda)); }
c10::ScalarType autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(device_type(cuda)); }
void set_autocast(bool cuda, bool enabled, c10::ScalarType dtype) {
  at::autocast::set_autocast_dtype(device_type(cuda), dtype);
  at::autocast::set_autocast_enabled(device_type(cuda), enabled);
}
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
c10::ScalarType autocast_dtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast(bool cuda, bool enabled, c10::ScalarType dtype) {
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
}
#endif

}  // namespace

PrecisionScope::PrecisionScope(const std::string& precision, torch::Device device)
    : on_(precision == "bf16"), cuda_(device.is_cuda()) {
  if (!on_) return;
  was_enabled_ = autocast_enabled(cuda_);
  was_dtype_ = autocast_dtype(cuda_);
  set_autocast(cuda_, true, at::kBFloat16);
  at::autocast::increment_nesting();
}

PrecisionScope::~PrecisionScope() {
  if (!on_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cuda_, was_enabled_, was_dtype_);
}

torch::Tensor backward_mean(const torch::Tensor& loss, int64_t positions, torch::optim::Optimizer& o) {
  if (!dist::active()) {
    loss.backward();
    return loss.detach();
  }
  const double n = static_cast<double>(positions);
  const std::vector<double> global = dist::sum({n, n * loss.item<double>()});
  (loss * (n / global[0])).backward();
  dist::all_reduce_gradients(unique_parameters(o));
  return torch::tensor(global[1] / global[0], torch::kDouble);
}

namespace {

// The key of a parameter's optimiser state: LibTorch 1.x keys the state by the TensorImpl's
// address written as a string, 2.x by the address itself.
using StateKey = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

template <typename Key = StateKey>
Key adam_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

}  // namespace

// Adam's state is saved per parameter here rather than with Optimizer::save: LibTorch's
// loader moves each saved state once per listed parameter, so a tensor listed twice comes
// back without state (and the next step crashes). Other optimisers use LibTorch's own.
void Trainer::save_state(torch::serialize::OutputArchive& archive) const {
  torch::optim::Optimizer* o = optimizer();
  if (!o) return;
  if (!dynamic_cast<torch::optim::Adam*>(o)) return o->save(archive);
  std::vector<torch::Tensor> params = unique_parameters(*o);
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string k = "p" + std::to_string(i);
    auto it = o->state().find(adam_key(params[i]));
    const auto* st = it == o->state().end() ? nullptr : static_cast<const torch::optim::AdamParamState*>(it->second.get());
    archive.write(k + "_step", c10::IValue(st ? st->step() : int64_t{-1}));  // -1: no step taken yet
    if (!st) continue;
    archive.write(k + "_m", st->exp_avg(), /*is_buffer=*/true);
    archive.write(k + "_v", st->exp_avg_sq(), /*is_buffer=*/true);
    if (st->max_exp_avg_sq().defined()) archive.write(k + "_vmax", st->max_exp_avg_sq(), /*is_buffer=*/true);
  }
}

void Trainer::load_state(torch::serialize::InputArchive& archive) {
  torch::optim::Optimizer* o = optimizer();
  if (!o) return;
  if (!dynamic_cast<torch::optim::Adam*>(o)) return o->load(archive);
  std::vector<torch::Tensor> params = unique_parameters(*o);
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string k = "p" + std::to_string(i);
    c10::IValue step;
    archive.read(k + "_step", step);
    o->state().erase(adam_key(params[i]));
    if (step.toInt() < 0) continue;
    auto st = std::make_unique<torch::optim::AdamParamState>();
    st->step(step.toInt());
    torch::Tensor m, v, vmax;
    archive.read(k + "_m", m, /*is_buffer=*/true);
    archive.read(k + "_v", v, /*is_buffer=*/true);
    st->exp_avg(m);
    st->exp_avg_sq(v);
    if (archive.try_read(k + "_vmax", vmax, /*is_buffer=*/true)) st->max_exp_avg_sq(vmax);
    o->state()[adam_key(params[i])] = std::move(st);
  }
}

std::string state_path_of(const Config& config) {
  return config.str("output").empty() ? "" : config.str("output") + ".state";
}

std::unique_ptr<torch::optim::Optimizer> make_adam(std::vector<torch::Tensor> params, const Config& c) {
  auto opts = torch::optim::AdamOptions(c.real("lr"))
                  .betas({c.real("adam-beta1"), c.real("adam-beta2")})
                  .weight_decay(c.real("weight-decay"));
  return std::make_unique<torch::optim::Adam>(std::move(params), opts);
}

PackedPositions pack_positions(const torch::Tensor& hidden, const Batch& batch, Positions positions) {
  const int64_t b = hidden.size(0), w = hidden.size(1), d = hidden.size(2);
  PackedPositions p;
  torch::Tensor rows;
  if (positions == Positions::kLast) {
    p.hidden = hidden.select(1, w - 1);
    p.targets = to_device(batch.targets.select(1, w - 1), hidden.device());
    rows = torch::arange(b, torch::kLong);
  } else {
    torch::Tensor flat_targets = batch.targets.reshape(-1);
    torch::Tensor idx = flat_targets.nonzero().squeeze(1);  // CPU
    p.hidden = hidden.reshape({b * w, d}).index_select(0, to_device(idx, hidden.device()));
    p.targets = to_device(flat_targets.index_select(0, idx), hidden.device());
    rows = idx.div(w, "floor");
  }
  const int64_t* r = rows.data_ptr<int64_t>();
  p.users.resize(rows.numel());
  for (int64_t i = 0; i < rows.numel(); ++i) p.users[i] = batch.users[r[i]];
  return p;
}

namespace {
/// One piece's positions: of the last column alone where that is all the piece trains on.
PackedPositions encode_piece(Model& model, const Batch& piece, Positions positions, torch::Device device) {
  torch::Tensor inputs = to_device(piece.inputs, device), users = rows_tensor(piece.users, device);
  if (!piece.last_only) return pack_positions(model.encode_users(inputs, piece.position_offset, users), piece, positions);
  PackedPositions p;
  p.hidden = model.encode_last_users(inputs, piece.position_offset, users);
  p.targets = to_device(piece.targets.select(1, piece.width() - 1), device);
  p.users = piece.users;
  return p;
}
}  // namespace

PackedPositions encode_packed(Model& model, const Batch& batch, Positions positions, torch::Device device) {
  if (batch.parts.empty()) return encode_piece(model, batch, positions, device);
  std::vector<torch::Tensor> hidden, targets;
  PackedPositions out;
  for (const Batch* part : batch.pieces()) {
    PackedPositions p = encode_piece(model, *part, positions, device);
    hidden.push_back(p.hidden);
    targets.push_back(p.targets);
    out.users.insert(out.users.end(), p.users.begin(), p.users.end());
  }
  out.hidden = torch::cat(hidden);
  out.targets = torch::cat(targets);
  return out;
}

void PlainTrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  optimizer_ = make_adam(ctx.model.parameters(), ctx.config);
}

torch::Tensor with_penalty(Model& model, const torch::Tensor& loss) {
  torch::Tensor p = model.penalty();
  return p.defined() ? loss + p : loss;
}

LossInput make_loss_input(TrainContext& ctx, const Batch& batch, torch::Tensor negatives) {
  PackedPositions p = encode_packed(ctx.model, batch, ctx.loss.positions(), ctx.device);
  LossInput in{p.hidden, p.targets, ctx.model.item_table(), negatives};
  if (ctx.loss.num_negatives() > 0 && !in.negatives.defined()) {
    SampleRequest req{p.users, p.hidden.detach(), in.items.detach(), p.targets, ctx.loss.num_negatives()};
    in.negatives = to_device(ctx.sampler.sample(req, ctx.rng), ctx.device);
  }
  return in;
}

torch::Tensor PlainTrainer::step(const Batch& batch) {
  ctx_->model.train();
  optimizer_->zero_grad();
  LossInput in = make_loss_input(*ctx_, batch);
  torch::Tensor loss = backward_mean(with_penalty(ctx_->model, ctx_->loss.forward(in)), in.targets.size(0), *optimizer_);
  optimizer_->step();
  return loss;
}

namespace {

/// This binary's build as a run's provenance names it: "commit" or "commit+dirty". Fault
/// injection for tests: SEQREC_FAULT_BUILD=NAME poses as another build.
std::string this_build() {
  if (const char* other = std::getenv("SEQREC_FAULT_BUILD")) return other;
  const SourceVersion v = source_version();
  return build_name(v.commit, v.dirty);
}

/// Fault injection for tests: SEQREC_FAULT_SIGNAL_AT_STEP=N sends this process SIGTERM, and
/// SEQREC_FAULT_KILL_AT_STEP=N SIGKILL, after its N-th training step; with
/// SEQREC_FAULT_RANK=R only data-parallel rank R does.
int64_t fault_step(const char* variable) {
  const char* v = std::getenv(variable);
  const char* r = std::getenv("SEQREC_FAULT_RANK");
  if (r && std::atoi(r) != dist::rank()) return -1;
  return v ? std::atoll(v) : -1;
}

}  // namespace

namespace {

/// One call of fit(): the loop's settings and state, one method per phase.
class FitLoop {
 public:
  FitLoop(Model& model, Trainer& trainer, Loss& loss, const Dataset& data, const Config& config,
          const TrainOptions& options, RankingEvaluator& evaluator, std::ostream& log);
  FitResult run();

 private:
  using clock = std::chrono::steady_clock;
  static double seconds_since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }
  /// Continues from the training state when --resume finds one; true when mid-epoch.
  bool resume();
  /// Trains epoch `epoch` (from batch at_.next_batch when `mid_epoch`); returns its log.
  EpochLog train_epoch(int64_t epoch, bool mid_epoch);
  /// Validates, keeps the best weights; the early-stopping counter moves.
  void validate(EpochLog& e);
  void print_epoch(const EpochLog& e) const;
  /// Whether the best epoch is picked under the tie rule the evaluator's is not (valid-ties).
  bool select_other_ties() const {
    return options_.valid_ties != "same" && options_.valid_ties != tie_rule_name(evaluator_.options().ties);
  }
  /// The loss read after steps from..step (one step on a CPU) was not finite.
  [[noreturn]] void diverged(int64_t epoch, size_t from, size_t step, size_t steps, double loss) const;
  /// "; the last good state is OUTPUT.state (...)" when a divergence leaves one, else "".
  std::string last_good_state() const;
  /// Writes the training state (rank 0 alone) of a run that has done `step` steps of `epoch`, with the
  /// epoch's loss sum and seconds so far: a stop, a timed state, or the next epoch's start at step 0.
  void save_at(int64_t epoch, size_t step, double sum, double seconds);
  [[noreturn]] void interrupted(int64_t epoch, size_t step, size_t steps, double sum, double seconds);
  /// Whether `state-minutes` have passed since the last state this process wrote (or since it started).
  bool state_due() const {
    return !options_.state_path.empty() && options_.state_minutes > 0 &&
           seconds_since(last_state_) >= 60 * options_.state_minutes;
  }

  Model& model_;
  Trainer& trainer_;
  Loss& loss_;
  const Dataset& data_;
  const Config& config_;  ///< recorded in training states; the components' own keys
  const TrainOptions& options_;
  RankingEvaluator& evaluator_;
  std::ostream& log_;
  const clock::time_point run_start_ = clock::now();
  clock::time_point last_state_ = run_start_;
  const torch::Device device_;
  RunPosition at_;
  /// Data parallel: the stream of this rank's samplers, apart from at_.rng, which draws the
  /// global batch order and is the same on every rank.
  std::mt19937_64 rank_rng_;
  std::unique_ptr<NegativeSampler> sampler_;
  std::unique_ptr<TrainBatcher> batcher_;
  EvalSet valid_, test_;
  FitResult result_;
  std::vector<std::pair<std::string, torch::Tensor>> best_;
  std::unique_ptr<StopSignals> signals_;
  const int64_t term_at_ = fault_step("SEQREC_FAULT_SIGNAL_AT_STEP"), kill_at_ = fault_step("SEQREC_FAULT_KILL_AT_STEP");
  int64_t steps_here_ = 0;
};

FitLoop::FitLoop(Model& model, Trainer& trainer, Loss& loss, const Dataset& data, const Config& config,
                 const TrainOptions& options, RankingEvaluator& evaluator, std::ostream& log)
    : model_(model), trainer_(trainer), loss_(loss), data_(data), config_(config), options_(options),
      evaluator_(evaluator), log_(log), device_(options.device) {
  at_.rng.seed(options.seed);
  result_.builds = {this_build()};
  sampler_ = samplers().create("sampler", options.sampler, config, data);
  loss.prepare(data);
}

bool FitLoop::resume() {
  if (!options_.resume) return false;
  if (options_.state_path.empty()) throw Error("--resume needs --output (the training state lives beside it)");
  if (!read_state(options_.state_path, config_, model_, trainer_, &best_, &result_, &at_, device_)) {
    log_ << "no training state at " << options_.state_path << ": starting from epoch 1" << std::endl;
    return false;
  }
  log_ << "resuming from " << options_.state_path << " at epoch " << at_.epoch << ", step " << at_.next_batch + 1 << std::endl;
  const std::string build = this_build();
  if (result_.builds.back() != build) {  // read_state leaves at least one entry
    log_ << "the state was written by build " << result_.builds.back() << ", this is " << build
         << ": the result records every build that trained the run" << std::endl;
    result_.builds.push_back(build);
  }
  return at_.next_batch > 0;
}

void FitLoop::diverged(int64_t epoch, size_t from, size_t step, size_t steps, double loss) const {
  std::ostringstream o;
  o << "training diverged at epoch " << epoch << ", step " << (from < step ? std::to_string(from) + "-" : "") << step
    << " of " << steps << ": loss "
    << (std::isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf")
    << "; no result written (a lower --lr, or a look at the data, may help)" << last_good_state();
  throw Diverged(o.str());
}

std::string FitLoop::last_good_state() const {
  if (options_.state_path.empty() || !std::filesystem::exists(options_.state_path)) return "";
  return "; the last good state is " + options_.state_path + " (remove it to start again with other settings)";
}

void FitLoop::save_at(int64_t epoch, size_t step, double sum, double seconds) {
  const auto t = last_state_ = clock::now();
  if (dist::rank() != 0) return;  // one state per job, written by rank 0
  RunPosition p = at_;
  p.epoch = epoch;
  p.next_batch = static_cast<int64_t>(step);
  p.loss_sum = sum;
  p.epoch_seconds = seconds;
  result_.state_bytes = write_state(options_.state_path, config_, model_, trainer_, best_, result_, p,
                                    seconds_since(run_start_), device_);
  result_.state_seconds += seconds_since(t);
  ++result_.states_written;
}

void FitLoop::interrupted(int64_t epoch, size_t step, size_t steps, double sum, double seconds) {
  save_at(epoch, step, sum, seconds);
  // A data-parallel rank stops with the rank that was signalled.
  const int signal = stop_signal() ? stop_signal() : SIGTERM;
  throw Interrupted("stopped by " + std::string(stop_signal_name(signal)) + " at epoch " + std::to_string(epoch) +
                        ", step " + std::to_string(step) + " of " + std::to_string(steps) + "; training state written to " +
                        options_.state_path + "; run the same command with --resume to continue",
                    signal);
}

EpochLog FitLoop::train_epoch(int64_t epoch, bool mid_epoch) {
  const auto t0 = clock::now();
  // The batch order is the stream's first draw of the epoch; a run resumed mid-epoch draws
  // it again from the stream as it was then, and goes on with the stream as it was stopped.
  const std::mt19937_64 resumed_rng = at_.rng;
  if (mid_epoch) at_.rng = at_.epoch_rng;
  at_.epoch_rng = at_.rng;
  std::vector<Batch> batches = batcher_->epoch(at_.rng);
  if (mid_epoch) at_.rng = resumed_rng;
  const size_t first = mid_epoch ? static_cast<size_t>(at_.next_batch) : 0;
  if (!mid_epoch) trainer_.begin_epoch(epoch);
  double sum = mid_epoch ? at_.loss_sum : 0, before = mid_epoch ? at_.epoch_seconds : 0;
  Progress progress("epoch " + std::to_string(epoch), static_cast<int64_t>(batches.size()), "seq",
                    static_cast<int64_t>(first));
  double sequences = 0;
  // Losses not yet read: on a GPU reading one waits for its step, so they are summed on the
  // device and read at progress lines, a stop and the epoch's end; a CPU reads every step.
  torch::Tensor unread;
  size_t unread_from = first;
  const bool read_each_step = device_.is_cpu();
  auto read_losses = [&](size_t done) {
    if (!unread.defined()) return;
    const double loss = unread.item<double>();
    unread = torch::Tensor();
    if (!std::isfinite(loss)) diverged(epoch, unread_from + 1, done, batches.size(), loss);
    sum += loss;
    unread_from = done;
  };
  for (size_t i = first; i < batches.size(); ++i) {
    if (dist::active()) {
      // Each rank's samplers and dropout draw from their own streams, a function of the step,
      // so a job resumed from rank 0's state draws them again: bit for bit, as one process.
      std::seed_seq s{options_.seed, static_cast<uint64_t>(dist::rank()),
                      static_cast<uint64_t>(epoch), static_cast<uint64_t>(i)};
      rank_rng_.seed(s);
      torch::manual_seed(rank_rng_());
    }
    {
      PrecisionScope precision(options_.precision, device_);
      torch::Tensor loss = trainer_.step(batches[i]).to(torch::kDouble);
      unread = unread.defined() ? unread + loss : loss;
    }
    const bool due = progress.due(static_cast<int64_t>(i + 1));
    if (read_each_step || due || i + 1 == batches.size()) read_losses(i + 1);
    ++steps_here_;
    if (steps_here_ == term_at_) std::raise(SIGTERM);
    if (steps_here_ == kill_at_) std::raise(SIGKILL);
    // Data parallel: every rank stops at the step where any rank was signalled.
    if (dist::any(signals_ && stop_signal())) {
      read_losses(i + 1);
      interrupted(epoch, i + 1, batches.size(), sum, before + seconds_since(t0));
    }
    if (state_due() && i + 1 < batches.size()) {
      read_losses(i + 1);
      save_at(epoch, i + 1, sum, before + seconds_since(t0));
    }
    for (const Batch* piece : batches[i].pieces()) sequences += static_cast<double>(piece->users.size());
    if (due) {
      std::ostringstream extra;
      extra << "loss " << std::fixed << std::setprecision(4) << sum / static_cast<double>(i + 1);
      progress.update(static_cast<int64_t>(i + 1), sequences, extra.str());
    }
  }
  return {epoch, sum / std::max<size_t>(1, batches.size()), before + seconds_since(t0), 0, {}, {}};
}

void FitLoop::validate(EpochLog& e) {
  EvalResult v = evaluator_.evaluate(model_, data_, valid_);
  e.eval_seconds = v.seconds;
  e.valid = v.metrics;
  auto it = v.metrics.find(options_.metric);
  if (it == v.metrics.end()) throw Error("--metric " + options_.metric + " is not computed (check --ks)");
  e.valid_other_ties = under_other_ties(v, evaluator_.options()).metrics.at(options_.metric);
  const double score = select_other_ties() ? *e.valid_other_ties : it->second;
  if (score <= result_.best_valid) {
    ++at_.since_best;
    return;
  }
  result_.best_valid = score;
  result_.best_epoch = e.epoch;
  result_.best_valid_metrics = v.metrics;
  at_.since_best = 0;
  torch::NoGradGuard g;
  best_.clear();
  for (const auto& p : model_.named_parameters()) best_.emplace_back(p.key(), p.value().detach().clone());
}

void FitLoop::print_epoch(const EpochLog& e) const {
  if (options_.progress == ProgressSetting::kNone) return;
  std::ostringstream o;
  o << "epoch " << e.epoch << " loss " << std::fixed << std::setprecision(4) << e.loss << " train " << std::setprecision(1)
    << e.train_seconds << "s";
  if (!e.valid.empty()) {
    auto value = [](double x) {
      std::ostringstream v;
      v << std::fixed << std::setprecision(4) << x;
      return v.str();
    };
    o << " eval " << e.eval_seconds << "s valid " << options_.metric << " " << value(e.valid.at(options_.metric)) << " best "
      << value(result_.best_valid) << " @" << result_.best_epoch;
    // Ties with the answer (under the reference protocol a repeated answer ties with the rest
    // of its history at 0) can carry the metric that picks the best epoch: the log says so.
    const std::string other = tie_rule_name(with_other_ties(evaluator_.options()).ties);
    if (select_other_ties())
      o << " (" << other << " ties " << value(*e.valid_other_ties) << ", which pick the best epoch)";
    else if (e.valid_other_ties && value(*e.valid_other_ties) != value(e.valid.at(options_.metric)))
      o << " (" << other << " ties " << value(*e.valid_other_ties) << ")";
  }
  if (const std::string note = trainer_.epoch_note(); !note.empty()) o << "; " << note;
  log_ << o.str() << std::endl;
}

FitResult FitLoop::run() {
  if (dist::active() && !trainer_.data_parallel())
    throw Error("--trainer " + trainer_.name() + " does not run data-parallel (its step does not combine the ranks' "
                "gradients); run it as one process");
  const Examples examples = options_.examples;
  if (!model_.causal() && examples == Examples::kSequences && !trainer_.hides_targets())
    throw Error("--model " + model_.kind() + " is not causal: trained at every position of one pass it would see each "
                "answer; use --examples window-prefixes (its authors') or prefixes");
  TrainContext ctx{model_, loss_, *sampler_, config_, dist::active() ? rank_rng_ : at_.rng, device_, &data_};
  trainer_.setup(ctx);
  batcher_ = std::make_unique<TrainBatcher>(data_, model_.max_len(), options_.batch_size, options_.batching, examples);
  batcher_->shard(dist::rank(), dist::world());
  valid_ = make_eval_set(data_, Stage::kValid);
  test_ = make_eval_set(data_, Stage::kTest);
  if (valid_.users.empty() || test_.users.empty()) throw Error(data_.name + ": no user has enough items for validation and test");
  bool mid_epoch = resume();
  signals_ = options_.state_path.empty() ? nullptr : std::make_unique<StopSignals>();
  for (int64_t epoch = at_.epoch; epoch <= options_.epochs; ++epoch) {
    EpochLog e = train_epoch(epoch, mid_epoch);
    mid_epoch = false;
    // A last step can leave the weights non-finite with a finite loss: not a model to validate.
    for (const auto& p : model_.named_parameters())
      if (!torch::isfinite(p.value()).all().item<bool>())
        throw Diverged("training diverged in epoch " + std::to_string(epoch) + ": parameter " + p.key() +
                       " is no longer finite; no result written (a lower --lr may help)" + last_good_state());
    if (epoch % options_.eval_every == 0 || epoch == options_.epochs) validate(e);
    result_.curve.push_back(e);
    print_epoch(e);
    if (at_.since_best >= options_.patience) {
      result_.stopped_early = true;
      break;
    }
    // The state of the next epoch, before its first step.
    const bool state_now = options_.state_every > 0 && epoch % options_.state_every == 0 && epoch < options_.epochs;
    if (!options_.state_path.empty() && state_now) save_at(epoch + 1, 0, 0, 0);
  }
  if (!best_.empty()) {
    torch::NoGradGuard g;
    auto params = model_.named_parameters();
    for (const auto& [name, t] : best_) params[name].copy_(t);
  }
  if (options_.test) result_.test = evaluator_.evaluate(model_, data_, test_);
  result_.total_seconds = at_.seconds_before + seconds_since(run_start_);
  return result_;
}

}  // namespace

FitResult fit(Model& model, Trainer& trainer, Loss& loss, const Dataset& data, const Config& config,
              const TrainOptions& options, RankingEvaluator& evaluator, std::ostream& log) {
  return FitLoop(model, trainer, loss, data, config, options, evaluator, log).run();
}

}  // namespace seqrec
