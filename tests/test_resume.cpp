// Interrupted runs: a stop signal mid-epoch or a SIGKILL, then --resume, must give the
// uninterrupted run's curve, best epoch and test metrics bit for bit (CPU, one thread). The
// faults are injected at a chosen step (SEQREC_FAULT_*_AT_STEP), so the tests are exact.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "seqrec/build_info.h"
#include "seqrec/dataset.h"
#include "seqrec/progress.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

namespace {
struct Proc {
  int code;
  std::string out;
};

Proc run(const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + std::string(SEQREC_BINARY_DIR) + "/seqrec " + args + " --threads 1 2>&1";
  Proc r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  const int status = pclose(p);
  r.code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return r;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(std::ifstream(path)); }

/// The parts of a result that must not depend on interruptions (timings do).
nlohmann::json outcome(const nlohmann::json& r) {
  nlohmann::json curve = nlohmann::json::array();
  for (auto e : r["curve"]) {
    e.erase("train_seconds");
    e.erase("eval_seconds");
    curve.push_back(e);
  }
  return {{"curve", curve}, {"best_epoch", r["best_epoch"]}, {"test", r["test"]}, {"valid_best", r["valid_best"]}};
}

/// What a strategy adds to epoch `e`'s log line (after "; "), or "" when it adds nothing.
std::string epoch_note(const std::string& log, int e) {
  const size_t line = log.find("\nepoch " + std::to_string(e) + " loss");
  if (line == std::string::npos) return "";
  const std::string text = log.substr(line + 1, log.find('\n', line + 1) - line - 1);
  const size_t note = text.find("; ");
  return note == std::string::npos ? "" : text.substr(note + 2);
}

class Resume : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir_.file("m.txt"));
    std::string method = GetParam();
    if (const size_t at = method.find("{attributes}"); at != std::string::npos)
      method.replace(at, 12, seqrec::testing::write_file(dir_.file("attr.json"), R"({"1": [1, 2], "2": [2], "7": [3]})"));
    const bool sized = method.find("--batch-size") != std::string::npos;
    common_ = "train --data " + dir_.file("m.txt") + " --cache-dir " + dir_.file("cache") +
              " --sasrec.hidden-size 16 --epochs 3 --patience 5 --progress lines " + (sized ? "" : "--batch-size 32 ") +
              method;
    Proc full = run("", common_ + " --output " + dir_.file("full.json"));
    ASSERT_EQ(full.code, 0) << full.out;
    want_ = outcome(read_json(dir_.file("full.json")));
    full_log_ = full.out;
  }
  /// SIGKILL after step 25 (the fifth of epoch 3), `options` added, then --resume: the run
  /// goes on at epoch 3, step `resumes_at`, to the uninterrupted run's result and epoch 3's account.
  void kill_then_resume(const std::string& options, int resumes_at) {
    const std::string out = dir_.file("cut.json");
    Proc cut = run("SEQREC_FAULT_KILL_AT_STEP=25", common_ + options + " --output " + out);
    EXPECT_EQ(cut.code, 128 + 9) << cut.out;
    ASSERT_TRUE(std::filesystem::exists(out + ".state"));
    Proc resumed = run("", common_ + " --output " + out + " --resume");
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_NE(resumed.out.find("at epoch 3, step " + std::to_string(resumes_at)), std::string::npos) << resumed.out;
    EXPECT_EQ(outcome(read_json(out)), want_);
    EXPECT_EQ(epoch_note(resumed.out, 3), epoch_note(full_log_, 3)) << resumed.out;
  }
  TempDir dir_;
  std::string common_, full_log_;
  nlohmann::json want_;
};

}  // namespace

