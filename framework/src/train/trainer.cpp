#include "seqrec/trainer.h"

#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "seqrec/error.h"
#include "seqrec/registry.h"

namespace seqrec {

void declare_train_keys(Schema& s) {
  s.add({"epochs", KeyType::kInt, "300", "maximum training epochs", "train"});
  s.add({"patience", KeyType::kInt, "40", "validations without improvement before stopping", "train"});
  s.add({"metric", KeyType::kString, "ndcg@20", "validation metric for early stopping (e.g. ndcg@20, hit@10, mrr)", "train"});
  s.add({"eval-every", KeyType::kInt, "1", "validate every N epochs", "train"});
  s.add({"batch-size", KeyType::kInt, "256", "sequences per batch", "train"});
  s.add({"lr", KeyType::kFloat, "0.001", "Adam learning rate", "train"});
  s.add({"adam-beta1", KeyType::kFloat, "0.9", "Adam beta1", "train"});
  s.add({"adam-beta2", KeyType::kFloat, "0.999", "Adam beta2", "train"});
  s.add({"weight-decay", KeyType::kFloat, "0", "Adam weight decay", "train"});
  s.add({"batching", KeyType::kString, "split",
         "batch layout: padded (max-len wide, the reference), packed (cut to the longest), split (random batches "
         "encoded in length-sorted parts: the reference's steps, fast), bucketed (batches from length-sorted pools: "
         "fastest, but changes which users share a step)",
         "train", {"padded", "packed", "split", "bucketed"}});
  s.add({"trainer", KeyType::kString, "plain", "training strategy", "train"});
  s.add({"sampler", KeyType::kString, "uniform", "negative sampler of sampled losses (see seqrec list)", "train"});
  s.add({"progress", KeyType::kString, "auto", "progress display: auto (bar on a terminal), bar, lines, none",
         "output", {"auto", "bar", "lines", "none"}});
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
    p.targets = batch.targets.select(1, w - 1).to(hidden.device());
    rows = torch::arange(b, torch::kLong);
  } else {
    torch::Tensor flat_targets = batch.targets.reshape(-1);
    torch::Tensor idx = flat_targets.nonzero().squeeze(1);  // CPU
    p.hidden = hidden.reshape({b * w, d}).index_select(0, idx.to(hidden.device()));
    p.targets = flat_targets.index_select(0, idx).to(hidden.device());
    rows = idx.div(w, "floor");
  }
  const int64_t* r = rows.data_ptr<int64_t>();
  p.users.resize(rows.numel());
  for (int64_t i = 0; i < rows.numel(); ++i) p.users[i] = batch.users[r[i]];
  return p;
}

