// seqrec table RESULTS... : a comparison table from result JSONs (files or directories).
// Rows are methods, columns dataset x metric, cells mean +- std over seeds; the best mean of
// a column in bold; relative improvement over --baseline (or a row's own --pairs partner) with
// a paired significance test over per-user metrics (t-test and Wilcoxon signed-rank, from the
// runs' rank files).
// Results with different protocols or dataset hashes are never put in one column.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "experiments/plan_text.h"
#include "report/comparison.h"
#include "report/run_checks.h"
#include "report/runs.h"
#include "report/text.h"
#include "seqrec/command.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/exposure.h"
#include "seqrec/files.h"
#include "seqrec/metric.h"
#include "seqrec/stats.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace seqrec {
namespace {

/// " path" for each run whose per-user rank file is not there.
std::string missing_ranks(const std::vector<const RunRecord*>& runs) {
  std::string out;
  for (const RunRecord* r : runs)
    if (r->ranks.empty() || !fs::exists(r->ranks)) out += " " + (r->ranks.empty() ? r->path + " (trained without --ranks)" : r->ranks);
  return out;
}

/// Per-user metric averaged over a method's seeds, keyed by user row. Rank files (checked
/// present by missing_ranks) are read once into `ranks`, whatever the metrics and pairs.
std::map<int64_t, double> per_user(const std::vector<const RunRecord*>& runs, const std::string& metric, RankCache& ranks) {
  std::map<int64_t, double> sum;
  const UserMetric value = user_metric(metric);
  for (const RunRecord* r : runs) {
    const EvalResult& e = ranks.file(r->ranks);
    for (size_t i = 0; i < e.users.size(); ++i) sum[e.users[i]] += value(e.ranks[i]) / runs.size();
  }
  return sum;
}

/// What `seqrec table` was asked for.
}  // namespace

std::vector<KeySpec> table_options() {
  return {
      {"metrics", KeyType::kString, "hit@10,ndcg@10",
       "the table's metrics, comma-separated (exposure metrics such as gini@10 are shown, not tested)", "table"},
      {"baseline", KeyType::kString, "", "the method the others are compared with", "table"},
      {"pairs", KeyType::kString, "", "A=B,C=D: row A compared with row B instead (e.g. a tuned row with its default)",
       "table"},
      {"correction", KeyType::kString, "holm", "multiple-comparison correction over the table's comparisons", "table",
       {"holm", "bonferroni", "none"}},
      {"alpha", KeyType::kFloat, "0.05", "significance level", "table", {}, {0, 1, true, true}},
      {"bootstrap", KeyType::kInt, "1000", "paired bootstrap resamples of the users", "table", {}, {1}},
      {"bootstrap-seed", KeyType::kInt, "1", "the bootstrap's seed", "table"},
      {"other-protocol", KeyType::kBool, "false", "the test under the other history protocol", "table"},
      {"other-ties", KeyType::kBool, "false", "the test under the other tie rule (optimistic <-> pessimistic)", "table"},
      {"history", KeyType::kString, "original", "shuffled: the test with shuffled histories, and its change", "table",
       {"original", "shuffled"}},
      {"reference", KeyType::kString, "",
       "FILE.csv of published numbers as labelled rows (method,dataset,metric,value,source[,seqrec_method]: the row "
       "whose seeds each is tested against)", "table"},
      {"wall", KeyType::kBool, "false", "a column of wall-clock minutes", "table"},
      {"format", KeyType::kString, "md", "the table's format", "table", {"md", "csv", "latex"}},
      {"output", KeyType::kString, "", "written atomically (default: the command's output)", "table"},
  };
}

TableSpec table_spec(const CommandArgs& a) {
  const Config& c = a.options;
  TableSpec t;
  t.inputs = a.operands;
  t.metrics = plan::split(c.str("metrics"), ',');
  t.baseline = c.str("baseline");
  for (const std::string& pair : plan::split(c.str("pairs"), ',')) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size() || pair.substr(0, eq) == pair.substr(eq + 1))
      throw Error("table: --pairs takes ROW=REFERENCE,... with two different methods; got '" + pair + "'");
    if (!t.pairs.emplace(pair.substr(0, eq), pair.substr(eq + 1)).second)
      throw Error("table: --pairs names " + pair.substr(0, eq) + " twice");
  }
  if (a.schema->find("format")) t.format = c.str("format");
  t.reference = c.str("reference");
  if (a.schema->find("output")) t.output = c.str("output");
  t.alpha = c.real("alpha");
  t.correction = correction_from_string(c.str("correction"));
  t.resamples = c.integer("bootstrap");
  t.bootstrap_seed = static_cast<uint64_t>(c.integer("bootstrap-seed"));
  const bool shuffled = c.str("history") == "shuffled";
  if (c.flag("other-protocol") + c.flag("other-ties") + shuffled > 1)
    throw Error("table: --other-protocol, --other-ties and --history shuffled are three different tests; ask for one");
  t.view = c.flag("other-protocol") ? TestView::kOtherProtocol
           : c.flag("other-ties")   ? TestView::kOtherTies
           : shuffled               ? TestView::kShuffledHistory
                                    : TestView::kOwn;
  t.wall = c.flag("wall");
  return t;
}

