#include "seqrec/experiment.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "seqrec/checkpoint.h"
#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/options.h"
#include "seqrec/plugin.h"
#include "seqrec/provenance.h"
#include "seqrec/registry.h"
#include "seqrec/trainer.h"

namespace seqrec {
namespace fs = std::filesystem;

namespace {

/// Resolves --data: a file, or "synthetic:markov" (generated once into the cache dir).
std::string resolve_data_path(const DataOptions& o) {
  if (o.data != "synthetic:markov") return o.data;
  fs::path dir = fs::path(expand_home(o.cache_dir)) / "synthetic";
  fs::path file = dir / "markov.txt";
  if (!fs::exists(file)) write_lines(make_markov_dataset(3000, 500, 5, 40, 7), file.string());
  return file.string();
}

/// The loss of trainers with their own objective (--loss unused): its defaults (all
/// positions, no negatives) are what such trainers batch with; a forward says it is not one.
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

/// The test evaluations beyond the run's own, on the same weights: under the other history
/// protocol, so every run reports both; and, when candidates are sampled, the full ranking,
/// since sampled metrics can reorder methods (Krichene & Rendle, KDD 2020).
struct MoreTests {
  std::optional<std::pair<ProtocolInfo, EvalResult>> other, ties, full, shuffled;
};

}  // namespace

LoadedData load_data(const DataOptions& d) {
  LoadedData l;
  l.path = resolve_data_path(d);
  PrepareOptions o;
  o.format = d.format == "auto" ? guess_format(l.path) : d.format;
  o.k_core = d.k_core;
  o.min_rating = d.min_rating;
  l.data = load_dataset(l.path, o, d.cache_dir, &l.cache);
  if (!d.dataset_name.empty()) l.data.name = d.dataset_name;
  l.stats = compute_stats(l.data);
  l.split = make_split(l.data, d.split);
  return l;
}

DatasetInfo LoadedData::info() const {
  const DatasetStats& s = stats;
  DatasetInfo d{data.name, path, cache.source_hash, data.num_users(), data.num_items, data.num_interactions(), s.test_repeats, {}, {}};
  if (s.leakage && split.kind == "loo") d.loo_leakage = {{s.leakage->train_after_first_test, s.leakage->users_test_before_last_train}};
  if (split.kind != "loo") d.split = split;
  return d;
}

ProtocolInfo protocol_info(const EvalOptions& e, const SplitSummary& split) {
  const std::string label = e.label();
  const bool loo = split.kind == "loo";
  return {loo ? label : split.kind + "/" + label, loo ? "leave-one-out" : split.kind, protocol_name(e.protocol),
          tie_rule_name(e.ties), label.substr(0, label.find('/'))};
}

Provenance provenance(const std::string& device) {
  const SourceVersion v = source_version();
  return {v.commit, v.dirty, v.code_tree, environment_json(device), {}};
}

RunResult result_of_run(const Config& c, const LoadedData& l, const EvalOptions& eo) {
  RunResult r;
  r.schema_version = RunResult::kSchemaVersion;
  r.dataset = l.info();
  r.protocol = protocol_info(eo, l.split);
  r.config_hash = c.hash();
  r.config = c.values();
  r.seqrec = provenance(c.str("device"));
  if (dist::active()) r.data_parallel = nlohmann::ordered_json{{"world_size", dist::world()}, {"backend", dist::backend()}};
  return r;
}

namespace {

MoreTests more_tests(const RunOptions& o, Model& model, const LoadedData& l, const EvalResult& test, std::ostream& log) {
  MoreTests m;
  if (!o.train.test) return m;
  const EvalOptions& eo = o.eval;
  auto logged = [&](const EvalOptions& o, EvalResult r) {
    log << "test [" << r.label << "]: " << format_metrics(r.metrics, eo.ks) << std::endl;
    return std::make_pair(protocol_info(o, l.split), std::move(r));
  };
  auto run = [&](const EvalOptions& o) {
    return logged(o, RankingEvaluator(o).evaluate(model, l.data, make_eval_set(l.data, Stage::kTest)));
  };
  EvalOptions other = eo;
  other.protocol = eo.protocol == Protocol::kReference ? Protocol::kStrict : Protocol::kReference;
  m.other = run(other);
  // Ties with the answer's score (on Yelp, an answer that repeats a history item ties with the
  // rest of the history under the reference protocol): the other rule bounds the tie order.
  // The test's own tie counts give it, without scoring again.
  m.ties = logged(with_other_ties(eo), under_other_ties(test, eo));
  if (eo.candidates != Candidates::kFull) {
    EvalOptions full = eo;
    full.candidates = Candidates::kFull;
    m.full = run(full);
  }
  if (!eo.shuffled_history) {
    EvalOptions shuffled = eo;
    shuffled.shuffled_history = true;
    m.shuffled = run(shuffled);
  }
  return m;
}

RunResult assemble_result(const Config& c, const RunOptions& o, const LoadedData& l, const Trainer& trainer, Model& model,
                          const FitResult& fr, const MoreTests& more) {
  const EvalOptions& eo = o.eval;
  RunResult r = result_of_run(c, l, eo);
  r.model = o.model;
  r.loss = model.parameters().empty() ? "none: nothing to train"
           : trainer.uses_loss()       ? o.loss
                                       : "none: the " + trainer.name() + " trainer defines its objective";
  r.trainer = o.trainer;
  r.plugins = loaded_plugins();
  r.seed = static_cast<int64_t>(o.train.seed);
  r.model_options = nlohmann::ordered_json::parse(model.options_json());
  r.best_epoch = fr.best_epoch;
  r.stopped_early = fr.stopped_early;
  r.resumes = fr.resumes;
  r.epochs_run = static_cast<int64_t>(fr.curve.size());
  r.valid_best = rounded_metrics(fr.best_valid_metrics, eo.ks);
  r.test = rounded_metrics(fr.test.metrics, eo.ks);
  if (more.other) r.test_other_protocol = {{more.other->first, rounded_metrics(more.other->second.metrics, eo.ks)}};
  if (more.ties) r.test_other_ties = {{more.ties->first, rounded_metrics(more.ties->second.metrics, eo.ks)}};
  if (more.full) r.test_full_ranking = {{more.full->first, rounded_metrics(more.full->second.metrics, eo.ks)}};
  if (more.shuffled) r.test_shuffled_history = {{more.shuffled->first, rounded_metrics(more.shuffled->second.metrics, eo.ks)}};
  if (!model.parameters().empty()) r.item_spectrum = normalised_spectrum(model.item_table());
  r.sampler = o.train.sampler;
  if (dist::active()) {
    (*r.data_parallel)["global_batch_size"] = o.train.batch_size;
    (*r.data_parallel)["per_rank_batch_size"] = (o.train.batch_size + dist::world() - 1) / dist::world();
  }
  r.curve = curve_of(fr, eo.ks);
  r.timing = timing_of(fr);
  r.peak_rss_bytes = peak_rss_bytes();
  if (fr.builds.size() > 1) r.seqrec.trained_by = fr.builds;
  return r;
}

/// One line of what --init loaded, then the names on each side that did not match.
void log_init(const std::string& path, const InitReport& r, std::ostream& log) {
  auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += " " + n;
    return s;
  };
  log << "init: " << r.loaded.size() << " tensor(s) from " << path << ":" << names(r.loaded) << std::endl;
  if (!r.unused.empty()) log << "init: " << r.unused.size() << " tensor(s) of the file not in the model:" << names(r.unused) << std::endl;
  if (!r.kept.empty()) log << "init: " << r.kept.size() << " tensor(s) of the model keep their initialisation:" << names(r.kept) << std::endl;
  if (r.loaded.empty()) throw Error(path + ": --init found no tensor of the model's by name");
}

}  // namespace

