#include "seqrec/registry.h"

#include <sstream>

#include "seqrec/command.h"
#include "seqrec/dropout.h"
#include "seqrec/evaluator.h"
#include "seqrec/plugin.h"
#include "seqrec/sampler.h"
#include "seqrec/trainer.h"

namespace seqrec {

ModelRegistry& models() {
  static ModelRegistry r;
  return r;
}
LossRegistry& losses() {
  static LossRegistry r;
  return r;
}
TrainerRegistry& trainers() {
  static TrainerRegistry r;
  return r;
}
SamplerRegistry& samplers() {
  static SamplerRegistry r;
  return r;
}
ImporterRegistry& importers() {
  static ImporterRegistry r;
  return r;
}

ForeignImport import_foreign(StateDict& sd) {
  for (const auto& [name, importer] : importers().entries()) {
    StateDict trial = sd;  // the tensors are shared, not copied
    std::map<std::string, std::string> keys = importer.make(trial);
    if (keys.empty()) continue;
    if (!keys.count("model")) throw Error("checkpoint importer '" + name + "' (" + importer.origin + ") names no model");
    sd = std::move(trial);
    return {name, std::move(keys)};
  }
  return {};
}
// Formats and metrics are read outside any command too (a table's metric, a test's dataset):
// reading them registers the built-ins first, which is a no-op once done.
FormatRegistry& formats() {
  static FormatRegistry r("format");
  register_builtins();
  return r;
}
MetricRegistry& metrics() {
  static MetricRegistry r;
  register_builtins();
  return r;
}

namespace {
void declare_common_keys(Schema& s) {
  s.add(KeySpec{"config", KeyType::kString, "", "INI file with more keys (command line wins)", "general"}.unhashed());
  s.add({"data", KeyType::kString, "", "dataset file (lines, .inter or .csv), or synthetic:markov", "data"});
  s.add(KeySpec{"dataset-name", KeyType::kString, "",
                "the dataset's name in results, logs and tables (empty: the file's name without its endings)", "data"}
            .unhashed());
  s.add({"format", KeyType::kString, "auto", "source format: auto (by the file's ending) or a registered one (seqrec list)",
         "data"});
  s.add({"k-core", KeyType::kInt, "0", "iterative k-core filter for inter/csv sources (0 = off)", "data"});
  s.add({"min-rating", KeyType::kString, "",
         "drop rows rated below this, before the k-core (sources with a rating column: movielens, 4-column csv, "
         "inter with rating:float; empty = keep all)", "data"});
  s.add({"split", KeyType::kString, "loo",
         "evaluation split: loo (leave-one-out, the papers') or temporal (global time cuts; needs timestamps)", "data",
         {"loo", "temporal"}});
  s.add({"split.valid-from", KeyType::kString, "q0.8",
         "temporal: validation answers from this time on (qF: the time quantile F of all interactions, or a timestamp)",
         "data"});
  s.add({"split.test-from", KeyType::kString, "q0.9", "temporal: test answers from this time on (qF or a timestamp)", "data"});
  s.add({"split.valid-history", KeyType::kBool, "true",
         "temporal: the validation period's interactions join the test history (false: only the training part)", "data"});
  s.add(KeySpec{"cache-dir", KeyType::kString, "~/.cache/seqrec", "where HDF5 dataset caches live", "data"}.unhashed());
  s.add(KeySpec{"max-len", KeyType::kInt, "50", "input window: the last max-len items", "data"}.architecture());
  s.add({"model", KeyType::kString, "sasrec", "encoder (see seqrec list)", "model"});
  s.add({"item-block", KeyType::kInt, "0",
         "catalogue columns the full-softmax losses (ce, cce, BERT4Rec's, ELECRec's generator) score together; "
         "0 = all, unless a row block's logits would pass 256 MiB (1 GiB on a CPU, which scores 256 rows at a time; "
         "results equal within float rounding)",
         "model"});
  s.add({"loss", KeyType::kString, "cce", "training loss (see seqrec list)", "model"});
  s.add({"init", KeyType::kString, "",
         "train: start from these weights, by tensor name (a seqrec or PyTorch checkpoint, zip or legacy format; "
         "shapes must agree; e.g. S3Rec's pre-training)", "model"});
  s.add({"seed", KeyType::kInt, "1", "seed for init, dropout, batching and sampling", "general"});
  s.add({"threads", KeyType::kInt, "0",
         "LibTorch intra-op threads; 0 = one per core (OpenBLAS keeps its own threads; with OMP_WAIT_POLICY=passive, "
         "which the seqrec binary sets, sharing the cores measured fastest)", "general"});
  s.add({"device", KeyType::kString, "cpu", "cpu or cuda[:N]", "general"});
  s.add({"dropout-rng", KeyType::kString, "fast",
         "generator of the encoders' CPU dropout masks: fast (counter-based, seeded from --seed) or torch "
         "(LibTorch's bernoulli_, about 3x slower; the masks of every result recorded before this key existed)", "general",
         choices_of(dropout_rng_names())});
  s.add({"checkpoint", KeyType::kString, "", "checkpoint to evaluate (PyTorch state dict or seqrec file)", "output"});
  s.add({"stage", KeyType::kString, "test", "which held-out item eval ranks", "eval", choices_of(stage_names())});
  s.add(KeySpec{"output", KeyType::kString, "", "train: write the run's JSON result here", "output"}.unhashed());
  s.add(KeySpec{"label", KeyType::kString, "", "train: the method's name in tables (default model+loss, or model+trainer)", "output"}.unhashed());
  s.add(KeySpec{"json", KeyType::kString, "", "eval: write the metrics JSON here", "output"}.unhashed());
  s.add(KeySpec{"save", KeyType::kString, "", "train: save the best model as a checkpoint here", "output"}.unhashed());
  s.add(KeySpec{"ranks", KeyType::kString, "", "write per-user ranks of the test evaluation to this HDF5 file", "output"}.unhashed());
  const double inf = HUGE_VAL;
  s.limit("k-core", {0, inf});
  s.limit("max-len", {1, inf});
  s.limit("item-block", {0, inf});
  s.limit("seed", {0, inf});
  s.limit("threads", {0, inf});
}
}  // namespace

void register_builtins() {
  static bool done = false;
  if (done) return;
  done = true;
  Schema& s = schema();
  declare_common_keys(s);
  declare_train_keys(s);
  declare_eval_keys(s);
  samplers().add("uniform",
                 [](const Config&, const Dataset& d) -> std::unique_ptr<NegativeSampler> { return std::make_unique<UniformSampler>(d); },
                 "uniform over the catalogue, the user's items rejected (the reference sampler)");
  trainers().add("plain", [](const Config&) -> std::unique_ptr<Trainer> { return std::make_unique<PlainTrainer>(); },
                 "one forward, one loss, one Adam step per batch");
  // The baselines (and anything else compiled in with SEQREC_BUILTIN), through the API a plugin gets.
  PluginHost host{SEQREC_PLUGIN_ABI_VERSION, "builtin", &s, &models(), &losses(), &trainers(), &samplers(), &importers(), &commands(),
                  &formats(), &metrics()};
  for (RegisterFn fn : builtin_registrations()) fn(host);
}

void check_needs(const Config& c) {
  auto check = [&](const std::string& kind, const auto& registry) {
    auto it = registry.entries().find(c.str(kind));
    if (it == registry.entries().end()) return;  // create() names unknown components
    for (const auto& [key, want] : it->second.needs)
      if (c.str(key) != want)
        throw Error("--" + kind + " " + it->first + " needs --" + key + " " + want + " (got " + c.str(key) + ")");
  };
  check("model", models());
  check("trainer", trainers());
  check("loss", losses());
  check("sampler", samplers());
}

void apply_component_defaults(Config& c) {
  auto apply = [&](const std::string& kind, const auto& registry) {
    auto it = registry.entries().find(c.str(kind));
    if (it == registry.entries().end()) return;
    for (const auto* keys : {&it->second.needs, &it->second.defaults})
      for (const auto& [key, value] : *keys)
        if (c.source(key) == "default") c.set(key, value, "--" + kind + " " + it->first);
  };
  apply("model", models());
  apply("trainer", trainers());
  apply("loss", losses());
  apply("sampler", samplers());
}

std::string describe_registries() {
  std::ostringstream o;
  auto list = [&](const char* title, const auto& reg) {
    o << title << ":\n";
    for (const auto& [name, e] : reg.entries()) o << "  " << name << "  [" << e.origin << "]  " << e.help << "\n";
  };
  list("models", models());
  list("losses", losses());
  list("trainers", trainers());
  list("samplers", samplers());
  list("checkpoint importers", importers());
  list("formats", formats());
  list("metrics", metrics());
  return o.str();
}

}  // namespace seqrec