namespace {

template <typename Strings>
std::string join(const Strings& s, const std::string& sep) {
  std::string o;
  for (const auto& x : s) o += (o.empty() ? "" : sep) + x;
  return o;
}

/// The device a run trained on ("cpu" for runs made before the environment recorded it).
std::string device_of(const RunResult& r) { return r.seqrec.environment.value("device", std::string("cpu")); }

/// The runs by column (dataset) and row (method), in the order first met.
struct Grouping {
  std::vector<std::string> datasets, methods;
  std::map<std::string, std::map<std::string, std::vector<const RunRecord*>>> cell;  // dataset -> method -> runs
};

/// One protocol, one dataset version and one result per seed in each column, or no table.
Grouping group_runs(const std::vector<RunRecord>& runs, const TableSpec& t) {
  Grouping g;
  for (const auto& r : runs) {
    if (std::find(g.datasets.begin(), g.datasets.end(), r.dataset) == g.datasets.end()) g.datasets.push_back(r.dataset);
    if (std::find(g.methods.begin(), g.methods.end(), r.method) == g.methods.end()) g.methods.push_back(r.method);
    for (const RunRecord* o : g.cell[r.dataset][r.method])
      if (o->seed == r.seed) throw Error("table: two results for " + r.method + " on " + r.dataset + " seed " + std::to_string(r.seed) + ": " + o->path + " and " + r.path);
    g.cell[r.dataset][r.method].push_back(&r);
  }
  for (const auto& d : g.datasets) {
    std::set<std::string> protocols, hashes;
    for (const auto& [m, rs] : g.cell[d])
      for (const RunRecord* r : rs) protocols.insert(r->protocol), hashes.insert(r->dataset_hash);
    if (protocols.size() > 1) throw Error("table: refusing to mix protocols in the " + d + " column: " + join(protocols, ", "));
    if (hashes.size() > 1) throw Error("table: refusing to mix dataset versions in the " + d + " column (source hashes " + join(hashes, ", ") + ")");
  }
  auto known = [&](const std::string& m) { return std::find(g.methods.begin(), g.methods.end(), m) != g.methods.end(); };
  if (!t.baseline.empty() && !known(t.baseline)) throw Error("table: --baseline " + t.baseline + " matches no method");
  for (const auto& [row, ref] : t.pairs)
    for (const std::string& m : {row, ref})
      if (!known(m)) throw Error("table: --pairs " + row + "=" + ref + ": " + m + " matches no method");
  return g;
}

/// A cell's statistics for one metric.
struct Stat {
  double mean = 0, std = 0;
  size_t n = 0;
  bool has = false, best = false, compared = false, tested = false;
  double rel = 0;
  PairedTest test;
  double p_adjusted = 1;  ///< max(t_p, w_p), corrected over the table's comparisons
  Interval diff_ci;       ///< of the mean per-user difference to the reference
  std::string line;       ///< the footer's line for this comparison, before its adjusted p
  std::optional<double> full_mean;  ///< with sampled candidates: the full ranking's mean over seeds
  std::optional<double> order_drop;  ///< shuffled histories: % change of the mean from the original order
};

/// Whether a run ranks sampled candidates (uni100, pop100) rather than the full catalogue.
bool sampled(const RunRecord& r) { return r.result.protocol.candidates != "full"; }
/// Statistics per (dataset, method, metric), and one line per comparison for the footer.
struct TableStats {
  std::map<std::string, std::map<std::string, std::map<std::string, Stat>>> st;
  std::vector<std::string> sig_lines;
  int64_t tests = 0;  ///< comparisons in the correction's family
  std::vector<RunCheck> run_checks;  ///< runs that may have learned nothing (run_checks.h)
  /// The seeds of a cell whose runs were flagged, "" for none.
  std::string flagged_seeds(const std::vector<const RunRecord*>& cell) const {
    std::string seeds;
    for (const RunRecord* r : cell)
      for (const RunCheck& c : run_checks)
        if (c.path == r->path && c.flagged()) seeds += (seeds.empty() ? "" : " ") + std::to_string(r->seed);
    return seeds;
  }
};

/// The method row `m` is compared with: its --pairs partner, else the baseline ("" for none).
std::string reference_of(const TableSpec& t, const std::string& m) {
  auto it = t.pairs.find(m);
  if (it != t.pairs.end()) return it->second;
  return m == t.baseline ? "" : t.baseline;
}

/// The paired tests of `m` against `baseline` on per-user values from the rank files.
void compare_to(const TableSpec& t, Grouping& g, const std::string& d, const std::string& metric, const std::string& m,
                const std::string& baseline, RankCache& rank_files, Stat& s) {
  const std::string missing = missing_ranks(g.cell[d][m]) + missing_ranks(g.cell[d][baseline]);
  if (!missing.empty()) {
    s.line = d + " " + metric + " " + m + " vs " + baseline + ": no significance test, rank files missing:" + missing;
    return;
  }
  std::map<int64_t, double> base = per_user(g.cell[d][baseline], metric, rank_files);
  std::map<int64_t, double> mine = per_user(g.cell[d][m], metric, rank_files);
  std::vector<double> a, b;
  for (const auto& [u, x] : mine) {
    if (!base.count(u)) throw Error("table: " + m + " and " + baseline + " on " + d + " ranked different users");
    a.push_back(x);
    b.push_back(base.at(u));
  }
  s.test = paired_tests(a, b);
  s.tested = true;
  std::vector<double> diff(a.size());
  for (size_t i = 0; i < a.size(); ++i) diff[i] = a[i] - b[i];
  s.diff_ci = bootstrap_mean_interval(diff, t.resamples, t.bootstrap_seed);
  const size_t seeds = g.cell[d][m].size(), base_seeds = g.cell[d][baseline].size();
  s.line = d + " " + metric + " " + m + " vs " + baseline + ": mean diff " + fixed(s.test.mean_diff, 5) + " [" +
           fixed(s.diff_ci.lo, 5) + ", " + fixed(s.diff_ci.hi, 5) + "] over " + std::to_string(s.test.n) +
           " users; paired t p = " + fixed(s.test.t_p, 4) + ", Wilcoxon p = " + fixed(s.test.w_p, 4) + " (" +
           std::to_string(s.test.nonzero) + " non-zero)";
  if (seeds != base_seeds)
    s.line += "; CAUTION: " + std::to_string(seeds) + " vs " + std::to_string(base_seeds) +
              " seeds: per-user means over different seed counts are not exchangeable, the signed-rank test is biased";
}

/// Corrects the comparisons' p-values (each the larger of its t and Wilcoxon p: both must
/// reject) as one family, and writes the footer lines in table order.
void correct_and_describe(const TableSpec& t, const std::vector<Stat*>& compared, TableStats& out) {
  std::vector<Stat*> tested;
  std::vector<double> p;
  for (Stat* s : compared)
    if (s->tested) tested.push_back(s), p.push_back(std::max(s->test.t_p, s->test.w_p));
  const std::vector<double> adjusted = adjust_p_values(p, t.correction);
  for (size_t i = 0; i < tested.size(); ++i) tested[i]->p_adjusted = adjusted[i];
  out.tests = static_cast<int64_t>(tested.size());
  for (Stat* s : compared) {
    if (s->line.empty()) continue;
    out.sig_lines.push_back(s->tested ? s->line + "; " + correction_name(t.correction) + "-adjusted p = " + fixed(s->p_adjusted, 4)
                                      : s->line);
  }
}

TableStats compute_table_stats(const TableSpec& t, Grouping& g, RankCache& rank_files) {
  TableStats out;
  std::vector<Stat*> compared;  // in table order
  for (const auto& d : g.datasets)
    for (const auto& metric : t.metrics) {
      double best = -1;
      for (const auto& m : g.methods) {
        auto it = g.cell[d].find(m);
        if (it == g.cell[d].end()) continue;
        std::vector<double> v;
        for (const RunRecord* r : it->second) {
          if (!r->test.count(metric))
            throw Error(r->path + ": no test " + metric +
                        (is_exposure_metric(metric) ? " (exposure metrics come from full-ranking test lists; results "
                                                      "written before they existed lack them: re-run or `seqrec eval` a checkpoint)"
                                                    : ""));
          v.push_back(r->test.at(metric));
        }
        Stat& s = out.st[d][m][metric];
        mean_std(v, &s.mean, &s.std);
        s.n = v.size();
        s.has = true;
        std::vector<double> full;
        for (const RunRecord* r : it->second)
          if (r->test_full.count(metric)) full.push_back(r->test_full.at(metric));
        double full_std = 0;
        if (!full.empty() && full.size() == v.size()) mean_std(full, &s.full_mean.emplace(), &full_std);
        if (t.view == TestView::kShuffledHistory) {
          double original = 0, sd = 0;
          std::vector<double> o;
          for (const RunRecord* r : it->second) o.push_back(metric_value(r->result.test, metric));
          mean_std(o, &original, &sd);
          if (original > 0) s.order_drop = (s.mean / original - 1) * 100;
        }
        best = std::max(best, s.mean);
      }
      // Exposure metrics have no better direction to mark, and no per-user value to test.
      if (is_exposure_metric(metric)) continue;
      for (const auto& m : g.methods)
        if (out.st[d][m][metric].has && out.st[d][m][metric].mean == best) out.st[d][m][metric].best = true;
      for (const auto& m : g.methods) {
        const std::string ref = reference_of(t, m);
        if (ref.empty() || !g.cell[d].count(m) || !g.cell[d].count(ref)) continue;
        const double base_mean = out.st[d][ref][metric].mean;
        Stat& s = out.st[d][m][metric];
        s.rel = base_mean > 0 ? (s.mean / base_mean - 1) * 100 : 0;
        s.compared = true;
        if (t.view != TestView::kOwn) continue;  // the rank files hold the runs' own test only
        compare_to(t, g, d, metric, m, ref, rank_files, s);
        compared.push_back(&s);
      }
    }
  correct_and_describe(t, compared, out);
  return out;
}

/// A published number of a method seqrec reproduces (published.csv's seqrec_method) against
/// that method's seeds in one cell.
struct PublishedCheck {
  const Published* published;
  std::string dataset, metric;
  double value = 0;
  const Stat* seeds;                   ///< the row's cell (TableStats outlives the checks)
  std::optional<OneMoreRunTest> test;  ///< none for one seed, or seeds without spread
  double p_adjusted = 1;               ///< corrected over the table's published checks
};

/// The statistics of a cell's metric, or null where the table has none.
const Stat* find_stat(const TableStats& ts, const std::string& d, const std::string& m, const std::string& metric) {
  auto column = ts.st.find(d);
  if (column == ts.st.end()) return nullptr;
  auto row = column->second.find(m);
  if (row == column->second.end()) return nullptr;
  auto s = row->second.find(metric);
  return s != row->second.end() && s->second.has ? &s->second : nullptr;
}

/// Each published number whose method a table row reproduces, tested as one more run of that
/// row's seeds, the p-values corrected as one family. None for other protocols' views: the
/// published numbers are the reference protocol's.
std::vector<PublishedCheck> check_published(const TableSpec& t, const Grouping& g, const TableStats& ts,
                                            const std::vector<Published>& published) {
  std::vector<PublishedCheck> out;
  if (t.view != TestView::kOwn) return out;
  for (const Published& p : published) {
    if (p.seqrec_method.empty()) continue;
    for (const auto& d : g.datasets)
      for (const auto& metric : t.metrics) {
        auto value = p.value.find({d, metric});
        const Stat* seeds = find_stat(ts, d, p.seqrec_method, metric);
        if (value == p.value.end() || !seeds) continue;
        PublishedCheck c{&p, d, metric, value->second, seeds, std::nullopt, 1};
        if (seeds->n > 1 && seeds->std > 0)
          c.test = one_more_run_test(seeds->mean, seeds->std, static_cast<int64_t>(seeds->n), c.value);
        out.push_back(c);
      }
  }
  std::vector<double> p;
  for (const PublishedCheck& c : out)
    if (c.test) p.push_back(c.test->p);
  const std::vector<double> adjusted = adjust_p_values(p, t.correction);
  size_t i = 0;
  for (PublishedCheck& c : out)
    if (c.test) c.p_adjusted = adjusted[i++];
  return out;
}

/// The footer's line for one published check.
std::string published_line(const TableSpec& t, const PublishedCheck& c) {
  const Stat& s = *c.seeds;
  std::string line = c.dataset + " " + c.metric + ": published " + c.published->method + " (" + c.published->source + ") " +
                     fixed(c.value) + " vs " + c.published->seqrec_method + "'s " + std::to_string(s.n) +
                     (s.n == 1 ? " seed " : " seeds ") + fixed(s.mean) + (s.n > 1 ? " ± " + fixed(s.std) : "") + ": published - mean " +
                     (c.value >= s.mean ? "+" : "") + fixed(c.value - s.mean);
  if (!c.test) return line + "; no test (" + (s.n == 1 ? "one seed" : "the seeds do not differ") + ")";
  const bool within = c.value >= c.test->interval.lo && c.value <= c.test->interval.hi;
  return line + "; one more seed falls in [" + fixed(c.test->interval.lo) + ", " + fixed(c.test->interval.hi) +
         "] with 95% probability: " + (within ? "within" : "outside") + "; t(" + std::to_string(c.test->dof) +
         ") = " + fixed(c.test->t, 2) + ", p = " + fixed(c.test->p, 4) + "; " + correction_name(t.correction) +
         "-adjusted p = " + fixed(c.p_adjusted, 4);
}

std::string render_csv(const TableSpec& t, const Grouping& g, TableStats& ts, const std::vector<Published>& published,
                       const std::vector<PublishedCheck>& checks) {
  std::ostringstream o;
  o << "method,dataset,metric,mean,std,seeds,rel_improvement_pct,p_ttest,p_wilcoxon,p_adjusted_" << correction_name(t.correction)
    << ",diff_mean,diff_ci95_lo,diff_ci95_hi,full_ranking_mean,source,compared_with,one_more_run_p,one_more_run_p_adjusted,"
       "one_more_run_pi95_lo,one_more_run_pi95_hi,learned_nothing_seeds\n";
  for (const auto& m : g.methods)
    for (const auto& d : g.datasets)
      for (const auto& metric : t.metrics) {
        const Stat& s = ts.st[d][m][metric];
        if (!s.has) continue;
        o << m << "," << d << "," << metric << "," << fixed(s.mean, 6) << "," << fixed(s.std, 6) << "," << s.n << ","
          << (s.compared ? fixed(s.rel, 2) : "") << "," << (s.tested ? fixed(s.test.t_p, 6) : "") << ","
          << (s.tested ? fixed(s.test.w_p, 6) : "") << "," << (s.tested ? fixed(s.p_adjusted, 6) : "") << ","
          << (s.tested ? fixed(s.test.mean_diff, 6) : "") << "," << (s.tested ? fixed(s.diff_ci.lo, 6) : "") << ","
          << (s.tested ? fixed(s.diff_ci.hi, 6) : "") << "," << (s.full_mean ? fixed(*s.full_mean, 6) : "") << ",seqrec,"
          << (s.compared ? reference_of(t, m) : "") << ",,,,," << ts.flagged_seeds(g.cell.at(d).at(m)) << "\n";
      }
  // A published number: compared_with the row whose seeds it was tested against, and the test.
  for (const auto& p : published)
    for (const auto& [k, v] : p.value) {
      auto c = std::find_if(checks.begin(), checks.end(), [&, &k = k](const PublishedCheck& c) {
        return c.published == &p && c.dataset == k.first && c.metric == k.second;
      });
      o << p.method << "," << k.first << "," << k.second << "," << fixed(v, 4) << ",,,,,,,,,,," << p.source << ","
        << (c == checks.end() ? "" : p.seqrec_method) << ",";
      if (c != checks.end() && c->test)
        o << fixed(c->test->p, 6) << "," << fixed(c->p_adjusted, 6) << "," << fixed(c->test->interval.lo, 6) << ","
          << fixed(c->test->interval.hi, 6);
      else
        o << ",,,";
      o << ",\n";
    }
  return o.str();
}

/// The header and rows of the md and LaTeX tables (cells already formatted).
std::vector<std::vector<std::string>> table_rows(const TableSpec& t, Grouping& g, TableStats& ts,
                                                 const std::vector<Published>& published) {
  const bool md = t.format == "md", tex = t.format == "latex";
  std::vector<std::string> header = {"method"};
  for (const auto& d : g.datasets) {
    for (const auto& metric : t.metrics) header.push_back(d + " " + metric);
    if (t.wall) header.push_back(d + " wall min");
  }
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& m : g.methods) {
    std::vector<std::string> row = {m + (m == t.baseline ? " (baseline)" : "")};
    for (const auto& d : g.datasets) {
      for (const auto& metric : t.metrics) {
        const Stat& s = ts.st[d][m][metric];
        if (!s.has) {
          row.push_back("–");
          continue;
        }
        std::string x = fixed(s.mean) + (s.n > 1 ? (tex ? " $\\pm$ " : " ± ") + fixed(s.std) : "");
        if (s.best) x = md ? "**" + x + "**" : "\\textbf{" + x + "}";
        if (s.compared) x += std::string(" (") + (s.rel >= 0 ? "+" : "") + fixed(s.rel, 1) + (tex ? "\\%)" : "%)");
        if (s.tested && s.p_adjusted < t.alpha) x += tex ? "$^\\dagger$" : "†";
        if (!ts.flagged_seeds(g.cell[d][m]).empty()) x += tex ? "$^\\ddagger$" : "‡";
        if (s.full_mean) x += " [full " + fixed(*s.full_mean) + "]";
        if (s.order_drop)
          x += std::string(" [order ") + (*s.order_drop >= 0 ? "+" : "") + fixed(*s.order_drop, 1) + (tex ? "\\%]" : "%]");
        row.push_back(x);
      }
      if (t.wall) {
        // The run's own wall time (training, validations, test), mean over seeds; per device
        // where a cell's runs differ (a GPU's minutes and a CPU's are not one quantity).
        std::map<std::string, std::vector<double>> v;
        auto it = g.cell[d].find(m);
        if (it != g.cell[d].end())
          for (const RunRecord* r : it->second) v[device_of(r->result)].push_back(r->result.timing.total_seconds / 60);
        std::string x;
        for (const auto& [device, minutes] : v) {
          double mean = 0, sd = 0;
          mean_std(minutes, &mean, &sd);
          x += (x.empty() ? "" : ", ") + (v.size() > 1 ? device + " " : "") + fixed(mean, 1);
        }
        row.push_back(v.empty() ? "–" : x);
      }
    }
    rows.push_back(row);
  }
  for (const auto& p : published) {
    std::vector<std::string> row = {p.method + " (published: " + p.source + ")"};
    bool any = false;
    for (const auto& d : g.datasets) {
      for (const auto& metric : t.metrics) {
        auto it = p.value.find({d, metric});
        row.push_back(it == p.value.end() ? "–" : fixed(it->second));
        any = any || it != p.value.end();
      }
      if (t.wall) row.push_back("");
    }
    if (any) rows.push_back(row);  // published rows for other datasets only are left out
  }
  return rows;
}

