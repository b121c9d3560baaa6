// The seqrec binary end to end on generated data: train, save, eval the checkpoint, JSON
// results, determinism, and one-line errors.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "seqrec/build_info.h"
#include "seqrec/checkpoint.h"
#include "seqrec/dataset.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

namespace {
struct CliRun {
  int code;
  std::string out;
};
/// A shell command's output (stderr included) and exit code; -1 when a signal ended it.
CliRun run_captured(const std::string& cmd) {
  CliRun r{0, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
CliRun seqrec_cli(const std::string& args, bool one_thread = true, const std::string& env = "") {
  // One intra-op thread: ctest runs tests side by side on 2 cores.
  return run_captured(env + std::string(SEQREC_BINARY_DIR) + "/seqrec " + args + (one_thread ? " --threads 1" : ""));
}
/// `seqrec ARGS` (one thread) with the files it writes capped at KIB KiB, as a full disk caps
/// them: the shell's ulimit -f, SIGXFSZ ignored.
CliRun seqrec_on_full_disk(const std::string& args, int kib) {
  return run_captured("bash -c \"trap '' XFSZ; ulimit -f " + std::to_string(kib) + "; exec " +
                      std::string(SEQREC_BINARY_DIR) + "/seqrec " + args + " --threads 1\"");
}
std::string last_line(const std::string& out) { return out.substr(out.rfind('\n', out.size() - 2) + 1); }
/// Every path under `dir` that holds ".tmp": a temporary file left behind.
std::vector<std::string> temporaries(const TempDir& dir) {
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path()))
    if (e.path().string().find(".tmp") != std::string::npos) left.push_back(e.path().string());
  return left;
}
nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(std::ifstream(path)); }
}  // namespace

TEST(Cli, TrainSaveEvalRoundTrip) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --sasrec.hidden-size 16 --epochs 3 --patience 2 --progress lines --sasrec.dropout 0.3";
  CliRun train = seqrec_cli("train " + common + " --output " + dir.file("r.json") + " --save " + dir.file("m.pt") +
                         " --ranks " + dir.file("ranks.h5"));
  ASSERT_EQ(train.code, 0) << train.out;
  EXPECT_NE(train.out.find("epoch 3 loss"), std::string::npos) << train.out;
  nlohmann::json r = read_json(dir.file("r.json"));
  for (const char* k : {"hit@5", "ndcg@5", "hit@10", "ndcg@10", "hit@20", "ndcg@20", "mrr"}) EXPECT_TRUE(r["test"].contains(k)) << k;
  EXPECT_EQ(r["protocol"]["label"], "full/reference/optimistic");
  EXPECT_EQ(r["curve"].size(), 3u);
  EXPECT_EQ(r["config"]["epochs"], "3");
  EXPECT_EQ(r["config_hash"].get<std::string>().size(), 16u);
  for (const char* k : {"commit", "dirty", "code_tree", "environment"}) EXPECT_TRUE(r["seqrec"].contains(k)) << k;
  // A git tree id; a build from a tarball (git archive: no repository) knows neither commit nor tree.
  if (r["seqrec"]["commit"] == "unknown") EXPECT_EQ(r["seqrec"]["code_tree"], "unknown");
  else EXPECT_EQ(r["seqrec"]["code_tree"].get<std::string>().size(), 40u) << "a git tree id";
  EXPECT_GT(r["peak_rss_bytes"].get<int64_t>(), 0);

  // The checkpoint carries its options: eval needs no model flags and reproduces the test metrics.
  CliRun eval = seqrec_cli("eval --checkpoint " + dir.file("m.pt") + " --data " + dir.file("m.txt") + " --cache-dir " +
                        dir.file("cache") + " --json " + dir.file("e.json"));
  ASSERT_EQ(eval.code, 0) << eval.out;
  nlohmann::json e = read_json(dir.file("e.json"));
  EXPECT_EQ(e["metrics"], r["test"]);
  // Only the architecture comes back from the checkpoint; training keys keep eval's values.
  EXPECT_EQ(e["config"]["sasrec.hidden-size"], "16");
  EXPECT_EQ(e["config"]["sasrec.dropout"], "0.5");

  // Same seed, same threads: the same numbers.
  CliRun again = seqrec_cli("train " + common + " --output " + dir.file("r2.json"));
  ASSERT_EQ(again.code, 0) << again.out;
  nlohmann::json r2 = read_json(dir.file("r2.json"));
  EXPECT_EQ(r2["test"], r["test"]);
  EXPECT_EQ(r2["curve"][2]["loss"], r["curve"][2]["loss"]);
}

