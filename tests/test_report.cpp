// Head-to-head reporting: the paired tests against hand-computed values, a grid killed
// mid-run and resumed, runs claimed by another bench, and tables that refuse mixed protocols.
#include <gtest/gtest.h>

#include <tuple>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "capture.h"
#include "report/runs.h"
#include "seqrec/bench.h"
#include "seqrec/build_info.h"
#include "seqrec/cache.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/files.h"
#include "seqrec/run_result.h"
#include "seqrec/stats.h"
#include "test_util.h"
#include "train/state.h"

using namespace seqrec;
using seqrec::testing::count_of;
using seqrec::testing::error_of;
using seqrec::testing::TempDir;
using seqrec::testing::write_file;

TEST(PairedTests, MatchHandComputedValues) {
  // d = a - b = [0.5, 0, -0.5, 1, 0.2]: mean 0.24, sd sqrt(1.252/4), t = 0.959233 on 4 dof;
  // two-sided p from the closed-form t(4) CDF = 0.391762. Wilcoxon drops the zero; |d| ranks
  // 0.2 -> 1, 0.5 and 0.5 -> 2.5 each, 1 -> 4; W+ = 7.5, mean 5, variance 7.5 - (2^3-2)/48 =
  // 7.375, z = (2.5 - 0.5) / sqrt(7.375) = 0.736460, p = erfc(z / sqrt 2) = 0.461451.
  PairedTest t = paired_tests({0.5, 1, 0, 1, 0.3}, {0, 1, 0.5, 0, 0.1});
  EXPECT_EQ(t.n, 5);
  EXPECT_NEAR(t.mean_diff, 0.24, 1e-12);
  EXPECT_NEAR(t.t, 0.959233, 1e-6);
  EXPECT_NEAR(t.t_p, 0.391762, 1e-6);
  EXPECT_EQ(t.nonzero, 4);
  EXPECT_DOUBLE_EQ(t.w_plus, 7.5);
  EXPECT_NEAR(t.w_z, 0.736460, 1e-6);
  EXPECT_NEAR(t.w_p, 0.461451, 1e-6);
  // Symmetric: swapping the methods flips the signs, not the p-values.
  PairedTest s = paired_tests({0, 1, 0.5, 0, 0.1}, {0.5, 1, 0, 1, 0.3});
  EXPECT_NEAR(s.t, -t.t, 1e-12);
  EXPECT_NEAR(s.t_p, t.t_p, 1e-12);
  EXPECT_NEAR(s.w_p, t.w_p, 1e-12);
  EXPECT_THROW(paired_tests({1, 2}, {1}), Error);
}

TEST(Stats, HolmAndBonferroniAgainstHandComputedValues) {
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  // Bonferroni: 4p, capped at 1.
  const std::vector<double> bonferroni = adjust_p_values(p, Correction::kBonferroni);
  const std::vector<double> want_b = {0.04, 0.16, 0.12, 0.02};
  // Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max
  // 0.02, 0.03, 0.06, 0.06; back in input order.
  const std::vector<double> holm = adjust_p_values(p, Correction::kHolm);
  const std::vector<double> want_h = {0.03, 0.06, 0.06, 0.02};
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_NEAR(bonferroni[i], want_b[i], 1e-15) << i;
    EXPECT_NEAR(holm[i], want_h[i], 1e-15) << i;
  }
  EXPECT_EQ(adjust_p_values(p, Correction::kNone), p);
  EXPECT_EQ(adjust_p_values({0.5, 0.9}, Correction::kBonferroni), (std::vector<double>{1.0, 1.0}));
  EXPECT_TRUE(adjust_p_values({}, Correction::kHolm).empty());
}

TEST(Stats, BootstrapIntervalAgainstClosedForms) {
  // Two users, differences 0 and 1: a resample's mean is 0, 0.5 or 1 with probabilities
  // 1/4, 1/2, 1/4, so the 2.5% and 97.5% quantiles are 0 and 1.
  const Interval two = bootstrap_mean_interval({0, 1}, 4000, 3);
  EXPECT_EQ(two.lo, 0.0);
  EXPECT_EQ(two.hi, 1.0);
  // A constant difference has no spread.
  const Interval flat = bootstrap_mean_interval({0.25, 0.25, 0.25}, 100, 3);
  EXPECT_EQ(flat.lo, 0.25);
  EXPECT_EQ(flat.hi, 0.25);
  // 400 users, half 0 and half 1: the mean's standard error is 0.5 / 20 = 0.025, so the 95%
  // interval is about 0.5 -+ 1.96 * 0.025 = [0.451, 0.549].
  std::vector<double> half(400, 0.0);
  std::fill(half.begin(), half.begin() + 200, 1.0);
  const Interval big = bootstrap_mean_interval(half, 4000, 11);
  EXPECT_NEAR(big.lo, 0.451, 0.006);
  EXPECT_NEAR(big.hi, 0.549, 0.006);
  // Seeded: the same seed gives the same interval, another seed (almost surely) another.
  const Interval again = bootstrap_mean_interval(half, 4000, 11), other = bootstrap_mean_interval(half, 50, 12);
  EXPECT_EQ(again.lo, big.lo);
  EXPECT_EQ(again.hi, big.hi);
  EXPECT_FALSE(other.lo == big.lo && other.hi == big.hi);
  EXPECT_THROW(bootstrap_mean_interval({}, 10, 1), Error);
}