PackedPositions encode_packed(Model& model, const Batch& batch, Positions positions, torch::Device device) {
  if (batch.parts.empty()) return pack_positions(model.encode(batch.inputs.to(device), batch.position_offset), batch, positions);
  std::vector<torch::Tensor> hidden, targets;
  PackedPositions out;
  for (const Batch* part : batch.pieces()) {
    PackedPositions p = pack_positions(model.encode(part->inputs.to(device), part->position_offset), *part, positions);
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

LossInput make_loss_input(TrainContext& ctx, const Batch& batch, torch::Tensor negatives) {
  PackedPositions p = encode_packed(ctx.model, batch, ctx.loss.positions(), ctx.device);
  LossInput in{p.hidden, p.targets, ctx.model.item_table(), negatives};
  if (ctx.loss.num_negatives() > 0 && !in.negatives.defined()) {
    SampleRequest req{p.users, p.hidden.detach(), in.items.detach(), p.targets, ctx.loss.num_negatives()};
    in.negatives = ctx.sampler.sample(req, ctx.rng).to(ctx.device);
  }
  return in;
}

double PlainTrainer::step(const Batch& batch) {
  ctx_->model.train();
  optimizer_->zero_grad();
  torch::Tensor loss = ctx_->loss.forward(make_loss_input(*ctx_, batch));
  loss.backward();
  optimizer_->step();
  return loss.item<double>();
}

namespace {

/// Progress of one epoch: a redrawn bar on a terminal, nothing otherwise (the epoch line
/// is printed either way).
class ProgressBar {
 public:
  ProgressBar(bool enabled, int64_t total) : enabled_(enabled), total_(total) {}
  void update(int64_t done, double loss, double seconds) {
    if (!enabled_) return;
    const int width = 30;
    int filled = static_cast<int>(width * done / std::max<int64_t>(1, total_));
    std::fprintf(stderr, "\r  [%s%s] %lld/%lld loss %.4f %.1fs", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), loss, seconds);
    if (done == total_) std::fprintf(stderr, "\r%*s\r", 80, "");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  int64_t total_;
};

}  // namespace

FitResult fit(Model& model, Trainer& trainer, Loss& loss, const Dataset& data, const Config& config,
              RankingEvaluator& evaluator, std::ostream& log) {
  using clock = std::chrono::steady_clock;
  const auto run_start = clock::now();
  const int64_t epochs = config.integer("epochs"), patience = config.integer("patience");
  const int64_t eval_every = std::max<int64_t>(1, config.integer("eval-every"));
  const std::string metric = config.str("metric");
  const std::string progress = config.str("progress");
  const bool bar = progress == "bar" || (progress == "auto" && isatty(STDERR_FILENO));
  const bool lines = progress != "none";

  std::mt19937_64 rng(static_cast<uint64_t>(config.integer("seed")));
  std::unique_ptr<NegativeSampler> sampler = samplers().create("sampler", config.str("sampler"), config, data);
  torch::Device device(config.str("device"));
  loss.prepare(data);
  TrainContext ctx{model, loss, *sampler, config, rng, device};
  trainer.setup(ctx);
  TrainBatcher batcher(data, model.max_len(), config.integer("batch-size"), batching_from_string(config.str("batching")));
  EvalSet valid = make_eval_set(data, Stage::kValid), test = make_eval_set(data, Stage::kTest);
  if (valid.users.empty() || test.users.empty()) throw Error(data.name + ": no user has enough items for validation and test");

  FitResult result;
  std::vector<std::pair<std::string, torch::Tensor>> best;
  auto snapshot = [&] {
    torch::NoGradGuard g;
    best.clear();
    for (const auto& p : model.named_parameters()) best.emplace_back(p.key(), p.value().detach().clone());
  };
  int64_t since_best = 0;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = clock::now();
    std::vector<Batch> batches = batcher.epoch(rng);
    ProgressBar pb(bar, static_cast<int64_t>(batches.size()));
    double sum = 0;
    for (size_t i = 0; i < batches.size(); ++i) {
      sum += trainer.step(batches[i]);
      if (bar && (i % 8 == 7 || i + 1 == batches.size()))
        pb.update(static_cast<int64_t>(i + 1), sum / (i + 1), std::chrono::duration<double>(clock::now() - t0).count());
    }
    EpochLog e{epoch, sum / std::max<size_t>(1, batches.size()),
               std::chrono::duration<double>(clock::now() - t0).count(), 0, {}};
    if (epoch % eval_every == 0 || epoch == epochs) {
      EvalResult v = evaluator.evaluate(model, data, valid);
      e.eval_seconds = v.seconds;
      e.valid = v.metrics;
      auto it = v.metrics.find(metric);
      if (it == v.metrics.end()) throw Error("--metric " + metric + " is not computed (check --ks)");
      if (it->second > result.best_valid) {
        result.best_valid = it->second;
        result.best_epoch = epoch;
        result.best_valid_metrics = v.metrics;
        snapshot();
        since_best = 0;
      } else {
        ++since_best;
      }
    }
    result.curve.push_back(e);
    if (lines) {
      std::ostringstream o;
      o << "epoch " << epoch << " loss " << std::fixed << std::setprecision(4) << e.loss << " train "
        << std::setprecision(1) << e.train_seconds << "s";
      if (!e.valid.empty())
        o << " eval " << e.eval_seconds << "s valid " << metric << " " << std::setprecision(4) << e.valid[metric]
          << " best " << result.best_valid << " @" << result.best_epoch;
      log << o.str() << std::endl;
    }
    if (since_best >= patience) {
      result.stopped_early = true;
      break;
    }
  }
  if (!best.empty()) {
    torch::NoGradGuard g;
    auto params = model.named_parameters();
    for (const auto& [name, t] : best) params[name].copy_(t);
  }
  result.test = evaluator.evaluate(model, data, test);
  result.total_seconds = std::chrono::duration<double>(clock::now() - run_start).count();
  return result;
}

}  // namespace seqrec