TEST(Cli, ThreadsBoundOpenBLASUnlessItsVariableIsSet) {
  TempDir dir;
  write_lines(make_markov_dataset(60, 20, 5, 12, 4), dir.file("m.txt"));
  const std::string train = "train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                            " --sasrec.hidden-size 8 --epochs 1 --output ";
  CliRun own = seqrec_cli(train + dir.file("own.json"), true, "env -u OPENBLAS_NUM_THREADS ");
  ASSERT_EQ(own.code, 0) << own.out;
  const nlohmann::json env = read_json(dir.file("own.json"))["seqrec"]["environment"];
  if (env["blas_threads"] == -1) GTEST_SKIP() << "the selected libblas.so.3 is not OpenBLAS";
  EXPECT_EQ(env["intra_op_threads"], 1);
  EXPECT_EQ(env["blas_threads"], 1);  // OpenBLAS's default is one per core
  // The variable wins over --threads 1 (OpenBLAS caps it at the CPUs this process may use).
  CliRun user = seqrec_cli(train + dir.file("user.json"), true, "OPENBLAS_NUM_THREADS=2 ");
  ASSERT_EQ(user.code, 0) << user.out;
  const nlohmann::json set = read_json(dir.file("user.json"))["seqrec"]["environment"];
  EXPECT_EQ(set["openblas_num_threads_env"], "2");
  cpu_set_t usable;
  ASSERT_EQ(sched_getaffinity(0, sizeof usable, &usable), 0);
  EXPECT_EQ(set["blas_threads"], std::min(2, CPU_COUNT(&usable)));
}

TEST(Cli, SequenceModelBeatsPopularityOnMarkovData) {
  TempDir dir;
  CliRun demo = seqrec_cli("demo --cache-dir " + dir.file("cache") + " --epochs 3 --sasrec.hidden-size 32");
  ASSERT_EQ(demo.code, 0) << demo.out;
  auto value = [&](const std::string& row) {
    size_t p = demo.out.find("| " + row + " | ");
    EXPECT_NE(p, std::string::npos) << demo.out;
    return std::stod(demo.out.substr(p + row.size() + 5));
  };
  EXPECT_GT(value("sasrec+cce"), 2 * value("pop"));
}

TEST(Cli, MalformedDataIsOneLineAndLeavesNoCache) {
  TempDir dir;
  seqrec::testing::write_file(dir.file("bad.txt"), "1 5 6\n2 7 oops\n");
  CliRun r = seqrec_cli("prepare --data " + dir.file("bad.txt") + " --cache-dir " + dir.file("cache"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "seqrec: error: " + dir.file("bad.txt") + ":2: 'oops' is not an integer id\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("cache")) && !std::filesystem::is_empty(dir.file("cache")));
}

TEST(Cli, UsageErrors) {
  EXPECT_EQ(seqrec_cli("frobnicate").code, 2);
  CliRun r = seqrec_cli("train --epochs -x");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--epochs: '-x' is not a valid int"), std::string::npos) << r.out;
  CliRun list = seqrec_cli("list");
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("cce  [builtin]"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("data-parallel backends: gloo"), std::string::npos) << list.out;
}

TEST(Cli, AFullDiskWhileTheTrainingStateStreamsIsOneLine) {
  // The state is streamed to its file (not held in memory), so the disk fills while LibTorch's
  // archive writer runs (hidden 256: a state past the stream's 1 MiB buffer). The error is the
  // file's, in one line; had the writer seen its stream fail, it would have thrown from its
  // destructor and aborted the process, leaving the temporary and the lock behind.
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache");
  ASSERT_EQ(seqrec_cli("prepare " + common).code, 0);
  const CliRun r = seqrec_on_full_disk(
      "train " + common + " --sasrec.hidden-size 256 --epochs 2 --resume --output " + dir.file("r.json"), 16);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(last_line(r.out), "seqrec: error: " + dir.file("r.json.state") + ": File too large\n") << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json.state")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json.lock")));
  EXPECT_EQ(temporaries(dir), std::vector<std::string>{});
}

TEST(Cli, AFullDiskIsOneLineAndLeavesNoResult) {
  // Writes past a file-size limit fail as writes to a full disk do (the shell's ulimit -f,
  // SIGXFSZ ignored): one line naming the file, exit 1, and neither the rank file nor the
  // result JSON that would mark the run finished. Before: HDF5's error stack, a segmentation
  // fault and a truncated rank file under its final name.
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache");
  ASSERT_EQ(seqrec_cli("prepare " + common).code, 0);  // the cache is written without the limit
  const CliRun r = seqrec_on_full_disk("train " + common + " --sasrec.hidden-size 16 --epochs 1 --output " +
                                           dir.file("r.json") + " --ranks " + dir.file("ranks.h5"), 1);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(last_line(r.out), "seqrec: error: " + dir.file("ranks.h5") + ": File too large\n") << r.out;
  EXPECT_EQ(r.out.find("HDF5"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("ranks.h5")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json")));
  EXPECT_EQ(temporaries(dir), std::vector<std::string>{});
}

TEST(Cli, DivergenceStopsAtTheStepWithOneLineAndNoResult) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  CliRun r = seqrec_cli("train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                        " --sasrec.hidden-size 16 --epochs 3 --lr 1e30 --progress none --output " + dir.file("r.json"));
  EXPECT_EQ(r.code, 3) << r.out;
  const std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(last.rfind("seqrec: error: training diverged at epoch ", 0), 0u) << r.out;
  EXPECT_NE(last.find(": loss nan; no result written"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json")));
}

TEST(Cli, NumbersOutsideTheirRangeAreOneLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"--seed 99999999999999999999999", "--seed: '99999999999999999999999' does not fit a 64-bit integer"},
      {"--seed -1", "--seed: -1 is out of range [0, inf]"},
      {"--lr -0.1", "--lr: -0.1 is out of range [0, inf]"},
      {"--batch-size 0", "--batch-size: 0 is out of range [1, inf]"},
      {"--sasrec.dropout 1", "--sasrec.dropout: 1 is out of range [0, 1)"},
  };
  for (const auto& [args, want] : cases) {
    CliRun r = seqrec_cli(std::string("train --data synthetic:markov ") + args);
    EXPECT_EQ(r.code, 1) << args;
    EXPECT_EQ(r.out, std::string("seqrec: error: ") + want + "\n") << args;
  }
}

TEST(Cli, TwoRunsCannotWriteOneOutput) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string out = dir.file("r.json");
  const std::string train = "train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                            " --sasrec.hidden-size 16 --epochs 1 --progress none --output " + out;
  // A live process (this test) holds the output's lock: refused in one line, nothing written.
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  seqrec::testing::write_file(out + ".lock", std::string(host) + " " + std::to_string(getpid()) + "\n");
  CliRun held = seqrec_cli(train);
  EXPECT_EQ(held.code, 1) << held.out;
  EXPECT_NE(held.out.find("seqrec: error: " + out + ": another seqrec process is writing this result"), std::string::npos)
      << held.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  // A lock left by a process that has died is taken over, and released at the end.
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  seqrec::testing::write_file(out + ".lock", std::string(host) + " " + std::to_string(gone) + "\n");
  CliRun stale = seqrec_cli(train);
  EXPECT_EQ(stale.code, 0) << stale.out;
  EXPECT_TRUE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".lock"));
}