// 300 users in batches of 32 (BSARec's prefixes in batches of 388): 10 steps an epoch. Step 13
// is the third of epoch 2.
TEST_P(Resume, StopSignalMidEpochThenResumeIsBitIdentical) {
  const std::string out = dir_.file("cut.json");
  Proc cut = run("SEQREC_FAULT_SIGNAL_AT_STEP=13", common_ + " --output " + out);
  EXPECT_EQ(cut.code, 128 + 15) << cut.out;
  EXPECT_NE(cut.out.find("seqrec: stopped by SIGTERM at epoch 2, step 3 of 10; training state written to " + out +
                         ".state; run the same command with --resume to continue\n"),
            std::string::npos)
      << cut.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  Proc resumed = run("", common_ + " --output " + out + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("at epoch 2, step 4"), std::string::npos) << resumed.out;
  nlohmann::json r = read_json(out);
  EXPECT_EQ(outcome(r), want_);
  // A strategy's account of the epoch (S3Rec's losses) covers the steps before the stop too.
  EXPECT_EQ(epoch_note(resumed.out, 2), epoch_note(full_log_, 2)) << resumed.out;
  if (GetParam().find("s3rec") != std::string::npos) EXPECT_EQ(epoch_note(full_log_, 2).rfind("per sample: aap ", 0), 0u) << full_log_;
  EXPECT_EQ(r["resumes"], 1);
  EXPECT_FALSE(std::filesystem::exists(out + ".state")) << "the state goes once the result is written";
}

// SIGKILL in epoch 3: the state of the end of epoch 2 is what is left; resuming redoes epoch 3.
TEST_P(Resume, KilledRunResumesFromItsLastStateBitIdentical) { kill_then_resume("", 1); }

// A state written within epoch 3 (--state-minutes so small that every step writes one), then
// SIGKILL after its fifth step: resuming redoes that step only, and the states written along
// the way leave the run as it was.
TEST_P(Resume, KilledAfterAStateWithinTheEpochResumesFromThatStepBitIdentical) {
  kill_then_resume(" --state-minutes 1e-9", 5);
}

const std::string kMethods[] = {"--loss cce", "--loss bce", "--model bert4rec --trainer cloze",
                                "--loss bce --sampler genni", "--loss bce --trainer atsrec --atsrec.steps 2",
                                "--model elecrec --trainer elecrec --batching padded --elecrec.gen-hidden-size 16 "
                                "--elecrec.dis-hidden-size 16",
                                "--model elecrec --trainer elecrec --batching padded --elecrec.gen-hidden-size 16 "
                                "--elecrec.dis-hidden-size 16 --elecrec.dis-encoder fmlprec",
                                "--loss bce --trainer cl4srec", "--loss bce --trainer iclrec --cl.clusters 8",
                                // CoSeRec's online similarity from epoch 2, where the runs stop
                                "--loss bce --trainer cl4srec --cl.augment insert,substitute "
                                "--cl.similarity-warm-up 0",
                                // prefix examples: 3,878 an epoch (max-len 25 holds every sequence), 10 batches of 388
                                "--model bsarec --batch-size 388", "--trainer duorec --batch-size 388",
                                "--model caser --batch-size 388 --max-len 25 --caser.hidden-size 16",
                                "--model s3rec --batch-size 388 --max-len 25 --s3rec.attributes {attributes}"};
const char* const kMethodNames[] = {"SASRecCCE", "SASRecBCE",       "BERT4Rec", "GenNi",  "ATSRec",
                                    "ElecRec",   "ElecRecFMLPRecD", "CL4SRec",  "ICLRec", "CoSeRec",
                                    "BSARec",    "DuoRec",          "Caser",    "S3Rec"};
std::string method_name(const ::testing::TestParamInfo<std::string>& info) { return kMethodNames[info.index]; }
INSTANTIATE_TEST_SUITE_P(Methods, Resume, ::testing::ValuesIn(kMethods), method_name);

TEST(ResumeProgress, AResumedEpochsTimeToGoCountsOnlyTheStepsItRan) {
  // 16 of 20 steps were done before the resume; this process ran one in about 1.1 s, so the
  // three left take about 3.3 s (counting the 16 as its own would say 0 s).
  set_progress(ProgressSetting::kLines, 0);
  ::testing::internal::CaptureStderr();
  {
    Progress p("epoch 2", 20, "seq", /*done_before=*/16);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    p.update(17, 256);
  }
  const std::string line = ::testing::internal::GetCapturedStderr();
  set_progress(ProgressSetting::kNone, 30);
  ASSERT_NE(line.find("epoch 2 17/20 (85%)"), std::string::npos) << line;
  const size_t at = line.find("ETA ");
  ASSERT_NE(at, std::string::npos) << line;
  const double eta = std::stod(line.substr(at + 4));
  EXPECT_GE(eta, 3) << line;
  EXPECT_LE(eta, 9) << line;
}