std::string render_md(const std::vector<std::vector<std::string>>& rows) {
  std::ostringstream o;
  auto line = [&](const std::vector<std::string>& r) {
    o << "|";
    for (const auto& x : r) o << " " << x << " |";
    o << "\n";
  };
  line(rows[0]);
  o << "|";
  for (size_t i = 0; i < rows[0].size(); ++i) o << (i ? "---:|" : "---|");
  o << "\n";
  for (size_t i = 1; i < rows.size(); ++i) line(rows[i]);
  return o.str();
}

std::string render_latex(const std::vector<std::vector<std::string>>& rows) {
  std::ostringstream o;
  o << "\\begin{tabular}{l" << std::string(rows[0].size() - 1, 'r') << "}\n\\toprule\n";
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      std::string x = r[i];
      for (size_t p = 0; (p = x.find('_', p)) != std::string::npos; p += 2) x.replace(p, 1, "\\_");
      o << (i ? " & " : "") << x;
    }
    o << " \\\\\n";
  };
  line(rows[0]);
  o << "\\midrule\n";
  for (size_t i = 1; i < rows.size(); ++i) line(rows[i]);
  o << "\\bottomrule\n\\end{tabular}\n";
  return o.str();
}

/// The footer of md and LaTeX tables: what the cells are, each column's protocol, data and
/// runs, the commits, and every comparison's test.
/// How a tuned run's configuration was chosen, from the search.json `seqrec tune` writes beside
/// the chosen config the run names: budget, space and compute. Tune outputs older than that
/// file give the run's `tuned` value alone; "" for a run that was not tuned.
std::string tuning_of(const RunResult& r) {
  auto tuned = r.config.find("tuned");
  if (tuned == r.config.end() || tuned->second.empty()) return "";
  auto config = r.config.find("config");
  if (config == r.config.end()) return tuned->second;
  const fs::path path = fs::path(config->second).parent_path() / "search.json";
  if (!fs::exists(path)) return tuned->second;
  try {
    const nlohmann::json j = nlohmann::json::parse(read_file(path.string()));
    std::ostringstream o;
    std::string rungs, space;
    for (const auto& e : j.at("epochs_per_rung")) rungs += (rungs.empty() ? "" : "/") + std::to_string(e.get<int64_t>());
    for (const auto& [k, v] : j.at("space").items()) space += (space.empty() ? "" : "; ") + k + " " + v.get<std::string>();
    o << j.at("trials").get<int64_t>() << " trials, successive halving over rungs of " << rungs << " epochs (eta "
      << j.at("eta").get<int64_t>() << "), space: " << space << "; " << std::fixed << std::setprecision(1)
      << j.at("compute_seconds").get<double>() / 60 << " min of compute over " << j.at("rung_runs").get<int64_t>()
      << " trial rungs (" << j.at("summary").get<std::string>() << ")";
    return o.str();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not a tune search record (" + e.what() + ")");
  }
}

