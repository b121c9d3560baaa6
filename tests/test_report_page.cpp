// Runs that learned nothing: a trained run whose test ranking popularity's cannot be told
// from, or whose best validation came inside the first patience window, is flagged by
// `table` (a mark on its cells and a line naming why) against a popularity run of the same
// table, or against popularity recomputed from the run's own data. And `report`'s page: its
// table holds exactly `table`'s cells, with figures, curves and provenance and no outside
// reference.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "capture.h"
#include "report/run_checks.h"
#include "report/runs.h"
#include "seqrec/config.h"
#include "seqrec/experiment.h"
#include "seqrec/files.h"
#include "seqrec/run_result.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::count_of;
using seqrec::testing::TempDir;
using seqrec::testing::write_file;

namespace {

constexpr int kUsers = 40;

/// A result with per-user ranks; `epochs` 0 = nothing trained (popularity).
void result(const TempDir& dir, const std::string& name, const std::string& model, const std::vector<int64_t>& ranks,
            int64_t epochs, int64_t best, std::map<std::string, std::string> config = {}) {
  EvalResult e;
  for (size_t u = 0; u < ranks.size(); ++u) e.users.push_back(static_cast<int64_t>(u));
  e.ranks = ranks;
  e.label = "full/reference/optimistic";
  save_ranks(e, dir.file(name + ".h5"));
  RunResult r;
  r.model = model;
  r.trainer = "plain";
  r.seed = 1;
  r.config_hash = "h" + name;
  config["label"] = name;
  config["ranks"] = dir.file(name + ".h5");
  config["patience"] = "10";
  r.config = config;
  r.dataset.name = "Toy";
  r.dataset.source_hash = "abc";
  r.protocol.label = e.label;
  r.seqrec.commit = "c0ffee";
  r.epochs_run = epochs;
  r.best_epoch = best;
  const std::map<std::string, double> m = metrics_from_ranks(ranks, {5, 10});
  for (const char* k : {"hit@10", "ndcg@10"}) r.test.emplace_back(k, m.at(k));
  for (int64_t e = 1; e <= epochs; ++e)  // a validation curve peaking at the best epoch
    r.curve.push_back({e, 1.0 / e, 1.0, 0.5, {{"ndcg@20", 0.1 - 0.001 * std::abs(static_cast<double>(e - best))}}});
  write_run_result(dir.file(name + ".json"), r);
}

std::vector<int64_t> ranks_from(int64_t first) {
  std::vector<int64_t> r;
  for (int u = 0; u < kUsers; ++u) r.push_back(first + u % 15);
  return r;
}

std::string table(const std::vector<std::string>& args) { return seqrec::testing::command_output("table", args); }

}  // namespace