TEST(Cli, TableRefusesAResultWhoseRankFileIsMissingOrChanged) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string out = dir.file("runs/r.json"), ranks = dir.file("runs/r.ranks.h5");
  CliRun train = seqrec_cli("train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                            " --sasrec.hidden-size 16 --epochs 1 --progress none --output " + out + " --ranks " + ranks);
  ASSERT_EQ(train.code, 0) << train.out;
  EXPECT_EQ(read_json(out)["ranks_fnv1a"].get<std::string>().size(), 16u);
  EXPECT_EQ(seqrec_cli("table " + dir.file("runs"), false).code, 0);
  // One flipped byte in the rank file.
  std::string bytes;
  {
    std::ifstream in(ranks, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x01;
  seqrec::testing::write_file(ranks, bytes);
  CliRun changed = seqrec_cli("table " + dir.file("runs"), false);
  EXPECT_EQ(changed.code, 1);
  EXPECT_EQ(changed.out, "seqrec: error: " + out + ": its rank file " + ranks +
                             " does not match the checksum the result recorded (damaged or replaced)\n");
  std::filesystem::remove(ranks);
  CliRun missing = seqrec_cli("table " + dir.file("runs"), false);
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "seqrec: error: " + out + ": its rank file " + ranks + " is missing\n");
}

TEST(Cli, SampledCandidatesNeverStandAlone) {
  // A run evaluated on 100 sampled candidates also ranks the whole catalogue, and a table of
  // such runs shows the full-ranking mean beside every sampled cell, under a warning.
  TempDir dir;
  write_lines(make_markov_dataset(200, 60, 5, 20, 8), dir.file("small.txt"));
  // 60 items cannot give every user 100 candidates: one line says so.
  CliRun small = seqrec_cli("train --data " + dir.file("small.txt") + " --cache-dir " + dir.file("cache") +
                            " --sasrec.hidden-size 8 --epochs 1 --progress none --candidates uni100");
  EXPECT_EQ(small.code, 1);
  EXPECT_NE(small.out.find("seqrec: error: --candidates uni100 needs 100 items outside every user's history and answer"),
            std::string::npos) << small.out;
  write_lines(make_markov_dataset(200, 300, 5, 20, 8), dir.file("m.txt"));
  CliRun train = seqrec_cli("train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                            " --sasrec.hidden-size 8 --epochs 1 --progress none --candidates uni100 --output " +
                            dir.file("r.json") + " --ranks " + dir.file("r.h5"));
  ASSERT_EQ(train.code, 0) << train.out;
  const nlohmann::json r = read_json(dir.file("r.json"));
  EXPECT_EQ(r["protocol"]["label"], "uni100/reference/optimistic");
  ASSERT_TRUE(r.contains("test_full_ranking")) << r.dump();
  EXPECT_EQ(r["test_full_ranking"]["protocol"]["label"], "full/reference/optimistic");
  // 100 candidates rank the answer at least as high as the whole catalogue does.
  EXPECT_GE(r["test"]["hit@10"].get<double>(), r["test_full_ranking"]["metrics"]["hit@10"].get<double>());
  CliRun table = seqrec_cli("table " + dir.file("r.json") + " --metrics hit@10", false);
  ASSERT_EQ(table.code, 0) << table.out;
  std::ostringstream full;
  full << std::fixed << std::setprecision(4) << r["test_full_ranking"]["metrics"]["hit@10"].get<double>();
  EXPECT_NE(table.out.find("[full " + full.str() + "]"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("WARNING: sampled candidates (uni100)"), std::string::npos) << table.out;
}

// A temporal split's label starts with "temporal/"; its full ranking is not sampled candidates.
TEST(Cli, ATemporalTableRanksTheFullCatalogueWithoutTheSampledWarning) {
  TempDir dir;
  std::mt19937_64 rng(3);
  std::ofstream dat(dir.file("ratings.dat"));
  for (int u = 1; u <= 120; ++u)
    for (int k = 0; k < 12; ++k) dat << u << "::" << 1 + rng() % 40 << "::4::" << 1000 + u * 7 + k * 900 << "\n";
  dat.close();
  CliRun train = seqrec_cli("train --data " + dir.file("ratings.dat") + " --cache-dir " + dir.file("cache") +
                            " --split temporal --sasrec.hidden-size 8 --epochs 1 --progress none --output " +
                            dir.file("r.json") + " --ranks " + dir.file("r.h5"));
  ASSERT_EQ(train.code, 0) << train.out;
  EXPECT_EQ(read_json(dir.file("r.json"))["protocol"]["label"], "temporal/full/reference/optimistic");
  CliRun table = seqrec_cli("table " + dir.file("r.json") + " --metrics hit@10", false);
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("temporal split"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("sampled candidates"), std::string::npos) << table.out;
}

// Commands that write a file name it --output, as train and table do; --out is the same option.
TEST(Cli, GenerateWritesToOutputAndAcceptsOut) {
  TempDir dir;
  CliRun a = seqrec_cli("generate --users 20 --items 30 --output " + dir.file("a.inter"), false);
  ASSERT_EQ(a.code, 0) << a.out;
  CliRun b = seqrec_cli("generate --users 20 --items 30 --out " + dir.file("b.inter"), false);
  ASSERT_EQ(b.code, 0) << b.out;
  std::ifstream fa(dir.file("a.inter")), fb(dir.file("b.inter"));
  const std::string ta((std::istreambuf_iterator<char>(fa)), {}), tb((std::istreambuf_iterator<char>(fb)), {});
  EXPECT_FALSE(ta.empty());
  EXPECT_EQ(ta, tb);
  CliRun none = seqrec_cli("generate --users 20", false);
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.out, "seqrec: error: generate: --output is required; usage: seqrec generate --output FILE.inter [options]\n");
}

TEST(Cli, EveryRunRecordsTheTestUnderTheOtherTieRule) {
  // Under the reference protocol an answer that repeats a history item scores 0 like the rest
  // of the history, so the tie rule moves it. A run records its test under both rules; the
  // other one equals `eval --ties pessimistic` of the saved best model (whose own other rule is
  // the run's test), and `table --other-ties` tabulates it.
  TempDir dir;
  write_lines(make_markov_dataset(200, 40, 5, 25, 8), dir.file("m.txt"));
  const std::string data = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache");
  CliRun train = seqrec_cli("train " + data + " --sasrec.hidden-size 8 --epochs 1 --progress lines --output " +
                            dir.file("r.json") + " --save " + dir.file("m.pt"));
  ASSERT_EQ(train.code, 0) << train.out;
  const nlohmann::json r = read_json(dir.file("r.json"));
  ASSERT_GT(r["dataset"]["test_answer_repeats"].get<int64_t>(), 0) << "no ties to provoke";
  // The validation that picks the best epoch ties the same way; its log line gives both.
  std::smatch v;
  ASSERT_TRUE(
      std::regex_search(train.out, v, std::regex(R"(valid ndcg@20 (\S+) best \S+ @1 \(pessimistic ties (\S+)\))")))
      << train.out;
  EXPECT_LT(std::stod(v[2]), std::stod(v[1]));
  EXPECT_NEAR(std::stod(v[1]), r["valid_best"]["ndcg@20"].get<double>(), 5e-5);
  ASSERT_TRUE(r.contains("test_other_ties")) << r.dump();
  EXPECT_EQ(r["test_other_ties"]["protocol"]["label"], "full/reference/pessimistic");
  const nlohmann::json& other = r["test_other_ties"]["metrics"];
  for (const char* k : {"hit@5", "ndcg@5", "hit@10", "ndcg@10", "hit@20", "ndcg@20", "mrr"})
    EXPECT_LE(other[k].get<double>(), r["test"][k].get<double>()) << k;
  EXPECT_LT(other["mrr"].get<double>(), r["test"]["mrr"].get<double>()) << "the repeated answers' ties moved nothing";
  CliRun eval = seqrec_cli("eval --checkpoint " + dir.file("m.pt") + " " + data + " --ties pessimistic --json " +
                           dir.file("e.json"));
  ASSERT_EQ(eval.code, 0) << eval.out;
  const nlohmann::json e = read_json(dir.file("e.json"));
  for (const char* k : {"hit@10", "ndcg@10", "mrr"})
    EXPECT_NEAR(e["metrics"][k].get<double>(), other[k].get<double>(), 1e-6) << k;
  // eval reports the other rule too: here the optimistic one, the run's own test.
  EXPECT_EQ(e["other_ties"]["protocol"]["label"], "full/reference/optimistic");
  for (const char* k : {"hit@10", "ndcg@10", "mrr"})
    EXPECT_NEAR(e["other_ties"]["metrics"][k].get<double>(), r["test"][k].get<double>(), 1e-6) << k;
  EXPECT_NE(eval.out.find("test [full/reference/optimistic]: "), std::string::npos) << eval.out;
  CliRun table = seqrec_cli("table " + dir.file("r.json") + " --metrics mrr --other-ties", false);
  ASSERT_EQ(table.code, 0) << table.out;
  std::ostringstream mrr;
  mrr << std::fixed << std::setprecision(4) << other["mrr"].get<double>();
  EXPECT_NE(table.out.find(mrr.str()), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("the runs' other tie rule"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("full/reference/pessimistic"), std::string::npos) << table.out;
  // A result written before both rules were recorded: one line says so.
  nlohmann::json old = r;
  old.erase("test_other_ties");
  seqrec::testing::write_file(dir.file("old.json"), old.dump());
  CliRun missing = seqrec_cli("table " + dir.file("old.json") + " --other-ties", false);
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "seqrec: error: " + dir.file("old.json") +
                             ": no test_other_ties (trained before seqrec recorded both tie rules)\n");
}

TEST(Cli, LaunchRunsTrainAndEvalDataParallel) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string data = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache");
  const std::string common = data + " --sasrec.hidden-size 16 --epochs 4 --patience 2 --batch-size 64";
  CliRun one = seqrec_cli("train " + common + " --output " + dir.file("r1.json") + " --save " + dir.file("m.pt"));
  ASSERT_EQ(one.code, 0) << one.out;
  CliRun two = seqrec_cli("launch -n 2 -- train " + common + " --output " + dir.file("r2.json"));
  ASSERT_EQ(two.code, 0) << two.out;
  // Rank 0 alone logs: each line once.
  for (const char* line : {"training sasrec", "epoch 1 loss", "test [full/reference/optimistic]", "result written"}) {
    size_t n = 0;
    for (size_t at = two.out.find(line); at != std::string::npos; at = two.out.find(line, at + 1)) ++n;
    EXPECT_EQ(n, 1u) << line << "\n" << two.out;
  }
  nlohmann::json r1 = read_json(dir.file("r1.json")), r2 = read_json(dir.file("r2.json"));
  EXPECT_EQ(r2["data_parallel"]["world_size"], 2);
  EXPECT_EQ(r2["data_parallel"]["global_batch_size"], 64);
  EXPECT_FALSE(r1.contains("data_parallel"));
  EXPECT_EQ(r2["config_hash"], r1["config_hash"]) << "the same run, computed by two processes";
  // Other sampling and dropout streams, the same global steps: within a loose band of one process.
  const double v1 = r1["valid_best"]["ndcg@20"], v2 = r2["valid_best"]["ndcg@20"];
  EXPECT_NEAR(v2, v1, 0.25 * v1);

  // Evaluation sharded by users: the same metrics and the same rank file, byte for byte.
  const std::string eval = "eval --checkpoint " + dir.file("m.pt") + " " + data;
  CliRun e1 = seqrec_cli(eval + " --json " + dir.file("e1.json") + " --ranks " + dir.file("e1.h5"));
  ASSERT_EQ(e1.code, 0) << e1.out;
  CliRun e3 = seqrec_cli("launch -n 3 -- " + eval + " --json " + dir.file("e3.json") + " --ranks " + dir.file("e3.h5"));
  ASSERT_EQ(e3.code, 0) << e3.out;
  nlohmann::json j1 = read_json(dir.file("e1.json")), j3 = read_json(dir.file("e3.json"));
  EXPECT_EQ(j3["metrics"], j1["metrics"]);
  EXPECT_EQ(j3["ranks_fnv1a"], j1["ranks_fnv1a"]);
  EXPECT_EQ(j3["data_parallel"]["world_size"], 3);
}