TEST(Stats, OneMoreRunTestAgainstTheTwoDegreesOfFreedomClosedForm) {
  // Three runs: Student's t with 2 degrees of freedom has the closed form
  // P(|T| > t) = 1 - t / sqrt(2 + t^2), and its level-a quantile sqrt(2 a^2 / (1 - a^2)) for
  // the two-sided a. Runs 0.25, 0.5, 0.75: mean 0.5, std 0.25, and one more run's scale
  // 0.25 sqrt(1 + 1/3).
  const double scale = 0.25 * std::sqrt(4.0 / 3.0);
  for (double x : {1.0, 0.5, 0.1, -2.0}) {
    const OneMoreRunTest r = one_more_run_test(0.5, 0.25, 3, x);
    const double t = (x - 0.5) / scale;
    EXPECT_EQ(r.dof, 2);
    EXPECT_NEAR(r.t, t, 1e-12);
    EXPECT_NEAR(r.p, 1 - std::fabs(t) / std::sqrt(2 + t * t), 1e-12) << x;
  }
  const double q = std::sqrt(2 * 0.95 * 0.95 / (1 - 0.95 * 0.95));  // 4.3027
  const OneMoreRunTest r = one_more_run_test(0.5, 0.25, 3, 1.0);
  EXPECT_NEAR(r.interval.lo, 0.5 - q * scale, 1e-9);
  EXPECT_NEAR(r.interval.hi, 0.5 + q * scale, 1e-9);
  // Many runs: the normal limit, 1.96 standard deviations either side.
  const OneMoreRunTest wide = one_more_run_test(0, 1, 100000, 0);
  EXPECT_NEAR(wide.interval.hi, 1.95997, 1e-4);
  EXPECT_EQ(wide.p, 1.0);
  EXPECT_THROW(one_more_run_test(0.5, 0.25, 1, 1.0), Error);
  EXPECT_THROW(one_more_run_test(0.5, 0.0, 3, 1.0), Error);
}