/// The dropout masks a run drew (dropout.h): LibTorch's on a GPU and in runs made before
/// --dropout-rng existed, else the key's value. Not hashed, so rows of one config can differ.
std::string dropout_masks(const RunResult& r) {
  auto it = r.config.find("dropout-rng");
  return it == r.config.end() || device_of(r) != "cpu" ? "torch" : it->second;
}

/// The processes a run trained in: its data-parallel world size, else 1.
int64_t processes_of(const RunResult& r) { return r.data_parallel ? r.data_parallel->value("world_size", 1) : 1; }

/// "device cpu", or where a row's runs differ, "devices cpu (seeds 2,3), cuda (seed 1)".
std::string devices_of(const std::vector<const RunRecord*>& rs) {
  std::map<std::string, std::vector<std::string>> seeds;
  for (const RunRecord* r : rs) seeds[device_of(r->result)].push_back(std::to_string(r->seed));
  if (seeds.size() == 1) return "device " + seeds.begin()->first;
  std::string out;
  for (const auto& [device, s] : seeds)
    out += (out.empty() ? "" : ", ") + device + (s.size() == 1 ? " (seed " : " (seeds ") + join(s, ",") + ")";
  return "devices " + out;
}

/// The compute behind a table's runs: CPU core-hours (wall time x threads x processes) and
/// GPU-hours (wall time x processes), each with its run count.
std::string compute_line(const std::vector<RunRecord>& runs) {
  double cpu = 0, gpu = 0;
  int64_t cpu_runs = 0, gpu_runs = 0;
  for (const RunRecord& r : runs) {
    const double hours = r.result.timing.total_seconds / 3600 * static_cast<double>(processes_of(r.result));
    if (device_of(r.result) == "cpu") {
      cpu += hours * std::max<int64_t>(1, r.result.seqrec.environment.value("intra_op_threads", int64_t{1}));
      ++cpu_runs;
    } else {
      gpu += hours;
      ++gpu_runs;
    }
  }
  std::ostringstream o;
  auto runs_text = [](int64_t n) { return std::to_string(n) + (n == 1 ? " run" : " runs"); };
  o << std::fixed << std::setprecision(1) << "compute: " << cpu << " CPU core-hours over " << runs_text(cpu_runs)
    << " (wall time x threads x processes)";
  if (gpu_runs) o << ", " << std::setprecision(2) << gpu << " GPU-hours over " << runs_text(gpu_runs);
  return o.str();
}