TEST(Cli, ADeadRankEndsTheOthersWithOneLine) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const auto t0 = std::chrono::steady_clock::now();
  CliRun r = seqrec_cli("launch -n 2 -- train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                        " --sasrec.hidden-size 16 --epochs 3 --batch-size 32 --dist.timeout 20 --output " + dir.file("r.json"),
                        true, "SEQREC_FAULT_RANK=1 SEQREC_FAULT_KILL_AT_STEP=2 ");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 128 + 9) << r.out;  // the killed rank's code
  size_t errors = 0;
  for (size_t at = r.out.find("seqrec: error:"); at != std::string::npos; at = r.out.find("seqrec: error:", at + 1)) ++errors;
  EXPECT_EQ(errors, 1u) << r.out;
  EXPECT_NE(r.out.find("data-parallel rank 0 of 2"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 20.0 + 15.0);
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json")));
}

TEST(Cli, ATrainerWithoutADataParallelStepIsRefused) {
  TempDir dir;
  write_lines(make_markov_dataset(100, 30, 5, 15, 4), dir.file("m.txt"));
  CliRun r = seqrec_cli("launch -n 2 -- train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                        " --sasrec.hidden-size 8 --epochs 1 --loss bce --trainer atsrec");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("seqrec: error: --trainer atsrec does not run data-parallel"), std::string::npos) << r.out;
  // NCCL reduces on GPUs: asked for on the CPU, every rank stops before the rendezvous.
  CliRun nccl = seqrec_cli("launch -n 2 -- train --data " + dir.file("m.txt") + " --dist.backend nccl");
  EXPECT_EQ(nccl.code, 1) << nccl.out;
  EXPECT_NE(nccl.out.find("seqrec: error: --dist.backend nccl reduces on GPUs: it needs --device cuda (gloo runs on the CPU)"),
            std::string::npos) << nccl.out;
  CliRun help = seqrec_cli("launch --help", false);
  EXPECT_EQ(help.code, 0) << help.out;
  EXPECT_NE(help.out.find("usage: seqrec launch -n N"), std::string::npos) << help.out;
  CliRun usage = seqrec_cli("launch -n 2 -- demo", false);
  EXPECT_EQ(usage.code, 1) << usage.out;
  EXPECT_NE(usage.out.find("after -- comes the command to run data-parallel, train or eval"), std::string::npos) << usage.out;
}

TEST(Cli, CommandsWithTheirOwnArgumentsHaveHelp) {
  // --help or -h anywhere among a command's own arguments prints its usage and exits 0.
  for (const std::string cmd : {"bench", "table", "plot", "tune", "generate", "launch"}) {
    CliRun r = seqrec_cli(cmd + " --help", false);
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.out;
    EXPECT_EQ(r.out.rfind("usage: seqrec " + cmd + " ", 0), 0u) << r.out;
  }
  CliRun late = seqrec_cli("bench grid.ini -h", false);
  EXPECT_EQ(late.code, 0) << late.out;
  EXPECT_NE(late.out.find("label = {method}-tuned"), std::string::npos) << late.out;
  CliRun bad = seqrec_cli("table results --bogus", false);
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_EQ(bad.out, "seqrec: error: table: unknown option --bogus (seqrec table --help)\n");
  CliRun no_results = seqrec_cli("table --metrics hit@10", false);
  EXPECT_EQ(no_results.out, "seqrec: error: table: no results named; usage: seqrec table RESULTS... [options]\n");
  CliRun none = seqrec_cli("bench", false);
  EXPECT_EQ(none.out, "seqrec: error: bench: no GRID.ini named; usage: seqrec bench GRID.ini [--dry-run] [--shard i/n]\n");
}

TEST(Cli, Bf16TrainsAndRecordsItsPrecision) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --sasrec.hidden-size 16 --epochs 3 --patience 2";
  CliRun fp32 = seqrec_cli(common + " --output " + dir.file("fp32.json"));
  CliRun bf16 = seqrec_cli(common + " --precision bf16 --output " + dir.file("bf16.json"));
  ASSERT_EQ(fp32.code, 0) << fp32.out;
  ASSERT_EQ(bf16.code, 0) << bf16.out;
  nlohmann::json a = read_json(dir.file("fp32.json")), b = read_json(dir.file("bf16.json"));
  EXPECT_EQ(b["config"]["precision"], "bf16");
  EXPECT_NE(a["config_hash"], b["config_hash"]) << "another arithmetic is another run";
  EXPECT_NE(a["curve"][0]["loss"], b["curve"][0]["loss"]);
  const double va = a["valid_best"]["ndcg@20"], vb = b["valid_best"]["ndcg@20"];
  EXPECT_NEAR(vb, va, 0.2 * va);
}