namespace {
const std::string kBinary = std::string(SEQREC_BINARY_DIR) + "/seqrec";

/// Runs `seqrec bench GRID [OPTION]` in its own process group; returns its pid.
pid_t start_bench(const std::string& grid, const std::string& log, const char* option = nullptr) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    std::freopen(log.c_str(), "w", stdout);
    dup2(fileno(stdout), STDERR_FILENO);
    execl(kBinary.c_str(), kBinary.c_str(), "bench", grid.c_str(), option, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The files under `dir` (none if it does not exist) whose extension is `ext`, sorted.
std::vector<std::string> files_under(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> jsons(const std::string& dir) { return files_under(dir, ".json"); }

/// A grid of SASRec runs on the synthetic Markov data, written into `dir`: one epoch each, or
/// `epochs` with a patience that lets them run to the end.
std::string markov_grid(const TempDir& dir, const std::string& seeds, int epochs = 1) {
  const std::string length = "epochs = " + std::to_string(epochs) + (epochs > 1 ? "\npatience = 10" : "");
  write_file(dir.file("markov-sasrec.ini"), "data = synthetic:markov\n" + length + "\nmax-len = 20\ncache-dir = " +
                                                dir.file("cache") + "\nprogress = none\n[sasrec]\nhidden-size = 8\n");
  return write_file(dir.file("grid.ini"), "[grid]\ndatasets = markov\nmethods = sasrec\nseeds = " + seeds +
                                              "\nconfig = " + dir.file("{dataset}-{method}.ini") +
                                              "\noutput = " + dir.file("out") + "\nthreads = 1\n");
}
}  // namespace

TEST(Bench, KilledGridResumesOnlyTheMissingRuns) {
  TempDir dir;
  const std::string grid = markov_grid(dir, "1, 2, 3");
  const std::string out = dir.file("out");
  const pid_t pid = start_bench(grid, dir.file("first.log"));
  // Kill the whole grid (bench and its running child) as soon as the first run has finished.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (jsons(out).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(jsons(out).size(), 1u) << slurp(dir.file("first.log"));
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const std::vector<std::string> before = jsons(out);
  ASSERT_EQ(before.size(), 1u) << "the killed grid left " << before.size() << " results";
  struct stat st_before {};
  stat(before[0].c_str(), &st_before);

  const pid_t again = start_bench(grid, dir.file("second.log"));
  int status = 0;
  waitpid(again, &status, 0);
  const std::string log = slurp(dir.file("second.log"));
  EXPECT_EQ(WEXITSTATUS(status), 0) << log;
  EXPECT_NE(log.find("3 runs; 1 finished, 2 to run"), std::string::npos) << log;
  EXPECT_EQ(count_of(log, "start "), 2u) << log;
  EXPECT_EQ(jsons(out).size(), 3u);
  struct stat st_after {};
  stat(before[0].c_str(), &st_after);
  EXPECT_EQ(st_before.st_mtime, st_after.st_mtime) << "the finished run was redone";

  // A third call has nothing to do; --dry-run lists every run as done.
  waitpid(start_bench(grid, dir.file("dry.log"), "--dry-run"), &status, 0);
  EXPECT_EQ(count_of(slurp(dir.file("dry.log")), "  done  "), 3u) << slurp(dir.file("dry.log"));

  // A result filed under a run's hash but made with another value of a hashed key (what a
  // changed default would leave behind) is refused, not counted as the run.
  const std::string filed = jsons(out)[1];
  nlohmann::json j = nlohmann::json::parse(slurp(filed));
  j["config"]["max-len"] = "30";
  write_file(filed, j.dump(2));
  waitpid(start_bench(grid, dir.file("stale.log"), "--dry-run"), &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(slurp(dir.file("stale.log")).find("seqrec: error: " + filed + ": filed under this run's hash but made with "
                                               "other values of max-len (a default changed since?)"),
            std::string::npos)
      << slurp(dir.file("stale.log"));
}

TEST(Bench, OrderSeedsRunsSeedOneOfEveryMethodFirst) {
  register_builtins();  // the schema plan_grid resolves each run's config with
  TempDir dir;
  for (const char* m : {"a", "b"}) write_file(dir.file(std::string("markov-") + m + ".ini"), "data = synthetic:markov\n");
  const auto plan_of = [&](const std::string& order_line) {
    write_file(dir.file("grid.ini"), "[grid]\ndatasets = markov\nmethods = a, b\nseeds = 1, 2\nconfig = " +
                                         dir.file("{dataset}-{method}.ini") + "\noutput = " + dir.file("out") + "\n" +
                                         order_line);
    std::string order;
    for (const GridRun& r : plan_grid(read_grid(dir.file("grid.ini")))) order += r.method + std::to_string(r.seed) + " ";
    return order;
  };
  EXPECT_EQ(plan_of(""), "a1 a2 b1 b2 ");
  EXPECT_EQ(plan_of("order = methods\n"), "a1 a2 b1 b2 ");
  EXPECT_EQ(plan_of("order = seeds\n"), "a1 b1 a2 b2 ");
  EXPECT_EQ(error_of([&] { plan_of("order = random\n"); }),
            dir.file("grid.ini") +
                ": order = random: expected methods (every seed of a method first) or seeds (seed 1 of every method first)");
}

TEST(Bench, RunClaimedByALiveProcessIsLeftToItAndAStaleClaimIsTakenOver) {
  TempDir dir;
  const std::string grid = markov_grid(dir, "1, 2");
  // The runs' result files, from the dry run's lines "  todo  markov sasrec seed N [hash] PATH".
  waitpid(start_bench(grid, dir.file("plan.log"), "--dry-run"), nullptr, 0);
  std::vector<std::string> outputs;
  std::istringstream plan(slurp(dir.file("plan.log")));
  for (std::string line; std::getline(plan, line);)
    if (line.rfind("  todo  ", 0) == 0) outputs.push_back(line.substr(line.rfind(' ') + 1));
  ASSERT_EQ(outputs.size(), 2u) << slurp(dir.file("plan.log"));
  const std::string lock = outputs[0].substr(0, outputs[0].size() - 5) + ".lock";
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::filesystem::create_directories(std::filesystem::path(lock).parent_path());
  // Seed 1 is claimed by this (live) test process: bench must leave it alone.
  write_file(lock, std::string(host) + " " + std::to_string(getpid()) + "\n");
  const pid_t first = start_bench(grid, dir.file("first.log"));
  int status = 0;
  waitpid(first, &status, 0);
  std::string log = slurp(dir.file("first.log"));
  EXPECT_EQ(WEXITSTATUS(status), 0) << log;
  EXPECT_NE(log.find("skip  markov sasrec seed 1: running in another process"), std::string::npos) << log;
  EXPECT_NE(log.find("1/2 finished, 0 failed, 1 left to another process"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(outputs[0]));
  EXPECT_TRUE(std::filesystem::exists(outputs[1]));
  EXPECT_TRUE(std::filesystem::exists(lock)) << "bench removed a lock it did not own";
  waitpid(start_bench(grid, dir.file("busy.log"), "--dry-run"), nullptr, 0);
  EXPECT_NE(slurp(dir.file("busy.log")).find("  busy  markov sasrec seed 1"), std::string::npos) << slurp(dir.file("busy.log"));

  // The claim's owner died without finishing (a reaped child's pid): the next bench runs it.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  write_file(lock, std::string(host) + " " + std::to_string(dead) + "\n");
  const pid_t second = start_bench(grid, dir.file("second.log"));
  waitpid(second, &status, 0);
  log = slurp(dir.file("second.log"));
  EXPECT_EQ(WEXITSTATUS(status), 0) << log;
  EXPECT_EQ(count_of(log, "start "), 1u) << log;
  EXPECT_TRUE(std::filesystem::exists(outputs[0])) << log;
  EXPECT_FALSE(std::filesystem::exists(lock)) << "a finished run's lock was left behind";
}

namespace {
/// A minimal train result with per-user ranks, as cmd_train writes it.
void fake_result(const TempDir& dir, const std::string& name, const std::string& method, int seed, const std::string& protocol,
                 const std::vector<int64_t>& ranks) {
  EvalResult e;
  for (size_t u = 0; u < ranks.size(); ++u) e.users.push_back(static_cast<int64_t>(u));
  e.ranks = ranks;
  e.label = protocol;
  save_ranks(e, dir.file(name + ".h5"));
  double hit = 0;
  for (int64_t r : ranks) hit += r < 10;
  RunResult r;
  r.model = "sasrec";
  r.trainer = "plain";
  r.seed = seed;
  r.config_hash = "h" + name;
  r.config = {{"label", method}, {"ranks", dir.file(name + ".h5")}, {"loss", "cce"}};
  r.dataset.name = "Toy";
  r.dataset.source_hash = "abc";
  r.protocol.label = protocol;
  r.seqrec.commit = "c0ffee";
  r.test = {{"hit@10", hit / ranks.size()}};
  write_run_result(dir.file(name + ".json"), r);
}

/// Rewrites the result `name` after `change`.
void edit_result(const TempDir& dir, const std::string& name, const std::function<void(RunResult&)>& change) {
  RunResult r = read_run_result(dir.file(name + ".json"));
  change(r);
  write_run_result(dir.file(name + ".json"), r);
}
}  // namespace

namespace {
std::string captured_table(const std::vector<std::string>& args) { return seqrec::testing::command_output("table", args); }
}  // namespace

// The repository's own results: `table` reads a result that recorded a rank checksum only with
// that very file, so one whose rank file did not land (an ignore rule kept three out until
// 127c2d9) is a result nobody can test against. Every such JSON under results/ has its rank
// file beside it, with the recorded checksum.
TEST(Results, EveryCommittedResultThatRecordsARankChecksumHasThatFileBesideIt) {
  namespace fs = std::filesystem;
  int checked = 0;
  std::string wrong;
  for (const auto& e : fs::recursive_directory_iterator(std::string(SEQREC_SOURCE_DIR) + "/results")) {
    if (e.path().extension() != ".json") continue;
    const nlohmann::json j = nlohmann::json::parse(read_file(e.path().string()), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("ranks_fnv1a") || !j["ranks_fnv1a"].is_string()) continue;
    ++checked;
    fs::path ranks = e.path();
    ranks.replace_extension(".ranks.h5");
    if (!fs::exists(ranks)) wrong += "\n" + ranks.string() + " is missing";
    else if (hash_file(ranks.string()) != j["ranks_fnv1a"].get<std::string>()) wrong += "\n" + ranks.string() + " does not match";
  }
  EXPECT_GT(checked, 50);
  EXPECT_EQ(wrong, "");
}

TEST(Table, AMethodIsNamedByItsLabelTrainerOrLossAndPopularityByItsModelAlone) {
  RunResult r;
  r.model = "sasrec";
  r.trainer = "plain";
  r.epochs_run = 3;
  r.config = {{"loss", "cce"}};
  EXPECT_EQ(method_name(r), "sasrec+cce");
  r.trainer = "atsrec";
  EXPECT_EQ(method_name(r), "sasrec+atsrec");
  r.model = r.trainer = "elecrec";
  EXPECT_EQ(method_name(r), "elecrec");
  r.config["label"] = "mine";
  EXPECT_EQ(method_name(r), "mine");
  // Nothing trained: the default --loss it recorded names nothing (it read "pop+cce").
  RunResult pop;
  pop.model = "pop";
  pop.trainer = "plain";
  pop.config = {{"loss", "cce"}};
  EXPECT_EQ(method_name(pop), "pop");
}

TEST(Table, MeanStdBestAndSignificanceFromRankFiles) {
  TempDir dir;
  // Baseline hits 2 of 6 users in both seeds; "better" hits 5 and 4 of 6.
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60, 70, 80});
  fake_result(dir, "b2", "base", 2, "full/reference/optimistic", {1, 2, 50, 60, 70, 80});
  fake_result(dir, "m1", "better", 1, "full/reference/optimistic", {0, 3, 5, 6, 7, 80});
  fake_result(dir, "m2", "better", 2, "full/reference/optimistic", {1, 2, 5, 6, 70, 80});
  const std::string md = seqrec::testing::command_output("table", {dir.path().string(), "--metrics", "hit@10", "--baseline", "base"});
  // base: 1/3 both seeds -> 0.3333 ± 0.0000; better: 5/6, 4/6 -> mean 0.75, std sqrt(2 * (1/12)^2) = 0.1179.
  EXPECT_NE(md.find("| base (baseline) | 0.3333 ± 0.0000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| better | **0.7500 ± 0.1179** (+125.0%) |"), std::string::npos) << md;
  EXPECT_NE(md.find("protocol full/reference/optimistic"), std::string::npos) << md;
  EXPECT_NE(md.find("seqrec commits: c0ffee"), std::string::npos) << md;
  // Per-user means over seeds: better - base = [0, 0, 1, 1, .5, 0]: t = 0.4167 / (0.4916 / sqrt 6).
  EXPECT_NE(md.find("hit@10 better vs base: mean diff 0.41667 ["), std::string::npos) << md;
  EXPECT_NE(md.find("] over 6 users"), std::string::npos) << md;
}

TEST(Table, SignificanceIsCorrectedOverTheTablesComparisonsWithBootstrapIntervals) {
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60, 70, 80, 90, 95});
  fake_result(dir, "m1", "better", 1, "full/reference/optimistic", {0, 3, 5, 6, 7, 8, 9, 95});
  fake_result(dir, "s1", "same", 1, "full/reference/optimistic", {0, 3, 50, 60, 70, 80, 90, 95});
  auto table = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {dir.path().string(), "--metrics", "hit@10", "--baseline", "base"};
    args.insert(args.end(), extra.begin(), extra.end());
    return captured_table(args);
  };
  // Independently: better - base per user = [0, 0, 1, 1, 1, 1, 1, 0]; same - base = 0.
  const PairedTest better = paired_tests({1, 1, 1, 1, 1, 1, 1, 0}, {1, 1, 0, 0, 0, 0, 0, 0});
  const double p_better = std::max(better.t_p, better.w_p);
  auto fixed4 = [](double x) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(4) << x;
    return o.str();
  };
  const std::string holm = table({});
  EXPECT_NE(holm.find("holm-adjusted over the table's 2 tests"), std::string::npos) << holm;
  // Holm with two tests: the smaller p doubles, the larger (1) stays 1.
  EXPECT_NE(holm.find("hit@10 better vs base: mean diff 0.62500 ["), std::string::npos) << holm;
  EXPECT_NE(holm.find("holm-adjusted p = " + fixed4(std::min(1.0, 2 * p_better))), std::string::npos) << holm;
  EXPECT_NE(holm.find("hit@10 same vs base: mean diff 0.00000 [0.00000, 0.00000] over 8 users"), std::string::npos) << holm;
  const std::string none = table({"--correction", "none"});
  EXPECT_NE(none.find("none-adjusted p = " + fixed4(p_better)), std::string::npos) << none;
  EXPECT_NE(none.find("uncorrected"), std::string::npos) << none;
  // The dagger follows the corrected p: at alpha between p and 2p it is there uncorrected only.
  const std::string alpha = std::to_string(1.5 * p_better);
  EXPECT_NE(table({"--correction", "none", "--alpha", alpha}).find("(+250.0%)†"), std::string::npos);
  EXPECT_EQ(table({"--alpha", alpha}).find("(+250.0%)†"), std::string::npos);
  // The interval is seeded: the same seed, the same table.
  EXPECT_EQ(table({"--bootstrap-seed", "7"}), table({"--bootstrap-seed", "7"}));
  EXPECT_THROW(table({"--correction", "sidak"}), Error);
}