namespace {
/// A small run's command on Markov data in `dir`, stopped by a signal at step 5 (its state left at r.json.state).
std::string stopped_run(const TempDir& dir) {
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --sasrec.hidden-size 16 --batch-size 32 --epochs 3 --progress none --output " + dir.file("r.json");
  EXPECT_EQ(run("SEQREC_FAULT_SIGNAL_AT_STEP=5", common).code, 143);
  return common;
}
}  // namespace

TEST(ResumeErrors, AStateOfAnotherConfigOrAFlippedByteIsOneLine) {
  TempDir dir;
  const std::string common = stopped_run(dir);
  ASSERT_TRUE(std::filesystem::exists(dir.file("r.json.state")));
  Proc other = run("", common + " --lr 0.01 --resume");
  EXPECT_EQ(other.code, 1) << other.out;
  EXPECT_NE(other.out.find("seqrec: error: " + dir.file("r.json.state") + ": written by another config (differs in: lr)"),
            std::string::npos)
      << other.out;
  // A flipped byte in the middle of the state.
  const std::string state = dir.file("r.json.state");
  std::fstream f(state, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = f.tellg();
  for (std::streamoff at : {std::streamoff(size / 2), std::streamoff(size / 3)}) {
    f.seekp(at);
    f.put('\x5a');
  }
  f.close();
  Proc broken = run("", common + " --resume");
  EXPECT_EQ(broken.code, 1) << broken.out;
  const std::string last = broken.out.substr(broken.out.rfind('\n', broken.out.size() - 2) + 1);
  EXPECT_EQ(last.rfind("seqrec: error: " + state + ": ", 0), 0u) << broken.out;
  EXPECT_EQ(std::count(last.begin(), last.end(), '\n'), 1) << broken.out;
}

TEST(ResumeErrors, AStateLeftBesideTheOutputIsRefusedWithoutResumeAndKept) {
  TempDir dir;
  const std::string common = stopped_run(dir);
  const std::string state = dir.file("r.json.state");
  ASSERT_TRUE(std::filesystem::exists(state));
  const auto before = std::filesystem::last_write_time(state);
  const auto bytes = std::filesystem::file_size(state);
  Proc again = run("", common);
  EXPECT_EQ(again.code, 1) << again.out;
  EXPECT_EQ(again.out.substr(again.out.rfind("seqrec: error: ")),
            "seqrec: error: " + state + ": an earlier run's training state; add --resume to continue it, or remove the file to start again\n");
  EXPECT_EQ(std::filesystem::last_write_time(state), before);
  EXPECT_EQ(std::filesystem::file_size(state), bytes);
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.json")));
  // The refused state still resumes.
  Proc resumed = run("", common + " --resume");
  EXPECT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_TRUE(std::filesystem::exists(dir.file("r.json")));
}

TEST(ResumeProvenance, AResumeByAnotherBuildIsRecorded) {
  // A run resumed by the same build records one commit; one resumed by another build says so
  // in its log, lists both builds in order (seqrec.trained_by), and the table names both.
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --sasrec.hidden-size 16 --batch-size 32 --epochs 2 --progress none --output ";
  ASSERT_EQ(run("SEQREC_FAULT_SIGNAL_AT_STEP=5", common + dir.file("same.json")).code, 143);
  Proc same = run("", common + dir.file("same.json") + " --resume");
  ASSERT_EQ(same.code, 0) << same.out;
  EXPECT_EQ(same.out.find("written by build"), std::string::npos) << same.out;
  const nlohmann::json s = read_json(dir.file("same.json"));
  EXPECT_EQ(s["resumes"], 1);
  EXPECT_FALSE(s["seqrec"].contains("trained_by")) << s["seqrec"].dump();

  ASSERT_EQ(run("SEQREC_FAULT_SIGNAL_AT_STEP=5 SEQREC_FAULT_BUILD=0123abc", common + dir.file("other.json")).code, 143);
  Proc other = run("", common + dir.file("other.json") + " --resume");
  ASSERT_EQ(other.code, 0) << other.out;
  const nlohmann::json o = read_json(dir.file("other.json"));
  const std::string build =
      o["seqrec"]["commit"].get<std::string>() + (o["seqrec"]["dirty"].get<bool>() ? "+dirty" : "");
  EXPECT_NE(other.out.find("the state was written by build 0123abc, this is " + build +
                           ": the result records every build that trained the run"),
            std::string::npos)
      << other.out;
  EXPECT_EQ(o["seqrec"]["trained_by"], nlohmann::json::array({"0123abc", build}));
  std::string table;
  FILE* p = popen(
      (std::string(SEQREC_BINARY_DIR) + "/seqrec table " + dir.file("other.json") + " --metrics hit@10 2>&1").c_str(),
      "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) table += buf.data();
  ASSERT_EQ(pclose(p), 0) << table;
  // The footer lists the commits in sorted order, whichever hash this build has.
  const std::string commits = build < "0123abc" ? build + ", 0123abc" : "0123abc, " + build;
  EXPECT_NE(table.find("- seqrec commits: " + commits + "\n"), std::string::npos) << table;
}

// Data parallel (seqrec launch -n 2): a stop signal to one rank stops both at the same step
// with one state, written by rank 0; one process may not resume it; the resumed 2-rank job
// ends bit for bit as the uninterrupted one.
class ResumeDataParallel : public ::testing::TestWithParam<std::string> {};

TEST_P(ResumeDataParallel, StopSignalToOneRankThenResumeIsBitIdentical) {
  TempDir dir;
  write_lines(make_markov_dataset(300, 60, 5, 25, 4), dir.file("m.txt"));
  const std::string common = "launch -n 2 -- train --data " + dir.file("m.txt") + " --cache-dir " + dir.file("cache") +
                             " --sasrec.hidden-size 16 --batch-size 32 --epochs 3 --patience 5 --progress lines " + GetParam();
  Proc full = run("", common + " --output " + dir.file("full.json"));
  ASSERT_EQ(full.code, 0) << full.out;
  const std::string out = dir.file("cut.json");
  Proc cut = run("SEQREC_FAULT_RANK=1 SEQREC_FAULT_SIGNAL_AT_STEP=13", common + " --output " + out);
  EXPECT_EQ(cut.code, 128 + 15) << cut.out;
  EXPECT_NE(cut.out.find("stopped by SIGTERM at epoch 2, step 3 of 10"), std::string::npos) << cut.out;
  ASSERT_TRUE(std::filesystem::exists(out + ".state"));
  EXPECT_FALSE(std::filesystem::exists(out));
  // One process may not take over a 2-rank job's state: one line, the state kept.
  Proc alone = run("", common.substr(common.find("train ")) + " --output " + out + " --resume");
  EXPECT_EQ(alone.code, 1) << alone.out;
  EXPECT_NE(alone.out.find("seqrec: error: " + out + ".state: written by a job of 2 process(es), this one has 1; "
                           "resume with seqrec launch -n 2"),
            std::string::npos)
      << alone.out;
  ASSERT_TRUE(std::filesystem::exists(out + ".state"));
  Proc resumed = run("", common + " --output " + out + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  nlohmann::json r = read_json(out);
  EXPECT_EQ(outcome(r), outcome(read_json(dir.file("full.json"))));
  EXPECT_EQ(r["resumes"], 1);
  EXPECT_EQ(r["data_parallel"]["world_size"], 2);
}

INSTANTIATE_TEST_SUITE_P(Methods, ResumeDataParallel,
                         ::testing::Values("--loss bce", "--model elecrec --trainer elecrec --batching padded "
                                                         "--elecrec.gen-hidden-size 16 --elecrec.dis-hidden-size 16"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return std::string(info.index == 0 ? "SASRecBCE" : "ElecRec");
                         });
