// seqrec tune: successive halving keeps the best trials, the budget is the same for every
// method, trials never evaluate the test set, and the chosen config is one bench can run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "seqrec/build_info.h"
#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/files.h"
#include "seqrec/tune.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;
using seqrec::testing::write_file;

TEST(Tune, RungEpochsGrowByEta) {
  EXPECT_EQ(rung_epochs(60, 3, 3, 0), 6);
  EXPECT_EQ(rung_epochs(60, 3, 3, 1), 20);
  EXPECT_EQ(rung_epochs(60, 3, 3, 2), 60);
  EXPECT_EQ(rung_epochs(2, 3, 3, 0), 1);  // never below one epoch
}

TEST(Tune, HalvingKeepsTheBestTrialsOfEachRung) {
  // A synthetic objective: trial i scores quality[i] at every rung, except trial 4, which
  // looks best at rung 0 and worst afterwards.
  const std::vector<double> quality = {0.1, 0.5, 0.3, 0.9, 0.95, 0.2, 0.8, 0.4, 0.7};
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto score = [&](int64_t rung, const std::vector<int64_t>& trials) {
    std::vector<double> out;
    for (int64_t trial : trials) {
      calls.emplace_back(trial, rung);
      out.push_back(trial == 4 && rung > 0 ? 0.0 : quality[static_cast<size_t>(trial)]);
    }
    return out;
  };
  const auto ran = successive_halving(9, 3, 3, score);
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(ran[0].size(), 9u);
  EXPECT_EQ(ran[1], (std::vector<int64_t>{4, 3, 6}));  // the best three of rung 0, best first
  EXPECT_EQ(ran[2], (std::vector<int64_t>{3}));        // of those, the best at rung 1
  EXPECT_EQ(calls.size(), 9u + 3u + 1u);               // every trial once per rung it reached
  // One rung is random search: every trial, full budget.
  EXPECT_EQ(successive_halving(5, 1, 3, score).size(), 1u);
}

TEST(Tune, DimensionsDrawInsideTheirRangesAndAreSeeded) {
  const SearchDimension lr = parse_dimension("loguniform 1e-4 1e-2", "lr"), c = parse_dimension("choice 32, 64", "h");
  std::mt19937_64 a(5), b(5);
  int below = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string text = lr.draw(a);
    EXPECT_EQ(text, lr.draw(b));  // seeded
    const double x = std::stod(text);
    EXPECT_GE(x, 1e-4);
    EXPECT_LE(x, 1e-2);
    below += x < 1e-3;  // log-uniform: half the draws below the geometric middle
  }
  EXPECT_NEAR(below / 400.0, 0.5, 0.1);
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(c.draw(a));
  EXPECT_EQ(seen, (std::set<std::string>{"32", "64"}));
  EXPECT_THROW(parse_dimension("uniform 2 1", "x"), Error);
  EXPECT_THROW(parse_dimension("gaussian 0 1", "x"), Error);
  EXPECT_THROW(parse_dimension("choice", "x"), Error);
}

namespace {
/// A tune file over two methods on generated data in `dir`: 3 trials, 2 rungs (1 and 3 epochs).
std::string small_tune(const TempDir& dir) {
  write_lines(make_markov_dataset(200, 50, 5, 20, 6), dir.file("m.txt"));
  for (const char* m : {"cce", "bce"})
    write_file(dir.file(std::string("sasrec-") + m + ".ini"), "data = " + dir.file("m.txt") + "\nloss = " + m +
                                                                   "\nmax-len = 20\ncache-dir = " + dir.file("cache") +
                                                                   "\n[sasrec]\nhidden-size = 8\n");
  return write_file(dir.file("tune.ini"), "[tune]\ndatasets = m\nmethods = sasrec-cce, sasrec-bce\nconfig = " +
                                              dir.file("{method}.ini") + "\noutput = " + dir.file("out") +
                                              "\ntrials = 3\nmax-epochs = 3\nrungs = 2\neta = 3\nthreads = 1\n"
                                              "[space sasrec-cce]\nlr = loguniform 1e-3 1e-2\n"
                                              "[space sasrec-bce]\nlr = loguniform 1e-3 1e-2\nbce.negatives = choice 1, 4\n");
}
}  // namespace

TEST(Tune, RefusesAMethodThatPicksEpochsUnderTheOtherTieRule) {
  TempDir dir;
  const std::string tune = small_tune(dir);
  write_file(dir.file("sasrec-bce.ini"), "valid-ties = pessimistic\n" + read_file(dir.file("sasrec-bce.ini")));
  FILE* p = popen((std::string(SEQREC_BINARY_DIR) + "/seqrec tune " + tune + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 1) << out;
  EXPECT_EQ(out, "seqrec: error: tune: " + dir.file("sasrec-bce.ini") +
                     " picks epochs under pessimistic ties (valid-ties) but tune ranks trials under its optimistic "
                     "ones; set valid-ties same or ties pessimistic for tuning\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/m/sasrec-cce")));  // refused before any trial
}