TEST(Table, ShuffledHistoriesShowTheDropAndExposureMetricsAreNeitherTestedNorMarked) {
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60});
  fake_result(dir, "m1", "seq", 1, "full/reference/optimistic", {0, 3, 5, 60});
  for (const auto& [name, shuffled_hit, gini] : {std::tuple{"b1", 0.5, 0.9}, std::tuple{"m1", 0.25, 0.4}})
    edit_result(dir, name, [&, shuffled_hit = shuffled_hit, gini = gini](RunResult& r) {
      r.test.emplace_back("gini@10", gini);
      r.test_shuffled_history = {{r.protocol, {{"hit@10", shuffled_hit}}}};
      r.test_shuffled_history->first.label += "/shuffled";
    });
  auto table = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {dir.path().string(), "--baseline", "base"};
    args.insert(args.end(), extra.begin(), extra.end());
    return captured_table(args);
  };
  // seq: 0.75 in order, 0.25 shuffled: -66.7%; base 0.5 both ways: +0.0%.
  const std::string shuffled = table({"--metrics", "hit@10", "--history", "shuffled"});
  EXPECT_NE(shuffled.find("| seq | 0.2500 (-50.0%) [order -66.7%] |"), std::string::npos) << shuffled;
  EXPECT_NE(shuffled.find("| base (baseline) | **0.5000** [order +0.0%] |"), std::string::npos) << shuffled;
  EXPECT_NE(shuffled.find("protocol full/reference/optimistic/shuffled"), std::string::npos) << shuffled;
  EXPECT_EQ(shuffled.find("paired t p"), std::string::npos) << shuffled;
  const std::string exposure = table({"--metrics", "gini@10"});
  EXPECT_NE(exposure.find("| seq | 0.4000 |"), std::string::npos) << exposure;
  EXPECT_NE(exposure.find("| base (baseline) | 0.9000 |"), std::string::npos) << exposure;
  EXPECT_EQ(exposure.find("paired t p"), std::string::npos) << exposure;
  try {
    table({"--metrics", "coverage@10"});
    FAIL() << "a missing exposure metric accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no test coverage@10 (exposure metrics come from"), std::string::npos) << e.what();
  }
}