/// The footer's first paragraph: what the cells, marks and tests mean.
std::string footer_legend(const TableSpec& t, const TableStats& ts, const std::vector<PublishedCheck>& checks) {
  std::ostringstream o;
  const std::string c = t.format == "latex" ? "% " : "";
  o << "\n" << c << "Cells: test mean ± sample std over seeds (a single seed: the value alone; seeds per cell below); bold: best mean of the column.";
  if (t.view == TestView::kOtherProtocol)
    o << " Metrics under the runs' other history protocol (no significance tests: rank files hold their own).";
  if (t.view == TestView::kOtherTies)
    o << " Metrics under the runs' other tie rule for items scored equal to the answer (no significance tests: rank "
         "files hold their own rule's ranks).";
  if (t.view == TestView::kShuffledHistory)
    o << " Metrics with each test history permuted within the model's input (the sequentiality check, Klenitskiy et al., "
         "RecSys 2024); [order x%]: change from the same runs' original order (no significance tests: rank files hold "
         "the original order's).";
  if (!t.baseline.empty() || !t.pairs.empty()) {
    std::string pairs;
    for (const auto& [row, ref] : t.pairs) pairs += (pairs.empty() ? "" : ", ") + row + " relative to " + ref;
    std::string relative = pairs;
    if (!t.baseline.empty()) relative = "relative to " + t.baseline + (pairs.empty() ? "" : " (" + pairs + ")");
    o << " (+x%): " << relative << "; † : paired t-test and Wilcoxon signed-rank over per-user values both reject: "
      << "the larger of their p-values, ";
    if (t.correction == Correction::kNone) o << "uncorrected";
    else o << correction_name(t.correction) << "-adjusted over the table's " << ts.tests << " tests";
    o << ", < " << t.alpha << ". Each comparison below: the mean per-user difference with a 95% paired bootstrap interval ("
      << t.resamples << " resamples of the users, seed " << t.bootstrap_seed << ").";
  }
  if (std::any_of(ts.run_checks.begin(), ts.run_checks.end(), [](const RunCheck& r) { return r.flagged(); }))
    o << " ‡ : a seed's run may have learned nothing: its test ranking indistinguishable from (or worse than) "
         "popularity's (paired t-test and Wilcoxon on per-user values, not both rejecting at "
      << t.alpha << "); the runs below.";
  if (!checks.empty()) {
    int64_t tested = 0;
    for (const PublishedCheck& c : checks) tested += c.test.has_value();
    o << " Published numbers against the seeds of the row that reproduces them: the published value as one more run of "
         "that row (the seeds normal; t = (published - mean) / (std sqrt(1 + 1/seeds)), seeds - 1 degrees of freedom, "
         "two-sided, "
      << (t.correction == Correction::kNone ? "uncorrected" : correction_name(t.correction) + "-adjusted over the table's " +
                                                                  std::to_string(tested) + " published checks")
      << "), with the 95% prediction interval of one more seed.";
  }
  return o.str();
}