// --init: a run starts from a checkpoint's tensors. With no training (lr 0, so Adam moves
// nothing), its test metrics are the checkpoint's own; a checkpoint of other shapes is one
// line naming the tensor.
// A Caser of width 1 scores every item 0 for the users its ReLU zeroes, so its validation
// differs under the two tie rules; valid-ties picks the best epoch under the one it names.
TEST(Cli, ValidTiesPicksTheBestEpochUnderTheRuleItNames) {
  TempDir dir;
  uint64_t x = 3;  // 200 users of 12 items of 40 from a fixed linear congruential stream
  std::string lines;
  for (int u = 1; u <= 200; ++u) {
    lines += std::to_string(u);
    for (int t = 0; t < 12; ++t) {
      x = (x * 1103515245 + 12345) % (uint64_t{1} << 31);
      lines += " " + std::to_string((x >> 16) % 40 + 1);
    }
    lines += "\n";
  }
  const std::string data = seqrec::testing::write_file(dir.file("ties.txt"), lines);
  std::map<std::string, int64_t> best;
  for (const std::string rule : {"same", "pessimistic"}) {
    CliRun run = seqrec_cli("train --model caser --caser.hidden-size 1 --max-len 8 --epochs 4 --patience 10 --data " +
                            data + " --cache-dir " + dir.file("cache") + " --valid-ties " + rule + " --output " +
                            dir.file(rule + ".json") + " --progress lines");
    ASSERT_EQ(run.code, 0) << run.out;
    // Each epoch's line: "valid ndcg@20 V best B @N (pessimistic ties P...)".
    const std::regex line(
        R"(valid ndcg@20 ([0-9.]+) best [0-9.]+ @\d+ \(pessimistic ties ([0-9.]+)(, which pick the best epoch)?\))");
    std::vector<double> optimistic, pessimistic;
    for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), line); it != std::sregex_iterator(); ++it) {
      optimistic.push_back(std::stod((*it)[1]));
      pessimistic.push_back(std::stod((*it)[2]));
      EXPECT_EQ((*it)[3].matched, rule == "pessimistic") << run.out;
    }
    ASSERT_EQ(optimistic.size(), 4u) << "every epoch has ties:\n" << run.out;
    const std::vector<double>& picked = rule == "pessimistic" ? pessimistic : optimistic;
    best[rule] = read_json(dir.file(rule + ".json"))["best_epoch"].get<int64_t>();
    EXPECT_EQ(best[rule], 1 + std::max_element(picked.begin(), picked.end()) - picked.begin()) << run.out;
    EXPECT_EQ(read_json(dir.file(rule + ".json"))["config"]["valid-ties"], rule);
  }
  EXPECT_NE(best["same"], best["pessimistic"]);  // on this data the two rules pick different epochs
}

