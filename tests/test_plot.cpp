// seqrec plot: every line is titled by the method whose data it draws, a method without a
// curve (popularity) is left out and named, and captions name only what is drawn. The
// checks read the generated gnuplot script and data back, as gnuplot does.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "capture.h"
#include "seqrec/files.h"
#include "seqrec/run_result.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

namespace {

/// A result of `method` on `dataset` with the given (loss, validation ndcg@20) per epoch.
void write_run(const TempDir& dir, const std::string& dataset, const std::string& method, const std::string& model,
               const std::vector<std::pair<double, double>>& curve, double test_ndcg) {
  RunResult r;
  r.model = model;
  r.trainer = "plain";
  r.seed = 1;
  r.config_hash = "h" + dataset + method;
  r.config = {{"label", method}, {"loss", "cce"}};
  r.dataset.name = dataset;
  r.dataset.source_hash = "abc" + dataset;
  r.protocol.label = "full/reference/optimistic";
  r.seqrec.commit = "c0ffee";
  r.test = {{"ndcg@10", test_ndcg}};
  for (size_t e = 0; e < curve.size(); ++e) {
    EpochRecord x;
    x.epoch = static_cast<int64_t>(e + 1);
    x.loss = curve[e].first;
    x.eval_seconds = 1.0;
    x.valid = {{"ndcg@20", curve[e].second}};
    r.curve.push_back(x);
  }
  write_run_result(dir.file(dataset + "-" + method + ".json"), r);
}

/// The rows of each block of a gnuplot data file, by the name in its header comment.
std::map<std::string, std::vector<std::vector<double>>> blocks_of(const std::string& text) {
  std::map<std::string, std::vector<std::vector<double>>> out;
  std::istringstream in(text);
  std::string line, name;
  while (std::getline(in, line)) {
    if (line.rfind("# [", 0) == 0) {
      name = line.substr(2, line.find(']') - 1);
      EXPECT_EQ(out.count(name), 0u) << "two blocks named " << name;
      out[name];
    } else if (!line.empty()) {
      std::istringstream row(line);
      std::vector<double> v;
      for (double x; row >> x;) v.push_back(x);
      out[name].push_back(v);
    }
  }
  return out;
}

}  // namespace

TEST(Plot, EveryLineIsTitledByTheMethodWhoseDataItDrawsAndAMethodWithoutACurveIsNamed) {
  TempDir dir;
  // Sorted by name, pop comes between the two trained methods: a numbered data block would
  // shift every later title by one.
  const std::map<std::string, std::vector<std::pair<double, double>>> curves = {
      {"a-sasrec", {{3, 0.1}, {2, 0.2}, {1.5, 0.3}}}, {"z-bert", {{6, 0.5}, {5, 0.6}}}};
  for (const std::string d : {"Beauty", "Toys"}) {
    write_run(dir, d, "pop", "pop", {}, 0.01);
    for (const auto& [m, c] : curves) write_run(dir, d, m, "sasrec", c, 0.05);
  }
  std::vector<std::string> args = {"--out", dir.file("fig"), "--baseline", "a-sasrec"};
  for (const std::string d : {"Beauty", "Toys"})
    for (const std::string m : {"pop", "a-sasrec", "z-bert"}) args.push_back(dir.file(d + "-" + m + ".json"));
  seqrec::testing::command_output("plot", args);

  const auto data = blocks_of(read_file(dir.file("fig-curves.dat")));
  const std::string script = read_file(dir.file("fig-curves.gp"));
  const std::regex series(R"re(index "\[([^|\]]+)\|([^\]]+)\]" using 1:(\d) with lines [^,\n]*?(?:title "([^"]*)"|notitle))re");
  int titled = 0, drawn = 0;
  for (auto it = std::sregex_iterator(script.begin(), script.end(), series); it != std::sregex_iterator(); ++it) {
    const std::string dataset = (*it)[1], method = (*it)[2], column = (*it)[3], title = (*it)[4];
    ++drawn;
    ASSERT_TRUE(curves.count(method)) << method << " is drawn but has no curve";
    const auto& rows = data.at("[" + dataset + "|" + method + "]");
    const auto& want = curves.at(method);
    ASSERT_EQ(rows.size(), want.size()) << dataset << " " << method;
    for (size_t e = 0; e < rows.size(); ++e) {
      EXPECT_DOUBLE_EQ(rows[e][1], want[e].first);
      EXPECT_DOUBLE_EQ(rows[e][2], want[e].second);
    }
    if (!title.empty()) {
      EXPECT_EQ(title, method);
      ++titled;
    }
    EXPECT_TRUE(column == "2" || column == "3");
  }
  EXPECT_EQ(drawn, 8);   // 2 datasets x 2 trained methods x (validation, loss)
  EXPECT_EQ(titled, 4);  // the loss panels carry the legend
  EXPECT_EQ(data.size(), 4u);
  EXPECT_NE(script.find("set multiplot layout 2,2"), std::string::npos);
  EXPECT_NE(script.find("Beauty: validation ndcg@20 (no curve: pop)"), std::string::npos);
  EXPECT_EQ(script.find("|pop]"), std::string::npos);

  // Bars: labels come from the data rows themselves; the caption names the baseline drawn,
  // and no published diamonds, since none were given.
  const std::string bars = read_file(dir.file("fig-bars.gp"));
  EXPECT_NE(bars.find("mean ± std over seeds; dashed: a-sasrec\""), std::string::npos) << bars.substr(0, 300);
  EXPECT_EQ(bars.find("diamonds"), std::string::npos);
  const auto bar_rows = blocks_of(read_file(dir.file("fig-bars.dat")));
  EXPECT_EQ(bar_rows.at("[Toys|bars]").size(), 3u);
}

TEST(Plot, NoBaselineNoDashedLineInTheCaptionAndNoCurveFigureWhenNothingTrained) {
  TempDir dir;
  write_run(dir, "Beauty", "pop", "pop", {}, 0.01);
  const std::string out = seqrec::testing::command_output("plot", {"--output", dir.file("fig"), dir.file("Beauty-pop.json")});
  EXPECT_FALSE(std::filesystem::exists(dir.file("fig-curves.gp")));
  EXPECT_NE(out.find("fig-bars.png"), std::string::npos);
  const std::string bars = read_file(dir.file("fig-bars.gp"));
  EXPECT_EQ(bars.find("dashed"), std::string::npos);
  EXPECT_EQ(bars.find("diamonds"), std::string::npos);
}