TEST(Table, PairsCompareARowWithItsOwnReference) {
  // tuned is compared with def (its pair), def with the baseline; one Holm family over both.
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60, 70, 80, 90, 95});
  fake_result(dir, "d1", "def", 1, "full/reference/optimistic", {0, 3, 5, 60, 70, 80, 90, 95});
  fake_result(dir, "t1", "tuned", 1, "full/reference/optimistic", {0, 3, 5, 6, 7, 8, 90, 95});
  const std::string md = captured_table({dir.path().string(), "--metrics", "hit@10", "--baseline", "base", "--pairs", "tuned=def"});
  // hit@10: base 2/8, def 3/8 (+50% on base), tuned 6/8 (+100% on def).
  EXPECT_NE(md.find("| def | 0.3750 (+50.0%) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| tuned | **0.7500** (+100.0%) |"), std::string::npos) << md;
  EXPECT_NE(md.find("(+x%): relative to base (tuned relative to def);"), std::string::npos) << md;
  EXPECT_NE(md.find("holm-adjusted over the table's 2 tests"), std::string::npos) << md;
  EXPECT_NE(md.find("hit@10 tuned vs def: mean diff 0.37500 ["), std::string::npos) << md;
  EXPECT_NE(md.find("hit@10 def vs base: mean diff 0.12500 ["), std::string::npos) << md;
  // Pairs alone (no baseline): each row names its reference.
  const std::string alone =
      captured_table({dir.path().string(), "--metrics", "hit@10", "--pairs", "tuned=def,def=base"});
  EXPECT_NE(alone.find("(+x%): def relative to base, tuned relative to def;"), std::string::npos) << alone;
  EXPECT_NE(alone.find("| tuned | **0.7500** (+100.0%) |"), std::string::npos) << alone;
  const std::string csv = captured_table({dir.path().string(), "--metrics", "hit@10", "--baseline", "base", "--pairs",
                                          "tuned=def", "--format", "csv"});
  EXPECT_NE(csv.find(",source,compared_with,one_more_run_p,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",seqrec,def,,,,,\n"), std::string::npos) << csv;
  for (const std::string bad : {"tuned", "tuned=tuned", "tuned=nope"})
    EXPECT_THROW(captured_table({dir.path().string(), "--baseline", "base", "--pairs", bad}), Error) << bad;
}

TEST(Table, ProvenanceNamesEachRowsPatienceAndDropoutMasks) {
  // Neither key is in the config hash, so a row can mix them; a run without dropout-rng predates
  // the key (LibTorch's masks), and a GPU run draws LibTorch's masks whatever the key says.
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60});
  fake_result(dir, "m1", "mixed", 1, "full/reference/optimistic", {0, 3, 5, 60});
  fake_result(dir, "m2", "mixed", 2, "full/reference/optimistic", {0, 3, 5, 60});
  fake_result(dir, "g1", "gpu", 1, "full/reference/optimistic", {0, 3, 5, 60});
  auto edit = [&](const std::string& name, const std::string& patience, const std::string& device) {
    edit_result(dir, name, [&](RunResult& r) {
      r.config["patience"] = patience;
      r.config["dropout-rng"] = "fast";
      r.seqrec.environment["device"] = device;
    });
  };
  edit("m1", "10", "cpu");
  edit("m2", "40", "cpu");
  edit("g1", "40", "cuda");
  const std::string md = captured_table({dir.path().string(), "--metrics", "hit@10", "--baseline", "base"});
  EXPECT_NE(md.find("- base: seeds 1; config hashes hb1; device cpu; dropout masks torch\n"), std::string::npos) << md;
  EXPECT_NE(md.find("- mixed: seeds 1,2; config hashes hm1 hm2; device cpu; patience 10, 40; dropout masks fast\n"),
            std::string::npos) << md;
  EXPECT_NE(md.find("- gpu: seeds 1; config hashes hg1; device cuda; patience 40; dropout masks torch\n"), std::string::npos)
      << md;
}