TEST(RunChecks, ARunRankingLikePopularityOrBestTooEarlyIsMarkedAndExplained) {
  TempDir dir;
  const std::vector<int64_t> pop = ranks_from(0);
  result(dir, "pop", "pop", pop, 0, 0);
  result(dir, "copycat", "sasrec", pop, 30, 5);      // popularity's ranks, best at epoch 5 of patience 10
  std::vector<int64_t> better = pop;
  for (int u = 0; u < kUsers; ++u) better[u] = u % 3;  // clearly ahead: every user at rank 0-2
  result(dir, "learner", "sasrec", better, 60, 40);
  result(dir, "quick", "sasrec", better, 30, 4);  // learned, and early: noted, not flagged
  std::vector<int64_t> worse = pop;
  for (int u = 0; u < kUsers; ++u) worse[u] = 100 + u;
  result(dir, "loser", "sasrec", worse, 60, 40);

  const std::string md = table({dir.path().string(), "--metrics", "ndcg@10"});
  auto row = [&](const std::string& name) {
    const size_t at = md.find("| " + name + " |");
    return at == std::string::npos ? std::string() : md.substr(at, md.find('\n', at) - at);
  };
  EXPECT_NE(row("copycat").find("‡"), std::string::npos) << md;
  EXPECT_NE(row("loser").find("‡"), std::string::npos) << md;
  EXPECT_EQ(row("learner").find("‡"), std::string::npos) << md;
  EXPECT_EQ(row("pop").find("‡"), std::string::npos) << md;
  EXPECT_EQ(row("quick").find("‡"), std::string::npos) << md;
  EXPECT_NE(md.find("- best validation inside the first patience window (patience x eval-every epochs; no later epoch "
                    "improved on it): Toy copycat seed 1; Toy quick seed 1\n"),
            std::string::npos)
      << md;
  // Identical rankings: no pair differs, neither test rejects.
  EXPECT_NE(md.find(dir.file("copycat.json") + ": learned nothing? test ranking indistinguishable from popularity (" +
                    dir.file("pop.json") + ") (ndcg@10 mean diff 0.00000 over 40 users, 0 differ; paired t p = 1.0000, "
                                           "Wilcoxon p = 1.0000); best validation at epoch 5, inside the first "
                                           "patience window (10 epochs)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find(dir.file("loser.json") + ": learned nothing? test ranking worse than popularity"), std::string::npos) << md;
  EXPECT_EQ(md.find(dir.file("learner.json") + ":"), std::string::npos) << md;

  // The CSV names the flagged seeds of each cell.
  const std::string csv = table({dir.path().string(), "--metrics", "ndcg@10", "--format", "csv"});
  EXPECT_NE(csv.find(",learned_nothing_seeds\n"), std::string::npos) << csv;
  auto line = [&](const std::string& name) {
    const size_t at = csv.find("\n" + name + ",Toy,ndcg@10,");
    return at == std::string::npos ? std::string() : csv.substr(at + 1, csv.find('\n', at + 1) - at - 1);
  };
  EXPECT_EQ(line("copycat").substr(line("copycat").size() - 2), ",1") << csv;
  EXPECT_EQ(line("learner").back(), ',') << csv;
}

// Without a popularity run, popularity is counted from the run's own data: the ranks equal
// what `train --model pop` gets on that config, and a run that ranks as it did is flagged.
TEST(RunChecks, PopularityIsRecomputedFromTheRunsDataWhenTheTableHasNone) {
  TempDir dir;
  const Dataset d = make_markov_dataset(120, 30, 5, 12, 3);
  write_lines(d, dir.file("toy.txt"));
  const Config c = seqrec::testing::default_config(
      {{"data", dir.file("toy.txt")}, {"cache-dir", dir.file("cache")}, {"model", "pop"}, {"progress", "none"}});
  std::ostringstream log;
  const Experiment pop = run_experiment(c, log);

  RunResult trained = pop.result;
  trained.model = "sasrec";
  trained.config["model"] = "sasrec";
  trained.config["hidden-size"] = "8";  // keys popularity does not use are left as they are
  const EvalResult again = popularity_test_ranks(trained);
  EXPECT_EQ(again.users, pop.test.users);
  EXPECT_EQ(again.ranks, pop.test.ranks);

  save_ranks(pop.test, dir.file("run.h5"));
  trained.epochs_run = 3;
  trained.best_epoch = 3;
  trained.config["ranks"] = dir.file("run.h5");
  write_run_result(dir.file("run.json"), trained);
  const std::vector<RunRecord> runs = read_runs({dir.file("run.json")});
  RankCache cache;
  const std::vector<RunCheck> flagged = flagged_runs(runs, cache);
  ASSERT_EQ(flagged.size(), 1u);
  EXPECT_TRUE(flagged[0].like_popularity);
  EXPECT_EQ(flagged[0].popularity, "");
  EXPECT_NE(flagged[0].text().find("indistinguishable from popularity counted from its training data"), std::string::npos)
      << flagged[0].text();

  // Its data gone, the check says why instead of failing the table; a cache that counted
  // popularity before (one table, one bench) does not count it again.
  std::filesystem::remove(dir.file("toy.txt"));
  std::filesystem::remove_all(dir.file("cache"));
  EXPECT_EQ(flagged_runs(runs, cache).at(0).text(), flagged[0].text());
  RankCache fresh;
  const std::vector<RunCheck> unchecked = flagged_runs(read_runs({dir.file("run.json")}), fresh);
  ASSERT_EQ(unchecked.size(), 1u);
  EXPECT_FALSE(unchecked[0].flagged());
  EXPECT_NE(unchecked[0].text().find("no popularity test: "), std::string::npos) << unchecked[0].text();
}

namespace {

/// The cells of a markdown table's rows (header first, the separator left out), bold unmarked.
std::vector<std::vector<std::string>> md_cells(const std::string& md) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> row;
    for (size_t a = 2, b; (b = line.find(" |", a)) != std::string::npos; a = b + 3) row.push_back(line.substr(a, b - a));
    for (std::string& c : row) c = std::regex_replace(c, std::regex(R"(\*\*)"), "");
    rows.push_back(row);
  }
  return rows;
}

/// The text of each cell of the HTML table `id`, tags dropped and entities read back.
std::vector<std::vector<std::string>> html_cells(const std::string& html, const std::string& id) {
  const size_t at = html.find("<table id=\"" + id + "\"");
  const std::string t = html.substr(at, html.find("</table>", at) - at);
  std::vector<std::vector<std::string>> rows;
  const std::regex tr("<tr[^>]*>(.*?)</tr>"), cell("<t[hd][^>]*>(.*?)</t[hd]>");
  for (std::sregex_iterator r(t.begin(), t.end(), tr), end; r != end; ++r) {
    const std::string body = (*r)[1];
    std::vector<std::string> row;
    for (std::sregex_iterator c(body.begin(), body.end(), cell); c != end; ++c) {
      std::string text = std::regex_replace((*c)[1].str(), std::regex("<[^>]*>"), "");
      for (const auto& [entity, ch] : std::vector<std::pair<std::string, std::string>>{
               {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}})
        text = std::regex_replace(text, std::regex(entity), ch);
      row.push_back(text);
    }
    rows.push_back(row);
  }
  return rows;
}

std::string report(const std::vector<std::string>& args) { return seqrec::testing::command_output("report", args); }

}  // namespace

