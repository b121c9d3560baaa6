#include "seqrec/run_result.h"

#include <array>
#include <cmath>
#include <set>

#include "seqrec/error.h"
#include "seqrec/exposure.h"
#include "seqrec/files.h"
#include "seqrec/metric.h"

namespace seqrec {

using ojson = nlohmann::ordered_json;
using json = nlohmann::ordered_json;  // read in file order: metrics keep their order

double metric_value(const Metrics& m, const std::string& name) {
  for (const auto& [n, v] : m)
    if (n == name) return v;
  throw Error("no metric '" + name + "' in the result");
}

Metrics rounded_metrics(const std::map<std::string, double>& m, const std::vector<int64_t>& ks) {
  Metrics out;
  std::vector<std::string> names = metric_names(ks);
  for (const std::string& name : exposure_metric_names(ks)) names.push_back(name);
  for (const std::string& name : names)
    if (m.count(name)) out.emplace_back(name, std::round(m.at(name) * 1e6) / 1e6);
  return out;
}

namespace {

/// The extra test evaluations of a train result, by JSON key, in the order written.
template <typename R>
auto more_tests(R& r) {
  return std::array{std::pair{"test_other_protocol", &r.test_other_protocol},
                    std::pair{"test_other_ties", &r.test_other_ties},
                    std::pair{"test_full_ranking", &r.test_full_ranking},
                    std::pair{"test_shuffled_history", &r.test_shuffled_history}};
}

ojson metrics_to_json(const Metrics& m) {
  ojson j = ojson::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}
Metrics metrics_from(const json& j) {
  Metrics m;
  for (const auto& [k, v] : j.items()) m.emplace_back(k, v.get<double>());
  return m;
}

ojson protocol_to_json(const ProtocolInfo& p) {
  return {{"label", p.label}, {"split", p.split}, {"protocol", p.protocol}, {"ties", p.ties}, {"candidates", p.candidates}};
}
ProtocolInfo protocol_from(const json& j) {
  return {j.at("label"), j.at("split"), j.at("protocol"), j.at("ties"), j.at("candidates")};
}

ojson dataset_to_json(const DatasetInfo& d) {
  ojson j = {{"name", d.name}, {"path", d.path}, {"source_hash", d.source_hash},
             {"users", d.users}, {"items", d.items}, {"interactions", d.interactions}};
  if (d.test_answer_repeats) j["test_answer_repeats"] = *d.test_answer_repeats;
  if (d.loo_leakage)
    j["loo_leakage"] = {{"train_after_first_test", d.loo_leakage->first},
                        {"users_test_before_last_train", d.loo_leakage->second}};
  if (d.split) {
    const SplitSummary& s = *d.split;
    j["split"] = {{"kind", s.kind}, {"valid_from", s.valid_from}, {"test_from", s.test_from},
                  {"valid_cut", s.valid_cut}, {"test_cut", s.test_cut}, {"test_history_with_valid", s.with_valid_history},
                  {"train_users", s.train_users}, {"train_interactions", s.train_interactions},
                  {"valid_users", s.valid_users}, {"test_users", s.test_users},
                  {"valid_no_history", s.valid_no_history}, {"test_no_history", s.test_no_history}};
  }
  return j;
}
DatasetInfo dataset_from(const json& j) {
  DatasetInfo d{j.at("name"), j.at("path"), j.at("source_hash"), j.at("users"), j.at("items"), j.at("interactions"), {}, {}, {}};
  if (j.contains("test_answer_repeats")) d.test_answer_repeats = j["test_answer_repeats"].get<int64_t>();
  if (j.contains("loo_leakage"))
    d.loo_leakage = {j["loo_leakage"].at("train_after_first_test").get<double>(),
                     j["loo_leakage"].at("users_test_before_last_train").get<double>()};
  if (j.contains("split")) {
    const json& x = j["split"];
    d.split = SplitSummary{x.at("kind"), x.at("valid_cut"), x.at("test_cut"), x.at("valid_from"), x.at("test_from"),
                           x.at("test_history_with_valid"), x.at("train_users"), x.at("train_interactions"),
                           x.at("valid_users"), x.at("test_users"), x.at("valid_no_history"), x.at("test_no_history")};
  }
  return d;
}

ojson provenance_to_json(const Provenance& p) {
  ojson j = {{"commit", p.commit}, {"dirty", p.dirty}};
  if (p.code_tree) j["code_tree"] = *p.code_tree;
  j["environment"] = p.environment;
  if (p.trained_by) j["trained_by"] = *p.trained_by;
  return j;
}
Provenance provenance_from(const json& j) {
  Provenance p{j.at("commit"), j.at("dirty"), {}, j.at("environment"), {}};
  if (j.contains("code_tree")) p.code_tree = j["code_tree"].get<std::string>();
  if (j.contains("trained_by")) p.trained_by = j["trained_by"].get<std::vector<std::string>>();
  return p;
}

ojson curve_to_json(const std::vector<EpochRecord>& curve) {
  ojson out = ojson::array();
  for (const EpochRecord& e : curve) {
    ojson x = {{"epoch", e.epoch}, {"loss", e.loss}, {"train_seconds", e.train_seconds}};
    if (e.eval_seconds) {
      x["eval_seconds"] = *e.eval_seconds;
      x["valid"] = metrics_to_json(e.valid);
    }
    out.push_back(x);
  }
  return out;
}
std::vector<EpochRecord> curve_from(const json& j) {
  std::vector<EpochRecord> out;
  for (const json& x : j) {
    EpochRecord e{x.at("epoch"), x.at("loss"), x.at("train_seconds"), {}, {}};
    if (x.contains("eval_seconds")) e.eval_seconds = x["eval_seconds"].get<double>();
    if (x.contains("valid")) e.valid = metrics_from(x["valid"]);
    out.push_back(e);
  }
  return out;
}

ojson timing_to_json(const RunTiming& t) {
  ojson j = {{"epoch_seconds_mean", t.epoch_seconds_mean}, {"valid_eval_seconds_mean", t.valid_eval_seconds_mean},
             {"test_eval_seconds", t.test_eval_seconds}, {"total_seconds", t.total_seconds}};
  if (t.state_write_seconds_mean) j["state_write_seconds_mean"] = *t.state_write_seconds_mean;
  if (t.state_bytes) j["state_bytes"] = *t.state_bytes;
  return j;
}
RunTiming timing_from(const json& j) {
  RunTiming t{j.at("epoch_seconds_mean"), j.at("valid_eval_seconds_mean"), j.at("test_eval_seconds"), j.at("total_seconds"),
              {}, {}};
  if (j.contains("state_write_seconds_mean")) t.state_write_seconds_mean = j["state_write_seconds_mean"].get<double>();
  if (j.contains("state_bytes")) t.state_bytes = j["state_bytes"].get<int64_t>();
  return t;
}

template <typename T>
void put(ojson& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <typename T>
void get(const json& j, const char* key, std::optional<T>* v) {
  if (j.contains(key)) *v = j[key].get<T>();
}

}  // namespace

std::string RunResult::ranks_path() const {
  auto it = config.find("ranks");
  return it == config.end() ? "" : it->second;
}

ojson to_json(const RunResult& r) {
  ojson j;
  put(j, "schema_version", r.schema_version);
  j["command"] = r.command;
  if (r.command == "eval") {
    put(j, "ranks_fnv1a", r.ranks_fnv1a);  // where eval results have always kept it
    j["checkpoint"] = r.checkpoint;
    j["stage"] = r.stage;
    j["dataset"] = dataset_to_json(r.dataset);
    j["protocol"] = protocol_to_json(r.protocol);
    j["metrics"] = metrics_to_json(r.test);
    if (r.test_other_ties)  // the stage's metrics under the other tie rule
      j["other_ties"] = {{"protocol", protocol_to_json(r.test_other_ties->first)},
                         {"metrics", metrics_to_json(r.test_other_ties->second)}};
    j["users"] = r.users;
    j["eval_seconds"] = r.eval_seconds;
    j["total_seconds"] = r.total_seconds;
    j["config_hash"] = r.config_hash;
    j["config"] = r.config;
    j["seqrec"] = provenance_to_json(r.seqrec);
    put(j, "data_parallel", r.data_parallel);
  } else {
    j["dataset"] = dataset_to_json(r.dataset);
    j["model"] = r.model;
    j["loss"] = r.loss;
    j["trainer"] = r.trainer;
    put(j, "plugins", r.plugins);
    j["protocol"] = protocol_to_json(r.protocol);
    j["seed"] = r.seed;
    j["config_hash"] = r.config_hash;
    j["config"] = r.config;
    j["model_options"] = r.model_options;
    j["best_epoch"] = r.best_epoch;
    j["stopped_early"] = r.stopped_early;
    put(j, "resumes", r.resumes);
    j["epochs_run"] = r.epochs_run;
    j["valid_best"] = metrics_to_json(r.valid_best);
    j["test"] = metrics_to_json(r.test);
    for (const auto& [key, field] : more_tests(r))
      if (field->has_value())
        j[key] = {{"protocol", protocol_to_json((*field)->first)}, {"metrics", metrics_to_json((*field)->second)}};
    put(j, "item_spectrum", r.item_spectrum);
    put(j, "sampler", r.sampler);
    put(j, "data_parallel", r.data_parallel);
    j["curve"] = curve_to_json(r.curve);
    j["timing"] = timing_to_json(r.timing);
    j["peak_rss_bytes"] = r.peak_rss_bytes;
    j["seqrec"] = provenance_to_json(r.seqrec);
    put(j, "ranks_fnv1a", r.ranks_fnv1a);
  }
  for (const auto& [k, v] : r.extra.items()) j[k] = v;
  return j;
}

RunResult run_result_from_json(const json& j) {
  RunResult r;
  get(j, "schema_version", &r.schema_version);
  if (r.schema_version && *r.schema_version > RunResult::kSchemaVersion)
    throw Error("result schema version " + std::to_string(*r.schema_version) + ", this seqrec reads up to " +
                std::to_string(RunResult::kSchemaVersion));
  r.command = j.at("command");
  std::set<std::string> known = {"schema_version", "command", "ranks_fnv1a", "dataset", "protocol", "config_hash",
                                 "config", "seqrec", "data_parallel"};
  get(j, "ranks_fnv1a", &r.ranks_fnv1a);
  get(j, "data_parallel", &r.data_parallel);
  r.dataset = dataset_from(j.at("dataset"));
  r.protocol = protocol_from(j.at("protocol"));
  r.config_hash = j.at("config_hash");
  r.config = j.at("config").get<std::map<std::string, std::string>>();
  r.seqrec = provenance_from(j.at("seqrec"));
  if (r.command == "eval") {
    known.insert({"checkpoint", "stage", "metrics", "other_ties", "users", "eval_seconds", "total_seconds"});
    r.checkpoint = j.at("checkpoint");
    r.stage = j.at("stage");
    r.test = metrics_from(j.at("metrics"));
    if (j.contains("other_ties"))
      r.test_other_ties = {
          {protocol_from(j["other_ties"].at("protocol")), metrics_from(j["other_ties"].at("metrics"))}};
    r.users = j.at("users");
    r.eval_seconds = j.at("eval_seconds");
    r.total_seconds = j.at("total_seconds");
  } else {
    known.insert({"model", "loss", "trainer", "plugins", "seed", "model_options", "best_epoch", "stopped_early", "resumes",
                  "epochs_run", "valid_best", "test", "item_spectrum", "sampler", "curve", "timing",
                  "peak_rss_bytes"});
    r.model = j.at("model");
    r.loss = j.at("loss");
    r.trainer = j.at("trainer");
    get(j, "plugins", &r.plugins);
    r.seed = j.at("seed");
    r.model_options = j.at("model_options");
    r.best_epoch = j.at("best_epoch");
    r.stopped_early = j.at("stopped_early");
    get(j, "resumes", &r.resumes);
    r.epochs_run = j.at("epochs_run");
    r.valid_best = metrics_from(j.at("valid_best"));
    r.test = metrics_from(j.at("test"));
    for (const auto& [key, field] : more_tests(r)) {
      known.insert(key);
      if (j.contains(key)) *field = {{protocol_from(j[key].at("protocol")), metrics_from(j[key].at("metrics"))}};
    }
    get(j, "item_spectrum", &r.item_spectrum);
    get(j, "sampler", &r.sampler);
    r.curve = curve_from(j.at("curve"));
    r.timing = timing_from(j.at("timing"));
    r.peak_rss_bytes = j.at("peak_rss_bytes");
  }
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) r.extra[k] = v;
  return r;
}

RunResult read_run_result(const std::string& path) {
  try {
    return run_result_from_json(json::parse(read_file(path)));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": not a seqrec result (" + e.what() + ")");
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

void write_run_result(const std::string& path, const RunResult& r) { write_file_atomically(path, to_json(r).dump(2) + "\n"); }

}  // namespace seqrec