TEST(Table, RowsOfSeveralDevicesNameThemAndTheComputeIsSummedPerDevice) {
  // One row trained partly on a GPU: the provenance names each seed's device, the wall column
  // keeps the devices' minutes apart, and the compute line sums CPU core-hours (wall x threads
  // x processes) and GPU-hours over every run of the table.
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60});
  fake_result(dir, "e1", "elec", 1, "full/reference/optimistic", {0, 3, 5, 60});
  fake_result(dir, "e2", "elec", 2, "full/reference/optimistic", {0, 3, 5, 60});
  fake_result(dir, "e3", "elec", 3, "full/reference/optimistic", {0, 3, 5, 60});
  auto edit = [&](const std::string& name, const std::string& device, double minutes, int64_t threads, int64_t world) {
    edit_result(dir, name, [&](RunResult& r) {
      r.seqrec.environment["device"] = device;
      r.seqrec.environment["intra_op_threads"] = threads;
      if (world > 1) r.data_parallel = nlohmann::ordered_json{{"world_size", world}};
      r.timing.total_seconds = minutes * 60;
    });
  };
  edit("b1", "cpu", 30, 2, 2);    // 0.5 h x 2 threads x 2 ranks = 2 core-hours
  edit("e1", "cuda", 6, 4, 1);    // 0.1 GPU-hours
  edit("e2", "cpu", 120, 1, 1);   // 2 core-hours
  edit("e3", "cpu", 180, 1, 1);   // 3 core-hours
  const std::string md = captured_table({dir.path().string(), "--metrics", "hit@10", "--baseline", "base", "--wall"});
  EXPECT_NE(md.find("- elec: seeds 1,2,3; config hashes he1 he2 he3; devices cpu (seeds 2,3), cuda (seed 1); dropout"),
            std::string::npos) << md;
  EXPECT_NE(md.find("- base: seeds 1; config hashes hb1; device cpu; dropout masks torch; data-parallel ranks: 2\n"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| cpu 150.0, cuda 6.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 30.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("- compute: 7.0 CPU core-hours over 3 runs (wall time x threads x processes), 0.10 GPU-hours over 1 run\n"),
            std::string::npos) << md;
}

TEST(Table, PublishedNumbersAreTestedAgainstTheSeedsOfTheRowThatReproducesThem) {
  // elec's three seeds have hit@10 0.25, 0.5 and 0.75 (mean 0.5, std 0.25): the published 1.0
  // as one more run gives t = 0.5 / (0.25 sqrt(4/3)) = sqrt(3) with 2 degrees of freedom,
  // p = 1 - sqrt(3) / sqrt(5) = 0.2254, and one more seed falls in 0.5 -+ 4.3027 x 0.2887.
  // A published row without seqrec_method is only a row; a one-seed row is not tested.
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60});
  fake_result(dir, "e1", "elec", 1, "full/reference/optimistic", {0, 50, 60, 70});
  fake_result(dir, "e2", "elec", 2, "full/reference/optimistic", {0, 3, 60, 70});
  fake_result(dir, "e3", "elec", 3, "full/reference/optimistic", {0, 3, 5, 70});
  const std::string csv = dir.file("published.csv");
  write_file(csv,
             "method,dataset,metric,value,source,seqrec_method\n"
             "ELEC,Toy,hit@10,1.0,paper,elec\n"
             "Base,Toy,hit@10,0.3,paper,base\n"
             "Other,Toy,hit@10,0.9,blog\n");
  const std::string md = captured_table({dir.path().string(), "--metrics", "hit@10", "--baseline", "base", "--reference", csv});
  EXPECT_NE(md.find("- Toy hit@10: published ELEC (paper) 1.0000 vs elec's 3 seeds 0.5000 ± 0.2500: published - mean +0.5000; "
                    "one more seed falls in [-0.7421, 1.7421] with 95% probability: within; t(2) = 1.73, p = 0.2254; "
                    "holm-adjusted p = 0.2254\n"),
            std::string::npos) << md;
  EXPECT_NE(md.find("- Toy hit@10: published Base (paper) 0.3000 vs base's 1 seed 0.5000: published - mean -0.2000; no test (one seed)\n"),
            std::string::npos) << md;
  EXPECT_NE(md.find("holm-adjusted over the table's 1 published checks"), std::string::npos) << md;
  EXPECT_EQ(md.find("published Other"), std::string::npos) << md;
  EXPECT_NE(md.find("| Other (published: blog) | 0.9000 |"), std::string::npos) << md;
  const std::string table_csv =
      captured_table({dir.path().string(), "--metrics", "hit@10", "--baseline", "base", "--reference", csv, "--format", "csv"});
  EXPECT_NE(table_csv.find(",one_more_run_p,one_more_run_p_adjusted,one_more_run_pi95_lo,one_more_run_pi95_hi,learned_nothing_seeds\n"),
            std::string::npos) << table_csv;
  EXPECT_NE(table_csv.find("\nELEC,Toy,hit@10,1.0000,,,,,,,,,,,paper,elec,0.225403,0.225403,-0.742069,1.742069,\n"),
            std::string::npos) << table_csv;
  EXPECT_NE(table_csv.find("\nBase,Toy,hit@10,0.3000,,,,,,,,,,,paper,base,,,,,\n"), std::string::npos) << table_csv;
  EXPECT_NE(table_csv.find("\nOther,Toy,hit@10,0.9000,,,,,,,,,,,blog,,,,,,\n"), std::string::npos) << table_csv;
  EXPECT_NE(table_csv.find("\nelec,Toy,hit@10,0.500000,0.250000,3,"), std::string::npos) << table_csv;
  // The strict twin has no published checks: the published numbers are the reference protocol's.
  for (const char* name : {"b1", "e1", "e2", "e3"})
    edit_result(dir, name, [](RunResult& r) {
      r.test_other_protocol = {{r.protocol, r.test}};
      r.test_other_protocol->first.label = "full/strict/optimistic";
    });
  EXPECT_EQ(captured_table({dir.path().string(), "--metrics", "hit@10", "--reference", csv, "--other-protocol"}).find("published ELEC"),
            std::string::npos);
  // One published method is reproduced by one row.
  write_file(csv, "ELEC,Toy,hit@10,1.0,paper,elec\nELEC,Toy,ndcg@10,0.5,paper,base\n");
  try {
    captured_table({dir.path().string(), "--metrics", "hit@10", "--reference", csv});
    FAIL() << "a published method reproduced by two rows was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), csv + ":2: ELEC (paper) is reproduced by base here and by elec above");
  }
}