TEST(Cli, InitStartsFromACheckpointsWeightsAndRefusesOtherShapes) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --epochs 2 --patience 2 --progress none --sasrec.hidden-size ";
  CliRun first = seqrec_cli("train " + common + "16 --output " + dir.file("a.json") + " --save " + dir.file("a.pt"));
  ASSERT_EQ(first.code, 0) << first.out;
  CliRun init = seqrec_cli("train " + common + "16 --seed 7 --lr 0 --init " + dir.file("a.pt") + " --output " + dir.file("b.json"));
  ASSERT_EQ(init.code, 0) << init.out;
  EXPECT_NE(init.out.find(" tensor(s) from " + dir.file("a.pt") + ": item_embeddings.weight position_embeddings.weight"),
            std::string::npos)
      << init.out;
  EXPECT_EQ(init.out.find("keep their initialisation"), std::string::npos) << init.out;
  EXPECT_EQ(read_json(dir.file("b.json"))["test"], read_json(dir.file("a.json"))["test"]);
  CliRun wider = seqrec_cli("train " + common + "8 --init " + dir.file("a.pt"));
  EXPECT_EQ(wider.code, 1);
  EXPECT_NE(wider.out.find("seqrec: error: checkpoint tensor 'item_embeddings.weight' has shape [62, 16], the "
                           "model's has [62, 8]\n"),
            std::string::npos)
      << wider.out;
}

