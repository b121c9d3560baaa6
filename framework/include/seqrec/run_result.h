#pragma once
/// One run's result, as `train` and `eval` write it and `bench`, `table` and `plot` read it:
/// one type with to_json / from_json, so the schema lives here and nowhere else. Layout
/// version kSchemaVersion; from_json reads every result seqrec has written (fields added
/// since stay empty), and keeps fields it does not model in `extra`, so a file read and
/// written back holds the same values.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/dataset.h"

namespace seqrec {

/// Metric name -> value, in the order results list them (metric_names).
using Metrics = std::vector<std::pair<std::string, double>>;
/// The value of `name`, or an Error naming it.
double metric_value(const Metrics& m, const std::string& name);
/// From the evaluator's map, in metric_names(ks) order, rounded to 6 decimals as results store them.
Metrics rounded_metrics(const std::map<std::string, double>& m, const std::vector<int64_t>& ks);

struct ProtocolInfo {
  std::string label, split, protocol, ties, candidates;
};

struct DatasetInfo {
  std::string name, path, source_hash;
  int64_t users = 0, items = 0, interactions = 0;
  std::optional<int64_t> test_answer_repeats;  ///< users whose test answer repeats a history item
  /// Timestamped data only: leave-one-out's leakage (dataset.h, LooLeakage), as shares.
  std::optional<std::pair<double, double>> loo_leakage;  ///< (train_after_first_test, users_test_before_last_train)
  std::optional<SplitSummary> split;  ///< a split other than leave-one-out: its cuts and counts
};

struct EpochRecord {
  int64_t epoch = 0;
  double loss = 0, train_seconds = 0;
  std::optional<double> eval_seconds;  ///< with `valid`, on epochs that validated
  Metrics valid;
};

struct RunTiming {
  double epoch_seconds_mean = 0, valid_eval_seconds_mean = 0, test_eval_seconds = 0, total_seconds = 0;
  std::optional<double> state_write_seconds_mean;
  std::optional<int64_t> state_bytes;
};

/// The code and machine a result came from.
struct Provenance {
  std::string commit;
  bool dirty = false;
  std::optional<std::string> code_tree;
  nlohmann::ordered_json environment = nlohmann::ordered_json::object();
  /// Every build that trained the run, in order, when a resume ran another build than the one
  /// before it (commit and dirty above: the last, which also tested it).
  std::optional<std::vector<std::string>> trained_by;
};

struct RunResult {
  static constexpr int kSchemaVersion = 1;
  std::optional<int64_t> schema_version;  ///< absent in results written before it was recorded
  std::string command = "train";          ///< "train" or "eval"
  std::optional<std::string> ranks_fnv1a; ///< checksum of the per-user rank file, when written
  // eval
  std::string checkpoint, stage;
  DatasetInfo dataset;
  // train
  std::string model, loss, trainer;
  std::optional<std::vector<std::string>> plugins;
  ProtocolInfo protocol;
  int64_t seed = 0;
  std::string config_hash;
  std::map<std::string, std::string> config;  ///< the resolved config, every key
  nlohmann::ordered_json model_options = nlohmann::ordered_json::object();
  int64_t best_epoch = 0;
  bool stopped_early = false;
  std::optional<int64_t> resumes;
  int64_t epochs_run = 0;
  Metrics valid_best;
  Metrics test;  ///< train: the test metrics; eval: the metrics of `stage`
  std::optional<std::pair<ProtocolInfo, Metrics>> test_other_protocol;
  /// The same protocol with the other tie rule (optimistic <-> pessimistic): the two bound any
  /// tie order, such as the reference code's numpy order among history items scored 0. eval:
  /// the metrics of `stage` under the other rule (JSON `other_ties`).
  std::optional<std::pair<ProtocolInfo, Metrics>> test_other_ties;
  /// With sampled candidates (uni100, pop100): the same weights ranked against the whole
  /// catalogue, so sampled metrics never stand alone.
  std::optional<std::pair<ProtocolInfo, Metrics>> test_full_ranking;
  /// The test with each history permuted within the model's input (the sequentiality check:
  /// evaluator.h, EvalOptions::shuffled_history; seeded by the run's seed).
  std::optional<std::pair<ProtocolInfo, Metrics>> test_shuffled_history;
  std::optional<std::vector<double>> item_spectrum;
  std::optional<std::string> sampler;
  /// A data-parallel run (distributed.h): world_size, backend, global_batch_size, launcher.
  std::optional<nlohmann::ordered_json> data_parallel;
  std::vector<EpochRecord> curve;
  RunTiming timing;
  int64_t peak_rss_bytes = 0;
  // eval
  int64_t users = 0;
  double eval_seconds = 0, total_seconds = 0;
  Provenance seqrec;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  ///< fields not modelled above

  /// The rank file the run wrote (config key `ranks`), "" when none.
  std::string ranks_path() const;
};

nlohmann::ordered_json to_json(const RunResult& r);
/// A json error (a missing or mistyped field) is the caller's to word with the file name.
RunResult run_result_from_json(const nlohmann::ordered_json& j);

/// Reads a result file; a one-line Error naming it when it is not one.
RunResult read_run_result(const std::string& path);
/// Writes it atomically.
void write_run_result(const std::string& path, const RunResult& r);

}  // namespace seqrec