TEST(Table, JsonThatIsNotATrainResultIsSkippedWhateverItsCommandField) {
  // A "command" that is not a string (found by fuzz_results) is skipped like an eval result,
  // not an uncaught json type error.
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3});
  write_file(dir.file("odd.json"), "{\"command\": 88888888888888888888888888888}");
  write_file(dir.file("eval.json"), "{\"command\": \"eval\"}");
  EXPECT_NE(captured_table({dir.path().string(), "--metrics", "hit@10"}).find("| base | **1.0000** |"), std::string::npos);
}

TEST(Table, RefusesToMixProtocolsInOneColumn) {
  TempDir dir;
  fake_result(dir, "a", "x", 1, "full/reference/optimistic", {0, 1});
  fake_result(dir, "b", "y", 1, "full/strict/optimistic", {0, 1});
  try {
    seqrec::testing::command_output("table", {dir.path().string()});
    FAIL() << "mixed protocols accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "table: refusing to mix protocols in the Toy column: full/reference/optimistic, full/strict/optimistic");
  }
}

TEST(Table, GridLayoutNamesTheMethodAndFindsRanksBesideTheResult) {
  // A run without --label filed as {grid}/Toy/{method}/seed1-HASH.json is that method, and a
  // rank file moved beside it (<result>.ranks.h5) replaces a recorded path that is gone.
  TempDir dir;
  fake_result(dir, "b1", "base", 1, "full/reference/optimistic", {0, 3, 50, 60, 70, 80});
  fake_result(dir, "m1", "", 1, "full/reference/optimistic", {0, 3, 5, 6, 7, 80});
  const std::filesystem::path grid = dir.path() / "grid" / "Toy" / "my-method";
  std::filesystem::create_directories(grid);
  std::filesystem::rename(dir.file("m1.json"), grid / "seed1-hm1.json");
  std::filesystem::rename(dir.file("m1.h5"), grid / "seed1-hm1.ranks.h5");
  const std::string md = seqrec::testing::command_output("table", {dir.file("b1.json"), (dir.path() / "grid").string(), "--metrics", "hit@10", "--baseline", "base"});
  EXPECT_NE(md.find("| my-method | **0.8333** (+150.0%) |"), std::string::npos) << md;
  EXPECT_NE(md.find("hit@10 my-method vs base: mean diff 0.50000 ["), std::string::npos) << md;
}