Experiment run_experiment(const Config& c, std::ostream& log) {
  check_needs(c);
  Experiment x;
  x.options = run_options_from(c);
  const RunOptions& o = x.options;
  LoadedData l = load_data(o.data);
  log << l.data.name << ": " << format_stats(l.stats) << std::endl;
  log << l.data.name << ": " << format_split(l.split) << std::endl;
  x.model = models().create("model", o.model, ModelContext{c, l.data});
  if (!o.init.empty()) {
    StateDict init = read_state_dict(o.init);
    if (init.metadata_json.empty()) {  // a reference implementation's file, in the model's names and shapes
      const ForeignImport imported = import_foreign(init);
      if (!imported.keys.empty()) {
        const std::string& kind = imported.keys.at("model");
        log << "init: " << o.init << " read by the " << imported.importer << " importer as " << kind
            << (kind == o.model ? "" : "; this run's model is " + o.model) << std::endl;
      }
    }
    log_init(o.init, init_from(*x.model, init), log);
  }
  x.model->to(torch::Device(o.train.device));
  if (dist::active()) {
    // Every rank starts from rank 0's weights, as DDP does.
    std::vector<torch::Tensor> state = x.model->parameters();
    for (const torch::Tensor& b : x.model->buffers()) state.push_back(b);
    dist::broadcast(state);
  }
  std::unique_ptr<Trainer> trainer = trainers().create("trainer", o.trainer, c);
  std::unique_ptr<Loss> loss = trainer->uses_loss() ? losses().create("loss", o.loss, c)
                                                    : std::make_unique<NoLoss>(trainer->name());
  RankingEvaluator evaluator(o.eval);
  Model& model = *x.model;

  FitResult fr;
  if (model.parameters().empty()) {
    // Nothing to learn (e.g. popularity): validate once and test.
    auto t0 = std::chrono::steady_clock::now();
    fr.best_valid_metrics = evaluator.evaluate(model, l.data, make_eval_set(l.data, Stage::kValid)).metrics;
    fr.best_epoch = 0;
    if (o.train.test) fr.test = evaluator.evaluate(model, l.data, make_eval_set(l.data, Stage::kTest));
    fr.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } else {
    log << "training " << o.model << " with " << (trainer->uses_loss() ? loss->name() : "its own objective") << " ("
        << trainer->name() << " trainer, " << name_of(batching_names(), o.train.batching) << " batches, "
        << at::get_num_threads() << " intra-op thread(s))" << std::endl;
    if (o.train.device != "cpu" && o.train.batching == Batching::kSplit)
      log << "note: split batches encode each batch in parts, which saves padding FLOPs on a CPU but "
             "multiplies kernel launches on a GPU; --batching packed or padded is faster there" << std::endl;
    fr = fit(model, *trainer, *loss, l.data, c, o.train, evaluator, log);
  }
  if (o.train.test) log << "test [" << fr.test.label << "]: " << format_metrics(fr.test.metrics, o.eval.ks) << std::endl;
  x.result = assemble_result(c, o, l, *trainer, model, fr, more_tests(o, model, l, fr.test, log));
  x.test = std::move(fr.test);
  return x;
}

void write_experiment(Experiment& x, std::ostream& log) {
  const RunOptions& o = x.options;
  if (!o.ranks.empty()) x.result.ranks_fnv1a = save_ranks(x.test, o.ranks);
  if (!o.save.empty()) {
    StateDict sd = state_dict_of(*x.model);
    nlohmann::ordered_json meta;
    meta["model"] = x.result.model;
    meta["config"] = x.result.config;
    meta["model_options"] = x.result.model_options;
    const nlohmann::ordered_json result = to_json(x.result);
    meta["dataset"] = result["dataset"];
    meta["test"] = result["test"];
    sd.metadata_json = meta.dump(2);
    write_state_dict(o.save, sd);
    log << "checkpoint written to " << o.save << std::endl;
  }
  if (!o.output.empty()) {
    write_run_result(o.output, x.result);
    log << "result written to " << o.output << std::endl;
    if (!o.keep_state) fs::remove(o.train.state_path);
  }
}

}  // namespace seqrec
