// RunResult: the one result type. Every result committed under results/ reads and writes
// back to the same values; a run through the experiment pipeline round-trips exactly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "seqrec/build_info.h"
#include "seqrec/experiment.h"
#include "seqrec/files.h"
#include "seqrec/run_result.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

TEST(RunResult, EveryCommittedResultReadsAndWritesBackTheSameValues) {
  int64_t files = 0, identical_bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(std::string(SEQREC_SOURCE_DIR) + "/results")) {
    if (e.path().extension() != ".json") continue;
    const std::string text = read_file(e.path().string());
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
    if (!j.is_object() || !j.contains("command")) continue;  // not a run result (e.g. a bench summary)
    ++files;
    const RunResult r = run_result_from_json(j);
    const nlohmann::ordered_json back = to_json(r);
    EXPECT_EQ(nlohmann::json::parse(back.dump()), nlohmann::json::parse(text)) << e.path();
    identical_bytes += back.dump(2) + "\n" == text;
  }
  EXPECT_GT(files, 100);
  std::cout << files << " committed results, " << identical_bytes << " written back byte for byte" << std::endl;
}

TEST(RunResult, APipelineRunRoundTripsExactly) {
  TempDir dir;
  write_lines(make_markov_dataset(150, 40, 5, 20, 2), dir.file("m.txt"));
  Config c = seqrec::testing::default_config({{"data", dir.file("m.txt")}, {"cache-dir", dir.file("cache")},
                                               {"epochs", "2"}, {"sasrec.hidden-size", "8"}, {"max-len", "20"},
                                               {"progress", "none"}});
  std::ostringstream log;
  Experiment x = run_experiment(c, log);
  EXPECT_EQ(x.result.schema_version, RunResult::kSchemaVersion);
  EXPECT_EQ(x.result.epochs_run, 2);
  EXPECT_EQ(x.result.curve.size(), 2u);
  EXPECT_EQ(x.test.users.size(), 150u);
  EXPECT_NEAR(metric_value(x.result.test, "hit@10"), x.test.metrics.at("hit@10"), 1e-6);
  const std::string text = to_json(x.result).dump(2);
  EXPECT_EQ(to_json(run_result_from_json(nlohmann::ordered_json::parse(text))).dump(2), text);
  // A newer schema is refused in one line.
  nlohmann::ordered_json newer = nlohmann::ordered_json::parse(text);
  newer["schema_version"] = RunResult::kSchemaVersion + 1;
  EXPECT_THROW(run_result_from_json(newer), Error);
}

// --dataset-name labels a dataset in results and tables (ML-1M's users 1-2999 as ml-1m-u2999,
// never ml-1m); the name computes nothing, so the run's hash and numbers stay as they were.
TEST(RunResult, DatasetNameLabelsTheResultAndLeavesTheRunAsItWas) {
  TempDir dir;
  write_lines(make_markov_dataset(120, 30, 5, 12, 2), dir.file("ratings.txt"));
  auto run = [&](const std::string& name) {
    Config c = seqrec::testing::default_config(
        {{"data", dir.file("ratings.txt")}, {"cache-dir", dir.file("cache")}, {"model", "pop"}, {"progress", "none"}});
    if (!name.empty()) c.set("dataset-name", name);
    std::ostringstream log;
    Experiment x = run_experiment(c, log);
    EXPECT_NE(log.str().find((name.empty() ? "ratings" : name) + ": users 120"), std::string::npos) << log.str();
    return x.result;
  };
  const RunResult plain = run(""), named = run("ml-toy-u120");
  EXPECT_EQ(plain.dataset.name, "ratings");
  EXPECT_EQ(named.dataset.name, "ml-toy-u120");
  EXPECT_EQ(named.config_hash, plain.config_hash);
  EXPECT_EQ(named.dataset.source_hash, plain.dataset.source_hash);
  EXPECT_EQ(named.test, plain.test);
}