// A reference implementation's file (FMLP-Rec's names, its item table without a mask row)
// evaluates through its importer like the seqrec checkpoint it came from, under the strict
// protocol (which excludes the mask row); --init reads it the same way and says how.
TEST(Cli, AReferenceImplementationsFileLoadsThroughItsImporter) {
  TempDir dir;
  write_lines(make_markov_dataset(200, 40, 5, 25, 4), dir.file("m.txt"));
  const std::string data = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") + " --progress none";
  const std::string model = " --model fmlprec --sasrec.hidden-size 8 --max-len 10";
  CliRun train = seqrec_cli("train " + data + model + " --epochs 1 --save " + dir.file("m.pt") + " --output " + dir.file("r.json"));
  ASSERT_EQ(train.code, 0) << train.out;
  StateDict theirs;
  for (const auto& [name, t] : read_state_dict(dir.file("m.pt")).tensors)
    theirs.tensors.emplace_back(name.compare(0, 6, "layer.") == 0 ? "item_encoder." + name : name,
                                name == "item_embeddings.weight" ? t.slice(0, 0, t.size(0) - 1) : t);
  write_state_dict(dir.file("theirs.pt"), theirs);

  CliRun ours = seqrec_cli("eval --checkpoint " + dir.file("m.pt") + " " + data + " --protocol strict --json " + dir.file("a.json"));
  CliRun foreign = seqrec_cli("eval --checkpoint " + dir.file("theirs.pt") + " " + data + " --protocol strict --json " + dir.file("b.json"));
  ASSERT_EQ(foreign.code, 0) << foreign.out;
  EXPECT_NE(foreign.out.find(dir.file("theirs.pt") + ": no seqrec metadata; read by the fmlprec-reference importer as fmlprec\n"),
            std::string::npos)
      << foreign.out;
  EXPECT_EQ(read_json(dir.file("b.json"))["metrics"], read_json(dir.file("a.json"))["metrics"]);

  CliRun init = seqrec_cli("train " + data + model + " --epochs 1 --init " + dir.file("theirs.pt"));
  ASSERT_EQ(init.code, 0) << init.out;
  EXPECT_NE(init.out.find("init: " + dir.file("theirs.pt") + " read by the fmlprec-reference importer as fmlprec\n"), std::string::npos)
      << init.out;
  EXPECT_EQ(init.out.find("keep their initialisation"), std::string::npos) << init.out;
  CliRun other = seqrec_cli("train " + data + " --sasrec.hidden-size 8 --max-len 10 --epochs 1 --init " + dir.file("theirs.pt"));
  ASSERT_EQ(other.code, 0) << other.out;
  EXPECT_NE(other.out.find("importer as fmlprec; this run's model is sasrec\n"), std::string::npos) << other.out;
}

// S3Rec: pre-training saves the authors' tensors; a SASRec run starts from its encoder's and
// names the heads it leaves out.
TEST(Cli, S3RecPretrainingStartsASASRecRun) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  seqrec::testing::write_file(dir.file("attr.json"), R"({"1": [1, 2], "2": [2], "3": [3, 1]})");
  const std::string common = "--data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --progress none --sasrec.hidden-size 16 --max-len 20";
  CliRun pre = seqrec_cli("train " + common + " --model s3rec --s3rec.attributes " + dir.file("attr.json") +
                          " --epochs 2 --eval-every 2 --batch-size 100 --save " + dir.file("pre.pt") + " --output " +
                          dir.file("pre.json"));
  ASSERT_EQ(pre.code, 0) << pre.out;
  EXPECT_NE(pre.out.find("training s3rec with its own objective (s3rec-pretrain trainer"), std::string::npos) << pre.out;
  const nlohmann::json curve = read_json(dir.file("pre.json"))["curve"];  // validated once, after the last epoch
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_FALSE(curve[0].contains("valid"));
  EXPECT_TRUE(curve[1].contains("valid"));
  CliRun fine = seqrec_cli("train " + common + " --epochs 1 --init " + dir.file("pre.pt"));
  ASSERT_EQ(fine.code, 0) << fine.out;
  EXPECT_NE(fine.out.find("init: 9 tensor(s) of the file not in the model: attribute_embeddings.weight aap_norm.weight"),
            std::string::npos) << fine.out;
}