TEST(Tune, TwoShardsShareTheTrialsAndRunEachOnce) {
  TempDir dir;
  const std::string tune = small_tune(dir), bin = std::string(SEQREC_BINARY_DIR) + "/seqrec tune " + tune;
  const std::string cmd = bin + " --shard 0/2 > " + dir.file("a.log") + " 2>&1 & " + bin + " --shard 1/2 > " +
                          dir.file("b.log") + " 2>&1 & wait";
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
  int64_t trials = 0;
  for (const char* m : {"sasrec-cce", "sasrec-bce"})
    for (const auto& e : std::filesystem::directory_iterator(dir.file("out/m/") + m)) {
      if (e.path().extension() != ".log") continue;
      ++trials;
      const std::string log = read_file(e.path().string());
      size_t written = 0;
      for (size_t p = log.find("result written"); p != std::string::npos; p = log.find("result written", p + 1)) ++written;
      EXPECT_EQ(written, 1u) << e.path() << "\n" << log;
    }
  EXPECT_EQ(trials, 8);  // 3 + 1 per method, each run by one of the two processes
  EXPECT_EQ(read_file(dir.file("a.log")).find("error"), std::string::npos) << read_file(dir.file("a.log"));
  EXPECT_EQ(read_file(dir.file("b.log")).find("error"), std::string::npos) << read_file(dir.file("b.log"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/m/sasrec-bce/chosen.ini")));
}

TEST(Tune, TrialsUseValidationOnlyAndTheChosenConfigRuns) {
  TempDir dir;
  const std::string tune = small_tune(dir);
  auto run = [&]() {
    std::string out;
    FILE* p = popen((std::string(SEQREC_BINARY_DIR) + "/seqrec tune " + tune + " 2>&1").c_str(), "r");
    std::array<char, 4096> buf{};
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    EXPECT_EQ(WEXITSTATUS(pclose(p)), 0) << out;
    return out;
  };
  const std::string first = run();
  // The same budget for both methods: 3 trials at rung 0 (1 epoch), the best one at rung 1 (3).
  for (const char* m : {"sasrec-cce", "sasrec-bce"}) {
    int64_t trials = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.file("out/m/") + m)) {
      if (e.path().extension() != ".json" || e.path().filename() == "search.json") continue;
      ++trials;
      const nlohmann::json r = nlohmann::json::parse(read_file(e.path().string()));
      EXPECT_TRUE(r["test"].empty()) << e.path();  // the test set was never evaluated
      EXPECT_FALSE(r.contains("test_other_protocol")) << e.path();
      EXPECT_EQ(r["config"]["test"], "false");
      const std::string log = read_file(e.path().string().substr(0, e.path().string().size() - 5) + ".log");
      EXPECT_EQ(log.find("test ["), std::string::npos) << log;
    }
    EXPECT_EQ(trials, 4) << m;
    // The chosen config parses as an ordinary config and names where it came from.
    seqrec::testing::default_config();  // declares the keys
    Config c;
    ASSERT_TRUE(parse_config({"--config", dir.file("out/m/") + m + "/chosen.ini"}, &c, nullptr));
    EXPECT_EQ(c.str("tuned"), dir.file("out/summary.md"));
    EXPECT_TRUE(c.flag("test"));
  }
  const std::string summary = read_file(dir.file("out/summary.md"));
  EXPECT_NE(summary.find("3 trials, 2 rung(s) of successive halving (eta 3, epochs per rung 1 3)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("(chosen)"), std::string::npos) << summary;
  // A second tune finds every trial done and runs none.
  const std::string second = run();
  EXPECT_EQ(first, second);
  // Beside each chosen config, the search's record: its compute is the trials' own wall time.
  const nlohmann::json search = nlohmann::json::parse(read_file(dir.file("out/m/sasrec-bce/search.json")));
  double seconds = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("out/m/sasrec-bce")))
    if (e.path().extension() == ".json" && e.path().filename() != "search.json")
      seconds += nlohmann::json::parse(read_file(e.path().string()))["timing"]["total_seconds"].get<double>();
  EXPECT_NEAR(search["compute_seconds"].get<double>(), seconds, 1e-6);
  EXPECT_EQ(search["rung_runs"], 4);
  // A run of the chosen config names in a table's provenance the budget, space and compute.
  const std::string bin = std::string(SEQREC_BINARY_DIR) + "/seqrec ";
  ASSERT_EQ(std::system((bin + "train --config " + dir.file("out/m/sasrec-bce/chosen.ini") + " --epochs 1 --threads 1 --output " +
                         dir.file("tuned.json") + " > " + dir.file("train.log") + " 2>&1").c_str()),
            0)
      << read_file(dir.file("train.log"));
  ASSERT_EQ(std::system((bin + "table " + dir.file("tuned.json") + " --metrics hit@10 --output " + dir.file("t.md")).c_str()), 0);
  std::ostringstream minutes;
  minutes << std::fixed << std::setprecision(1) << seconds / 60;
  const std::string table = read_file(dir.file("t.md"));
  EXPECT_NE(table.find("; tuned: 3 trials, successive halving over rungs of 1/3 epochs (eta 3), space: bce.negatives choice 1, 4; "
                       "lr loguniform 1e-3 1e-2; " + minutes.str() + " min of compute over 4 trial rungs (" +
                       dir.file("out/summary.md") + ")"),
            std::string::npos)
      << table;
}

