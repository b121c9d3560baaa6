// CONTRIBUTING.md's examples (a loss, a source format, a metric, a command: tests/examples/, one file
// each) are the files this test builds into a plugin and trains with through the CLI.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "seqrec/build_info.h"
#include "seqrec/dataset.h"
#include "seqrec/evaluator.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// `text` with every non-empty line indented by four spaces: a Markdown code block.
std::string indented(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) out += (line.empty() ? "" : "    " + line) + "\n";
  return out;
}
}  // namespace

TEST(Examples, ContributingShowsTheFilesTheTestsBuild) {
  const std::string guide = slurp(std::string(SEQREC_SOURCE_DIR) + "/CONTRIBUTING.md");
  for (const char* name : {"hinge_loss.cpp", "jsonl_format.cpp", "rr_metric.cpp", "summary_command.cpp"}) {
    const std::string file = slurp(std::string(SEQREC_SOURCE_DIR) + "/tests/examples/" + name);
    ASSERT_FALSE(file.empty()) << name;
    EXPECT_NE(guide.find(indented(file)), std::string::npos) << "CONTRIBUTING.md does not show tests/examples/" << name;
  }
}

TEST(Examples, LossFormatAndMetricTrainThroughThePlugin) {
  TempDir dir;
  // The generated Markov data as JSON lines, one object per interaction, times in order.
  const Dataset d = make_markov_dataset(200, 50, 5, 20, 3);
  {
    std::ofstream out(dir.file("m.jsonl"));
    for (int64_t u = 0; u < d.num_users(); ++u)
      for (int64_t i = 0; i < d.length(u); ++i)
        out << nlohmann::json{{"user", "u" + std::to_string(u)}, {"item", "i" + std::to_string(d.begin(u)[i])}, {"time", i}}.dump()
            << "\n";
  }
  const std::string cmd = std::string(SEQREC_BINARY_DIR) + "/seqrec train --plugin " + SEQREC_BINARY_DIR +
                          "/test_plugins/seqrec_examples.so --data " + dir.file("m.jsonl") + " --cache-dir " +
                          dir.file("cache") + " --loss hinge --hinge.margin 0.5 --epochs 2 --max-len 20 --sasrec.hidden-size 8" +
                          " --threads 1 --progress none --ks 10,20 --output " + dir.file("r.json") + " --ranks " +
                          dir.file("r.h5") + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  ASSERT_EQ(WEXITSTATUS(pclose(p)), 0) << out;
  const nlohmann::json r = nlohmann::json::parse(slurp(dir.file("r.json")));
  EXPECT_EQ(r["loss"], "hinge");
  EXPECT_EQ(r["dataset"]["users"], d.num_users());  // read by the jsonl format, picked by the file's ending
  EXPECT_EQ(r["dataset"]["interactions"], d.num_interactions());
  EXPECT_NE(out.find("RR@10"), std::string::npos) << out;
  // rr@10 in the result equals the mean over the rank file, computed here independently.
  const EvalResult ranks = load_ranks(dir.file("r.h5"));
  double sum = 0;
  for (int64_t rank : ranks.ranks) sum += rank < 10 ? 1.0 / (rank + 1) : 0.0;
  EXPECT_NEAR(r["test"]["rr@10"].get<double>(), sum / ranks.ranks.size(), 1e-6);
  EXPECT_LE(r["test"]["rr@10"].get<double>(), r["test"]["mrr"].get<double>());
  // The example command reads the result back through the same plugin.
  const std::string summary = std::string(SEQREC_BINARY_DIR) + "/seqrec summary --plugin " + SEQREC_BINARY_DIR +
                              "/test_plugins/seqrec_examples.so " + dir.file("r.json") + " --metric rr@10 2>&1";
  std::string line;
  FILE* q = popen(summary.c_str(), "r");
  while (fgets(buf.data(), buf.size(), q)) line += buf.data();
  ASSERT_EQ(WEXITSTATUS(pclose(q)), 0) << line;
  std::ostringstream want;
  want << dir.file("r.json") << ": sasrec on m, best epoch " << r["best_epoch"].get<int64_t>() << ", test rr@10 "
       << r["test"]["rr@10"].get<double>() << "\n";
  EXPECT_EQ(line, want.str());
}
