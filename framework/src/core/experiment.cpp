#include "seqrec/experiment.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "seqrec/checkpoint.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/plugin.h"
#include "seqrec/registry.h"
#include "seqrec/results.h"
#include "seqrec/trainer.h"

namespace seqrec {
namespace fs = std::filesystem;

namespace {

/// Resolves --data: a file, or "synthetic:markov" (generated once into the cache dir).
std::string resolve_data_path(const Config& c) {
  const std::string& data = c.str("data");
  if (data.empty()) throw Error("--data is required");
  if (data != "synthetic:markov") return data;
  fs::path dir = fs::path(expand_home(c.str("cache-dir"))) / "synthetic";
  fs::path file = dir / "markov.txt";
  if (!fs::exists(file)) write_lines(make_markov_dataset(3000, 500, 5, 40, 7), file.string());
  return file.string();
}

/// For trainers with their own objective: --loss is unused, and a loss that is asked
/// anything but its defaults says so.
class NoLoss : public Loss {
 public:
  explicit NoLoss(std::string trainer) : trainer_(std::move(trainer)) {}
  torch::Tensor forward(const LossInput&) override {
    throw Error("the " + trainer_ + " trainer defines its own objective; it has no --loss");
  }
  std::string name() const override { return "none"; }

 private:
  std::string trainer_;
};

std::vector<EpochRecord> curve_of(const FitResult& fr, const std::vector<int64_t>& ks) {
  std::vector<EpochRecord> curve;
  for (const EpochLog& e : fr.curve) {
    EpochRecord x{e.epoch, e.loss, e.train_seconds, {}, {}};
    if (!e.valid.empty()) x.eval_seconds = e.eval_seconds, x.valid = rounded_metrics(e.valid, ks);
    curve.push_back(x);
  }
  return curve;
}

RunTiming timing_of(const FitResult& fr) {
  RunTiming t;
  double train_sum = 0, eval_sum = 0;
  int64_t evals = 0;
  for (const EpochLog& e : fr.curve) {
    train_sum += e.train_seconds;
    if (!e.valid.empty()) eval_sum += e.eval_seconds, ++evals;
  }
  t.epoch_seconds_mean = fr.curve.empty() ? 0.0 : train_sum / fr.curve.size();
  t.valid_eval_seconds_mean = evals ? eval_sum / evals : 0.0;
  t.test_eval_seconds = fr.test.seconds;
  t.total_seconds = fr.total_seconds;
  if (fr.states_written) {
    t.state_write_seconds_mean = fr.state_seconds / fr.states_written;
    t.state_bytes = fr.state_bytes;
  }
  return t;
}

}  // namespace

LoadedData load_data(const Config& c) {
  LoadedData l;
  l.path = resolve_data_path(c);
  PrepareOptions o;
  o.format = c.str("format") == "auto" ? guess_format(l.path) : c.str("format");
  o.k_core = static_cast<int>(c.integer("k-core"));
  l.data = load_dataset(l.path, o, c.str("cache-dir"), &l.cache);
  return l;
}

DatasetInfo LoadedData::info() const {
  return {data.name, path, cache.source_hash, data.num_users(), data.num_items, data.num_interactions(),
          compute_stats(data).test_repeats};
}

ProtocolInfo protocol_info(const EvalOptions& e) {
  const std::string label = e.label();
  return {label, "leave-one-out", protocol_name(e.protocol), e.ties == TieRule::kOptimistic ? "optimistic" : "pessimistic",
          label.substr(0, label.find('/'))};
}

Provenance provenance(const Config& c) {
  const SourceVersion v = source_version();
  return {v.commit, v.dirty, v.code_tree, environment_json(c.str("device"))};
}

Experiment run_experiment(const Config& c, std::ostream& log) {
  check_needs(c);
  if (!c.flag("test") && c.has("ranks")) throw Error("--ranks holds test ranks: it needs --test true");
  LoadedData l = load_data(c);
  log << l.data.name << ": " << format_stats(compute_stats(l.data)) << std::endl;
  Experiment x;
  x.model = models().create("model", c.str("model"), ModelContext{c, l.data});
  x.model->to(torch::Device(c.str("device")));
  std::unique_ptr<Trainer> trainer = trainers().create("trainer", c.str("trainer"), c);
  std::unique_ptr<Loss> loss = trainer->uses_loss() ? losses().create("loss", c.str("loss"), c)
                                                    : std::make_unique<NoLoss>(trainer->name());
  const EvalOptions eo = eval_options_from(c);
  RankingEvaluator evaluator(eo);
  Model& model = *x.model;

  FitResult fr;
  if (model.parameters().empty()) {
    // Nothing to learn (e.g. popularity): validate once and test.
    auto t0 = std::chrono::steady_clock::now();
    fr.best_valid_metrics = evaluator.evaluate(model, l.data, make_eval_set(l.data, Stage::kValid)).metrics;
    fr.best_epoch = 0;
    if (c.flag("test")) fr.test = evaluator.evaluate(model, l.data, make_eval_set(l.data, Stage::kTest));
    fr.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } else {
    log << "training " << c.str("model") << " with " << (trainer->uses_loss() ? loss->name() : "its own objective") << " ("
        << trainer->name() << " trainer, " << c.str("batching") << " batches, " << at::get_num_threads()
        << " intra-op thread(s))" << std::endl;
    if (c.str("device") != "cpu" && c.str("batching") == "split")
      log << "note: split batches encode each batch in parts, which saves padding FLOPs on a CPU but "
             "multiplies kernel launches on a GPU; --batching packed or padded is faster there" << std::endl;
    fr = fit(model, *trainer, *loss, l.data, c, evaluator, log);
  }
  const bool test = c.flag("test");
  if (test) log << "test [" << fr.test.label << "]: " << format_metrics(fr.test.metrics, eo.ks) << std::endl;
  // The other history protocol on the same weights, so every run reports both.
  EvalOptions other = eo;
  other.protocol = eo.protocol == Protocol::kReference ? Protocol::kStrict : Protocol::kReference;
  std::optional<EvalResult> other_test;
  if (test) {
    other_test = RankingEvaluator(other).evaluate(model, l.data, make_eval_set(l.data, Stage::kTest));
    log << "test [" << other_test->label << "]: " << format_metrics(other_test->metrics, eo.ks) << std::endl;
  }
  // Sampled candidates can reorder methods against the full ranking (Krichene & Rendle,
  // KDD 2020): such a run also ranks the whole catalogue, under its own history protocol.
  std::optional<EvalResult> full_test;
  EvalOptions full = eo;
  full.candidates = Candidates::kFull;
  if (test && eo.candidates != Candidates::kFull) {
    full_test = RankingEvaluator(full).evaluate(model, l.data, make_eval_set(l.data, Stage::kTest));
    log << "test [" << full_test->label << "]: " << format_metrics(full_test->metrics, eo.ks) << std::endl;
  }

  RunResult& r = x.result;
  r.schema_version = RunResult::kSchemaVersion;
  r.dataset = l.info();
  r.model = c.str("model");
  r.loss = trainer->uses_loss() ? c.str("loss") : "none: the " + trainer->name() + " trainer defines its objective";
  r.trainer = c.str("trainer");
  r.plugins = loaded_plugins();
  r.protocol = protocol_info(eo);
  r.seed = c.integer("seed");
  r.config_hash = c.hash();
  r.config = c.values();
  r.model_options = nlohmann::ordered_json::parse(model.options_json());
  r.best_epoch = fr.best_epoch;
  r.stopped_early = fr.stopped_early;
  r.resumes = fr.resumes;
  r.epochs_run = static_cast<int64_t>(fr.curve.size());
  r.valid_best = rounded_metrics(fr.best_valid_metrics, eo.ks);
  r.test = rounded_metrics(fr.test.metrics, eo.ks);
  if (other_test) r.test_other_protocol = {{protocol_info(other), rounded_metrics(other_test->metrics, eo.ks)}};
  if (full_test) r.test_full_ranking = {{protocol_info(full), rounded_metrics(full_test->metrics, eo.ks)}};
  if (!model.parameters().empty()) r.item_spectrum = normalised_spectrum(model.item_table());
  r.sampler = c.str("sampler");
  r.curve = curve_of(fr, eo.ks);
  r.timing = timing_of(fr);
  r.peak_rss_bytes = peak_rss_bytes();
  r.seqrec = provenance(c);
  x.test = std::move(fr.test);
  return x;
}

void write_experiment(const Config& c, Experiment& x, std::ostream& log) {
  if (c.has("ranks")) x.result.ranks_fnv1a = save_ranks(x.test, c.str("ranks"));
  if (c.has("save")) {
    StateDict sd = state_dict_of(*x.model);
    nlohmann::ordered_json meta;
    meta["model"] = x.result.model;
    meta["config"] = x.result.config;
    meta["model_options"] = x.result.model_options;
    meta["dataset"] = to_json(x.result)["dataset"];
    meta["test"] = to_json(x.result)["test"];
    sd.metadata_json = meta.dump(2);
    write_state_dict(c.str("save"), sd);
    log << "checkpoint written to " << c.str("save") << std::endl;
  }
  if (c.has("output")) {
    write_run_result(c.str("output"), x.result);
    log << "result written to " << c.str("output") << std::endl;
    if (!c.flag("keep-state")) fs::remove(state_path_of(c));
  }
}

}  // namespace seqrec