/// One dataset's lines: its protocol and split, its warnings, and each method's seeds,
/// configs, devices and tuning; `c` starts every line (a LaTeX comment, or nothing).
std::string footer_dataset(const std::string& c, Grouping& g, const std::string& d) {
  std::ostringstream o;
  const RunRecord* any = g.cell[d].begin()->second.front();
  const DatasetInfo& ds = any->result.dataset;
  o << c << "- " << d << ": protocol " << any->protocol << ", " << (ds.split ? ds.split->kind + " split" : "leave-one-out")
    << ", dataset source hash " << any->dataset_hash << "\n";
  if (ds.split)
    o << c << "  - " << format_split(*ds.split) << "\n";
  if (sampled(*any))
    o << c << "  - WARNING: sampled candidates (" << any->result.protocol.candidates
      << "): sampled metrics can order methods differently from the full ranking (Krichene & Rendle, KDD 2020); "
      << "[full x] is each cell's full-ranking mean (runs made before seqrec recorded it have none)\n";
  if (ds.test_answer_repeats) {
    const double users = static_cast<double>(ds.users), repeats = static_cast<double>(*ds.test_answer_repeats);
    o << c << "  - " << ds.users << " users, " << ds.items << " items, " << ds.interactions << " interactions, mean length "
      << std::fixed << std::setprecision(2) << ds.interactions / users << "; " << *ds.test_answer_repeats
      << " test answers (" << std::setprecision(1) << 100 * repeats / users
      << "%) repeat a history item, which the reference protocol scores 0\n";
  }
  if (ds.loo_leakage)
    o << c << "  - leave-one-out leakage: " << std::fixed << std::setprecision(1) << 100 * ds.loo_leakage->first
      << "% of training interactions come after the earliest test interaction; " << 100 * ds.loo_leakage->second
      << "% of users' test interactions precede the last training one\n";
  for (const auto& m : g.methods) {
    auto it = g.cell[d].find(m);
    if (it == g.cell[d].end()) continue;
    std::set<std::string> hashes;
    std::string seeds;
    for (const RunRecord* r : it->second) hashes.insert(r->config_hash), seeds += (seeds.empty() ? "" : ",") + std::to_string(r->seed);
    std::set<std::string> tuned, ranks, patience, masks;
    for (const RunRecord* r : it->second) {
      if (const std::string how = tuning_of(r->result); !how.empty()) tuned.insert(how);
      ranks.insert(std::to_string(processes_of(r->result)));
      auto p = r->result.config.find("patience");
      if (p != r->result.config.end()) patience.insert(p->second);
      masks.insert(dropout_masks(r->result));
    }
    o << c << "  - " << m << ": seeds " << seeds << "; config hashes " << join(hashes, " ") << "; " << devices_of(it->second)
      << (patience.empty() ? "" : "; patience " + join(patience, ", ")) << "; dropout masks " << join(masks, ", ")
      << (tuned.empty() ? "" : "; tuned: " + join(tuned, ", "))
      << (ranks.size() == 1 && *ranks.begin() == "1" ? "" : "; data-parallel ranks: " + join(ranks, ", ")) << "\n";
  }
  return o.str();
}