TEST(Bench, StopSignalIsForwardedAndTheNextBenchResumes) {
  // SIGTERM to bench (a preemption): its run writes its training state and stops, bench exits
  // 143 leaving no lock; the next bench resumes the run, which ends as an uninterrupted one,
  // and counts the run's whole time (both benches') toward the ETA of the run left.
  TempDir dir;
  const std::string grid = markov_grid(dir, "1, 2", 8);
  const std::string out = dir.file("out");
  const pid_t pid = start_bench(grid, dir.file("first.log"));
  auto states = [&] { return files_under(out, ".state"); };
  // Stopped in its seventh epoch of eight, so most of the run's time is the first bench's.
  auto past_epoch_6 = [&] {
    const std::vector<std::string> logs = files_under(out, ".log");
    return !logs.empty() && slurp(logs[0]).find("\nepoch 6 ") != std::string::npos;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!past_epoch_6() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(states().size(), 1u) << slurp(dir.file("first.log"));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string first = slurp(dir.file("first.log"));
  ASSERT_TRUE(WIFEXITED(status)) << first;
  if (!jsons(out).empty()) GTEST_SKIP() << "the run ended before the signal arrived";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << first;
  EXPECT_NE(first.find("bench: stopped by signal 15 (Terminated); run the same bench command to resume"), std::string::npos) << first;
  for (const auto& e : std::filesystem::recursive_directory_iterator(out))
    EXPECT_NE(e.path().extension(), ".lock") << e.path();
  // --dry-run says where the stopped run goes on from, read from its state.
  waitpid(start_bench(grid, dir.file("dry.log"), "--dry-run"), &status, 0);
  const std::string dry = slurp(dir.file("dry.log"));
  ASSERT_NE(dry.find("  todo  markov sasrec seed 1 "), std::string::npos) << dry;
  ASSERT_NE(dry.find("  todo  markov sasrec seed 2 "), std::string::npos) << dry;
  const std::string seed1_line = dry.substr(dry.find("  todo  markov sasrec seed 1 "));
  EXPECT_NE(seed1_line.find(".json; resumes at epoch 7 of 8, step "), std::string::npos) << dry;
  EXPECT_NE(seed1_line.find("; best valid ndcg@20 0."), std::string::npos) << dry;
  EXPECT_LT(seed1_line.find(" trained\n"), seed1_line.find('\n') + 1) << dry;
  EXPECT_EQ(dry.substr(dry.find("  todo  markov sasrec seed 2 ")).find("resumes at"), std::string::npos) << dry;

  waitpid(start_bench(grid, dir.file("second.log")), &status, 0);
  const std::string second = slurp(dir.file("second.log"));
  EXPECT_EQ(WEXITSTATUS(status), 0) << second;
  ASSERT_EQ(jsons(out).size(), 2u);
  const std::string seed1 = jsons(out)[0];
  ASSERT_NE(seed1.find("seed1-"), std::string::npos) << seed1;
  EXPECT_NE(second.find(".log; resumes at epoch 7 of 8, step "), std::string::npos) << second;  // the start line
  const std::string run_log = slurp(seed1.substr(0, seed1.size() - 5) + ".log");
  EXPECT_NE(run_log.find("resuming from"), std::string::npos) << run_log;
  EXPECT_TRUE(states().empty());
  // The resumed run's line: its time in all from its result, and the ETA of the one run left
  // (one at a time) is that time, not the second bench's share of it.
  const RunResult r = read_run_result(seed1);
  ASSERT_EQ(r.resumes.value_or(-1), 1);
  const auto all = std::llround(r.timing.total_seconds);
  const std::string line =
      "(" + std::to_string(all) + " s in all, 1 resume)  [1/2 finished, 0 failed, ETA " + std::to_string(all) + " s]";
  const std::string done1 = "done  markov sasrec seed 1 in ";
  const size_t at = second.find(done1);
  ASSERT_NE(at, std::string::npos) << second;
  EXPECT_LT(std::stoll(second.substr(at + done1.size())), all) << "the second bench's share is not the whole run\n"
                                                               << second;
  EXPECT_NE(second.find(line), std::string::npos) << line << "\n" << second;
  EXPECT_NE(second.find("done  markov sasrec seed 2 in "), std::string::npos) << second;
}

TEST(Bench, AStoppedRunGoesOnBeforeAnyRunStartsAnew) {
  // Seed 2 stopped with its training state; the next bench, over seeds 1 and 2 one at a time,
  // resumes seed 2 before it starts seed 1, whatever their order in the grid.
  TempDir dir;
  const std::string out = dir.file("out");
  const pid_t pid = start_bench(markov_grid(dir, "2", 8), dir.file("first.log"));
  auto state_written = [&] { return !files_under(out, ".state").empty(); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!state_written() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!jsons(out).empty()) GTEST_SKIP() << "the run ended before the signal arrived";
  ASSERT_TRUE(state_written()) << slurp(dir.file("first.log"));

  waitpid(start_bench(markov_grid(dir, "1, 2", 8), dir.file("second.log")), &status, 0);
  const std::string second = slurp(dir.file("second.log"));
  ASSERT_EQ(WEXITSTATUS(status), 0) << second;
  const size_t two = second.find("start markov sasrec seed 2 "), one = second.find("start markov sasrec seed 1 ");
  ASSERT_NE(two, std::string::npos) << second;
  ASSERT_NE(one, std::string::npos) << second;
  EXPECT_LT(two, one) << second;
  EXPECT_LT(second.find("; resumes at epoch ", two), one) << second;
  EXPECT_EQ(jsons(out).size(), 2u) << second;
}

TEST(Bench, DryRunSaysWhatIsLeftFromEachMethodsFinishedRuns) {
  // bench's second line: an unfinished run counts at its method's mean time less what its
  // state has trained; a method with no finished run is named, not guessed.
  TempDir dir;
  const std::string grid = markov_grid(dir, "1", 8);
  int status = 0;
  waitpid(start_bench(grid, dir.file("first.log")), &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0) << slurp(dir.file("first.log"));
  const std::string seed1 = jsons(dir.file("out")).at(0);
  nlohmann::json j = nlohmann::json::parse(slurp(seed1));
  j["timing"]["total_seconds"] = 80.0;
  write_file(seed1, j.dump(2));
  write_file(dir.file("markov-other.ini"), slurp(dir.file("markov-sasrec.ini")));
  std::string g = slurp(grid);
  g.replace(g.find("methods = sasrec"), 16, "methods = sasrec, other");
  g.replace(g.find("seeds = 1"), 9, "seeds = 1, 2");
  write_file(grid, g);
  const std::string unknown = "; 2 runs of methods with no finished run: other\n";

  waitpid(start_bench(grid, dir.file("dry.log"), "--dry-run"), &status, 0);
  const std::string dry = slurp(dir.file("dry.log"));
  EXPECT_NE(dry.find("\ntime: 80 s in 1 finished run; to go: about 80 s for 1 run (at the mean time of their method's "
                     "finished runs, less what their states have trained, 1 at a time)" + unknown),
            std::string::npos)
      << dry;

  // Seed 2 stopped in its seventh epoch: what its state trained comes off the estimate.
  const pid_t pid = start_bench(grid, dir.file("second.log"));
  auto past_epoch_6 = [&] {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.file("out")))
      if (e.path().extension() == ".log" && e.path().string().find("/seed2-") != std::string::npos)
        return slurp(e.path().string()).find("\nepoch 6 ") != std::string::npos;
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!past_epoch_6() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  EXPECT_NE(slurp(dir.file("second.log")).find("\ntime: 80 s in 1 finished run; to go: about 80 s for 1 run ("),
            std::string::npos)
      << slurp(dir.file("second.log"));
  if (jsons(dir.file("out")).size() > 1) GTEST_SKIP() << "the run ended before the signal arrived";
  std::string state;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.file("out")))
    if (e.path().extension() == ".state") state = e.path().string();
  ASSERT_FALSE(state.empty()) << slurp(dir.file("second.log"));
  const double trained = read_state_progress(state).seconds;
  ASSERT_GT(trained, 0.0);
  waitpid(start_bench(grid, dir.file("dry2.log"), "--dry-run"), &status, 0);
  const std::string dry2 = slurp(dir.file("dry2.log"));
  EXPECT_NE(dry2.find("; to go: about " + std::to_string(std::llround(80.0 - trained)) + " s for 1 run ("),
            std::string::npos)
      << trained << "\n" << dry2;
  EXPECT_NE(dry2.find(unknown), std::string::npos) << dry2;
}

TEST(Bench, RanksRunEachRunAsADataParallelJobAndLabelNamesIt) {
  TempDir dir;
  const std::string grid = markov_grid(dir, "1");
  write_file(grid, slurp(grid) + "ranks = 2\nlabel = {method}-on-{dataset}\n");
  int status = 0;
  waitpid(start_bench(grid, dir.file("bench.log")), &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0) << slurp(dir.file("bench.log"));
  const std::vector<std::string> out = jsons(dir.file("out"));
  ASSERT_EQ(out.size(), 1u);
  const nlohmann::json r = nlohmann::json::parse(slurp(out[0]));
  EXPECT_EQ(r["data_parallel"]["world_size"], 2);
  EXPECT_EQ(r["config"]["label"], "sasrec-on-markov");
  EXPECT_TRUE(std::filesystem::exists(out[0].substr(0, out[0].size() - 5) + ".ranks.h5"));
  const std::string table = captured_table({dir.file("out"), "--metrics", "hit@10"});
  EXPECT_NE(table.find("sasrec-on-markov: seeds 1; config hashes"), std::string::npos) << table;
  EXPECT_NE(table.find("; data-parallel ranks: 2"), std::string::npos) << table;
}