// The released ICLRec Beauty weights (PyTorch's legacy format, saved from a GPU) evaluate to
// the six numbers of ICLRec's README, under the evaluation code they were published with.
TEST(Cli, ReleasedICLRecWeightsEvaluateToTheirPublishedNumbers) {
  const std::string shared = std::string(SEQREC_SOURCE_DIR) + "/../shared";
  if (!std::filesystem::exists(shared + "/checkpoints/ICLRec-Beauty-1.pt")) GTEST_SKIP() << "no ../shared checkpoints here";
  TempDir dir;
  CliRun eval = seqrec_cli("eval --checkpoint " + shared + "/checkpoints/ICLRec-Beauty-1.pt --data " + shared +
                           "/data/Beauty.txt --cache-dir " + dir.file("cache") + " --json " + dir.file("e.json"));
  ASSERT_EQ(eval.code, 0) << eval.out;
  const nlohmann::json m = read_json(dir.file("e.json"))["metrics"];
  const std::map<std::string, double> readme = {{"hit@5", 0.0500}, {"ndcg@5", 0.0326}, {"hit@10", 0.0744},
                                                {"ndcg@10", 0.0403}, {"hit@20", 0.1058}, {"ndcg@20", 0.0483}};
  for (const auto& [k, v] : readme) EXPECT_NEAR(m[k].get<double>(), v, 0.00005) << k;  // the README's 4 decimals
}

// Naming a model is enough: its trainer, and that trainer's batching, come with it (every
// model `seqrec list` shows, plugins' included, trains one epoch from --model and --data);
// an explicit contradiction of what a model needs is one line.
TEST(Cli, EveryModelTrainsFromItsNameAlone) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  CliRun list = seqrec_cli("list");
  ASSERT_EQ(list.code, 0) << list.out;
  const std::string models = list.out.substr(0, list.out.find("\nlosses:"));
  std::vector<std::string> names;
  const std::regex entry(R"(\n  (\S+)  \[)");
  for (auto it = std::sregex_iterator(models.begin(), models.end(), entry); it != std::sregex_iterator(); ++it)
    names.push_back((*it)[1]);
  for (const char* m : {"sasrec", "bert4rec", "gru4rec", "pop", "elecrec", "fmlprec", "bsarec", "caser", "s3rec"})
    EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << m << " is not listed:\n" << models;
  // S3Rec's model reads the items' attributes: a file is data, not a choice of training.
  const std::string attributes = seqrec::testing::write_file(dir.file("attr.json"), R"({"1": [1, 2], "2": [2], "30": [3]})");
  for (const std::string& m : names) {
    // max-len 20 (of the data's 25): Caser's filters of every height cost max-len^3.
    CliRun run = seqrec_cli("train --model " + m + " --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                            " --epochs 1 --max-len 20 --progress none --output " + dir.file(m + ".json") +
                            (m == "s3rec" ? " --s3rec.attributes " + attributes : ""));
    ASSERT_EQ(run.code, 0) << m << ":\n" << run.out;
    const nlohmann::json r = read_json(dir.file(m + ".json"));
    EXPECT_GT(r["test"]["hit@10"].get<double>(), 0) << m;
    if (m == "elecrec") {
      EXPECT_EQ(r["trainer"], "elecrec");
      EXPECT_EQ(r["config"]["batching"], "padded");
    }
    if (m == "bert4rec") EXPECT_EQ(r["trainer"], "cloze");
    if (m == "s3rec") EXPECT_EQ(r["trainer"], "s3rec-pretrain");
    if (m == "fmlprec" || m == "bsarec" || m == "caser") EXPECT_EQ(r["config"]["examples"], "window-prefixes") << m;
  }
  // A filter over the whole sequence sees every position's answer in one pass.
  for (const std::string m : {"bsarec", "fmlprec"}) {
    CliRun leak = seqrec_cli("train --model " + m + " --examples sequences --data " + dir.file("m.txt") +
                             " --cache-dir " + dir.file("cache"));
    EXPECT_EQ(leak.code, 1) << m;
    EXPECT_NE(leak.out.find("seqrec: error: --model " + m + " is not causal: trained at every position of one pass it "
                            "would see each answer; use --examples window-prefixes (its authors') or prefixes\n"),
              std::string::npos) << leak.out;
  }
  CliRun contradiction = seqrec_cli("train --model bert4rec --trainer plain --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache"));
  EXPECT_EQ(contradiction.code, 1);
  EXPECT_NE(contradiction.out.find("seqrec: error: --model bert4rec needs --trainer cloze (got plain)\n"), std::string::npos)
      << contradiction.out;
}