/// The table's footer: the legend, each dataset's provenance, then the run-level lines
/// (commits, compute, tests, flagged runs, published checks).
std::string provenance_footer(const TableSpec& t, Grouping& g, const TableStats& ts, const std::vector<RunRecord>& runs,
                              const std::vector<PublishedCheck>& checks) {
  std::ostringstream o;
  const std::string c = t.format == "latex" ? "% " : "";
  o << footer_legend(t, ts, checks) << "\n";
  std::set<std::string> commits;
  for (const auto& r : runs) {
    commits.insert(r.commit);
    for (const std::string& b : r.result.seqrec.trained_by.value_or(std::vector<std::string>{})) commits.insert(b);
  }
  for (const auto& d : g.datasets) o << footer_dataset(c, g, d);
  o << c << "- seqrec commits: " << join(commits, ", ") << "\n";
  o << c << "- " << compute_line(runs) << "\n";
  for (const auto& l : ts.sig_lines) o << c << "- " << l << "\n";
  std::string early;  // "Beauty bert4rec seeds 1,3; ..." in table order
  for (const auto& d : g.datasets)
    for (const auto& m : g.methods) {
      std::string seeds;
      for (const RunCheck& check : ts.run_checks)
        if (check.dataset == d && check.method == m && check.early_best) seeds += (seeds.empty() ? "" : ",") + std::to_string(check.seed);
      if (!seeds.empty()) early += (early.empty() ? "" : "; ") + d + " " + m + (seeds.find(',') == std::string::npos ? " seed " : " seeds ") + seeds;
    }
  for (const RunCheck& check : ts.run_checks)
    if (check.flagged() || !check.unchecked.empty()) o << c << "- " << check.path << ": " << check.text() << "\n";
  if (!early.empty())
    o << c << "- best validation inside the first patience window (patience x eval-every epochs; no later epoch improved on it): "
      << early << "\n";
  for (const PublishedCheck& check : checks) o << c << "- " << published_line(t, check) << "\n";
  return o.str();
}

}  // namespace