TEST(Report, ThePagesTableIsTablesCellForCellWithFiguresCurvesAndProvenance) {
  TempDir dir;
  const std::vector<int64_t> pop = ranks_from(0);
  result(dir, "pop", "pop", pop, 0, 0);
  result(dir, "copycat", "sasrec", pop, 30, 5);
  std::vector<int64_t> better = pop;
  for (int u = 0; u < kUsers; ++u) better[u] = u % 3;
  result(dir, "learner", "sasrec", better, 60, 40);
  write_file(dir.file("published.csv"), "method,dataset,metric,value,source,seqrec_method\nLearner,Toy,ndcg@10,0.9,paper,learner\n");
  const std::vector<std::string> args = {dir.path().string(), "--metrics", "hit@10,ndcg@10", "--baseline", "pop",
                                         "--reference", dir.file("published.csv")};
  std::vector<std::string> with_out = args;
  with_out.insert(with_out.end(), {"--out", dir.file("page/report.html"), "--title", "Toy <grid>"});
  EXPECT_NE(report(with_out).find("report written to " + dir.file("page/report.html") + " (3 runs)"), std::string::npos);
  const std::string html = seqrec::read_file(dir.file("page/report.html"));

  // Every cell, numbers and marks, as `table` prints it.
  const auto expected = md_cells(table(args));
  ASSERT_EQ(expected.size(), 5u);  // header, three methods, the published row
  EXPECT_EQ(html_cells(html, "comparison"), expected) << html;
  // The footer's lines, the flagged run and its reason, the runs with their curves.
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>Toy &lt;grid&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<li>seqrec commits: c0ffee</li>"), std::string::npos) << html;
  EXPECT_NE(html.find("<h2 id=\"learned-nothing\">"), std::string::npos);
  EXPECT_NE(html.find(dir.file("copycat.json") + "</code>: learned nothing? test ranking indistinguishable"), std::string::npos);
  const auto runs = html_cells(html, "runs");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0][0], "dataset");
  EXPECT_EQ(count_of(html, "<svg class=\"spark\""), 2u);  // the two trained runs; popularity has no curve
  EXPECT_GE(count_of(html, "<figure><svg"), 2u);          // plot's curves and bars, inline
  // The figures name their data files without the scratch folder: the page regenerates byte for byte.
  EXPECT_NE(html.find("\"fig-bars.dat\""), std::string::npos);
  EXPECT_EQ(html.find("seqrec-report-"), std::string::npos);
  // Nothing outside the page: no src or href attribute, no stylesheet or script file.
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(std::regex_search(html, std::regex(R"(href=["']http)")), false);
  EXPECT_EQ(std::regex_search(html, std::regex("<link")), false);

  // One line for what it cannot do.
  EXPECT_THROW(
      {
        try {
          report(args);
        } catch (const Error& e) {
          EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
          EXPECT_NE(std::string(e.what()).find("report: --output is required; usage: seqrec report RESULTS... --output FILE.html"), std::string::npos);
          throw;
        }
      },
      Error);
  std::vector<std::string> csv = with_out;
  csv.insert(csv.end(), {"--format", "csv"});
  EXPECT_THROW(report(csv), Error);
}