TEST(Tune, ADivergedTrialRanksLastAndIsNotRunAgain) {
  TempDir dir;
  small_tune(dir);  // the data and the method configs
  const std::string tune = write_file(
      dir.file("diverge.ini"), "[tune]\ndatasets = m\nmethods = sasrec-cce\nconfig = " + dir.file("{method}.ini") +
                                   "\noutput = " + dir.file("out") + "\ntrials = 4\nmax-epochs = 3\nrungs = 2\neta = 3\n"
                                   "threads = 1\nseed = 3\nset = batch-size=16\n[space sasrec-cce]\nlr = choice 0.001, 1e30\n");
  auto run = [&]() {
    std::string out;
    FILE* p = popen((std::string(SEQREC_BINARY_DIR) + "/seqrec tune " + tune + " 2>&1").c_str(), "r");
    std::array<char, 4096> buf{};
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    const int code = WEXITSTATUS(pclose(p));
    return std::make_pair(code, out);
  };
  const auto [code, out] = run();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("diverged"), std::string::npos) << out;  // some trial drew lr 1e30
  seqrec::testing::default_config();
  Config c;
  ASSERT_TRUE(parse_config({"--config", dir.file("out/m/sasrec-cce/chosen.ini")}, &c, nullptr));
  EXPECT_EQ(c.str("lr"), "0.001");  // the diverged trials ranked last
  const auto again = run();
  EXPECT_EQ(again.second, out);  // nothing ran twice, the diverged trials included
}

TEST(Tune, AStopSignalReachesTheTrialAndTheNextTuneResumesIt) {
  // SIGTERM to tune (a preemption): the trial in flight writes its training state and stops,
  // tune exits 143 leaving no lock, and the next tune resumes that trial rather than
  // starting it over (before, tune died alone and its trial trained on, orphaned).
  TempDir dir;
  small_tune(dir);
  const std::string tune = write_file(dir.file("long.ini"), "[tune]\ndatasets = m\nmethods = sasrec-cce\nconfig = " +
                                                                dir.file("{method}.ini") + "\noutput = " + dir.file("out") +
                                                                "\ntrials = 1\nmax-epochs = 8\nrungs = 1\nthreads = 1\n"
                                                                "set = patience=20\n[space sasrec-cce]\nlr = choice 0.001\n");
  const std::string trial = dir.file("out/m/sasrec-cce/trial0-rung0");
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(dir.file("first.log").c_str(), "w", stdout);
    execl((std::string(SEQREC_BINARY_DIR) + "/seqrec").c_str(), "seqrec", "tune", tune.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!std::filesystem::exists(trial + ".json.state") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(std::filesystem::exists(trial + ".json.state")) << read_file(trial + ".log");
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  if (std::filesystem::exists(trial + ".json")) GTEST_SKIP() << "the trial ended before the signal arrived";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << read_file(dir.file("first.log"));
  EXPECT_NE(read_file(dir.file("first.log")).find("tune: stopped by SIGTERM; run the same tune command to resume"),
            std::string::npos)
      << read_file(dir.file("first.log"));
  EXPECT_FALSE(std::filesystem::exists(trial + ".lock"));
  // Stopped with the trial: nothing trains on after tune is gone.
  const std::string stopped = read_file(trial + ".log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(read_file(trial + ".log"), stopped);
  ASSERT_EQ(std::system((std::string(SEQREC_BINARY_DIR) + "/seqrec tune " + tune + " > " + dir.file("second.log") + " 2>&1").c_str()), 0)
      << read_file(dir.file("second.log"));
  EXPECT_NE(read_file(trial + ".log").find("resuming from"), std::string::npos) << read_file(trial + ".log");
  EXPECT_TRUE(std::filesystem::exists(trial + ".json"));
}