namespace {

/// Everything a table shows, computed once for any renderer. Grouping and the checks point
/// into `runs` and `published`, so a Computed stays where it was filled.
struct Computed {
  std::vector<RunRecord> runs;
  Grouping g;
  TableStats ts;
  std::vector<Published> published;
  std::vector<PublishedCheck> checks;
};

void compute(const TableSpec& t, Computed& c) {
  c.runs = read_runs(t.inputs, t.view);
  c.g = group_runs(c.runs, t);
  RankCache ranks;
  c.ts = compute_table_stats(t, c.g, ranks);
  if (t.view == TestView::kOwn) c.ts.run_checks = flagged_runs(c.runs, ranks, t.alpha);  // rank files hold the own view
  c.published = t.reference.empty() ? std::vector<Published>{} : read_published(t.reference);
  c.checks = check_published(t, c.g, c.ts, c.published);
}

}  // namespace

ComparisonTable comparison_table(const TableSpec& t) {
  Computed c;
  compute(t, c);
  ComparisonTable out;
  out.rows = table_rows(t, c.g, c.ts, c.published);
  out.footer = provenance_footer(t, c.g, c.ts, c.runs, c.checks);
  out.runs = std::move(c.runs);
  out.run_checks = c.ts.run_checks;
  out.inputs = t.inputs;
  out.baseline = t.baseline;
  out.reference = t.reference;
  out.metrics = t.metrics;
  return out;
}

void write_table(const TableSpec& t, std::ostream& out) {
  Computed c;
  compute(t, c);
  std::string text;
  if (t.format == "csv") {
    text = render_csv(t, c.g, c.ts, c.published, c.checks);
  } else {
    const std::vector<std::vector<std::string>> rows = table_rows(t, c.g, c.ts, c.published);
    text = (t.format == "md" ? render_md(rows) : render_latex(rows)) + provenance_footer(t, c.g, c.ts, c.runs, c.checks);
  }
  if (t.output.empty()) {
    out << text;
  } else {
    write_file_atomically(t.output, text);
    out << "table written to " << t.output << std::endl;
  }
}

}  // namespace seqrec
