// seqrec table RESULTS... : a comparison table from result JSONs (files or directories).
// Rows are methods, columns dataset x metric, cells mean +- std over seeds; the best mean of
// a column in bold; relative improvement over --baseline with a paired significance test
// over per-user metrics (t-test and Wilcoxon signed-rank, from the runs' rank files).
// Results with different protocols or dataset hashes are never put in one column.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "report/runs.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/files.h"
#include "seqrec/report.h"
#include "seqrec/stats.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace seqrec {
namespace {

/// Per-user value of `metric` from a 0-based rank.
double user_metric(const std::string& metric, int64_t rank) {
  if (metric == "mrr") return 1.0 / (rank + 1);
  const size_t at = metric.find('@');
  const int64_t k = at == std::string::npos ? 0 : to_integer(metric.substr(at + 1), "metric " + metric);
  if (rank >= k) return 0.0;
  return metric.rfind("ndcg", 0) == 0 ? 1.0 / std::log2(rank + 2.0) : 1.0;
}

/// " path" for each run whose per-user rank file is not there.
std::string missing_ranks(const std::vector<const RunRecord*>& runs) {
  std::string out;
  for (const RunRecord* r : runs)
    if (r->ranks.empty() || !fs::exists(r->ranks)) out += " " + (r->ranks.empty() ? r->path + " (trained without --ranks)" : r->ranks);
  return out;
}

/// Per-user metric averaged over a method's seeds, keyed by user row. Rank files (checked
/// present by missing_ranks) are read once into `loaded`, whatever the metrics and pairs.
std::map<int64_t, double> per_user(const std::vector<const RunRecord*>& runs, const std::string& metric,
                                   std::map<std::string, EvalResult>& loaded) {
  std::map<int64_t, double> sum;
  for (const RunRecord* r : runs) {
    auto it = loaded.find(r->ranks);
    if (it == loaded.end()) it = loaded.emplace(r->ranks, load_ranks(r->ranks)).first;
    const EvalResult& e = it->second;
    for (size_t i = 0; i < e.users.size(); ++i) sum[e.users[i]] += user_metric(metric, e.ranks[i]) / runs.size();
  }
  return sum;
}

std::string fmt(double x, int digits = 4) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << x;
  return o.str();
}

}  // namespace

int cmd_table(const std::vector<std::string>& args) {
  std::vector<std::string> inputs, metrics = {"hit@10", "ndcg@10"};
  std::string baseline, format = "md", reference, output;
  double alpha = 0.05;
  bool other_protocol = false, wall = false;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw Error("table: " + args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--metrics") {
      std::stringstream ss(value());
      metrics.clear();
      for (std::string m; std::getline(ss, m, ',');) metrics.push_back(m);
    } else if (args[i] == "--baseline") baseline = value();
    else if (args[i] == "--format") format = value();
    else if (args[i] == "--reference") reference = value();
    else if (args[i] == "--output") output = value();
    else if (args[i] == "--alpha") alpha = to_real(value(), "--alpha");
    else if (args[i] == "--other-protocol") other_protocol = true;
    else if (args[i] == "--wall") wall = true;
    else if (args[i][0] == '-') throw Error("table: unknown option " + args[i]);
    else inputs.push_back(args[i]);
  }
  if (format != "md" && format != "csv" && format != "latex") throw Error("table: --format must be md, csv or latex");
  std::vector<RunRecord> runs = read_runs(inputs, other_protocol);

  std::vector<std::string> datasets, methods;
  std::map<std::string, std::map<std::string, std::vector<const RunRecord*>>> cell;  // dataset -> method -> runs
  for (const auto& r : runs) {
    if (std::find(datasets.begin(), datasets.end(), r.dataset) == datasets.end()) datasets.push_back(r.dataset);
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
    for (const RunRecord* o : cell[r.dataset][r.method])
      if (o->seed == r.seed) throw Error("table: two results for " + r.method + " on " + r.dataset + " seed " + std::to_string(r.seed) + ": " + o->path + " and " + r.path);
    cell[r.dataset][r.method].push_back(&r);
  }
  // One protocol and one dataset version per column, or no table.
  for (const auto& d : datasets) {
    std::set<std::string> protocols, hashes;
    for (const auto& [m, rs] : cell[d])
      for (const RunRecord* r : rs) protocols.insert(r->protocol), hashes.insert(r->dataset_hash);
    auto list = [](const std::set<std::string>& s) {
      std::string o;
      for (const auto& x : s) o += (o.empty() ? "" : ", ") + x;
      return o;
    };
    if (protocols.size() > 1) throw Error("table: refusing to mix protocols in the " + d + " column: " + list(protocols));
    if (hashes.size() > 1) throw Error("table: refusing to mix dataset versions in the " + d + " column (source hashes " + list(hashes) + ")");
  }
  if (!baseline.empty() && std::find(methods.begin(), methods.end(), baseline) == methods.end())
    throw Error("table: --baseline " + baseline + " matches no method");

  // Statistics per (dataset, method, metric).
  struct Stat {
    double mean = 0, std = 0;
    size_t n = 0;
    bool has = false, best = false, compared = false, tested = false;
    double rel = 0;
    PairedTest test;
  };
  std::map<std::string, std::map<std::string, std::map<std::string, Stat>>> st;
  std::vector<std::string> sig_lines;
  std::map<std::string, EvalResult> rank_files;
  for (const auto& d : datasets)
    for (const auto& metric : metrics) {
      double best = -1;
      for (const auto& m : methods) {
        auto it = cell[d].find(m);
        if (it == cell[d].end()) continue;
        std::vector<double> v;
        for (const RunRecord* r : it->second) {
          if (!r->test.count(metric)) throw Error(r->path + ": no test " + metric);
          v.push_back(r->test.at(metric));
        }
        Stat& s = st[d][m][metric];
        mean_std(v, &s.mean, &s.std);
        s.n = v.size();
        s.has = true;
        best = std::max(best, s.mean);
      }
      for (const auto& m : methods)
        if (st[d][m][metric].has && st[d][m][metric].mean == best) st[d][m][metric].best = true;
      if (baseline.empty() || !cell[d].count(baseline)) continue;
      const double base_mean = st[d][baseline][metric].mean;
      for (const auto& m : methods) {
        if (m == baseline || !cell[d].count(m)) continue;
        Stat& s = st[d][m][metric];
        s.rel = base_mean > 0 ? (s.mean / base_mean - 1) * 100 : 0;
        s.compared = true;
        if (other_protocol) continue;  // the rank files hold the runs' own protocol only
        const std::string missing = missing_ranks(cell[d][m]) + missing_ranks(cell[d][baseline]);
        if (!missing.empty()) {
          sig_lines.push_back(d + " " + metric + " " + m + " vs " + baseline + ": no significance test, rank files missing:" + missing);
          continue;
        }
        std::map<int64_t, double> base = per_user(cell[d][baseline], metric, rank_files);
        std::map<int64_t, double> mine = per_user(cell[d][m], metric, rank_files);
        std::vector<double> a, b;
        for (const auto& [u, x] : mine) {
          if (!base.count(u)) throw Error("table: " + m + " and " + baseline + " on " + d + " ranked different users");
          a.push_back(x);
          b.push_back(base.at(u));
        }
        s.test = paired_tests(a, b);
        s.tested = true;
        sig_lines.push_back(d + " " + metric + " " + m + " vs " + baseline + ": mean diff " + fmt(s.test.mean_diff, 5) +
                            " over " + std::to_string(s.test.n) + " users; paired t p = " + fmt(s.test.t_p, 4) +
                            ", Wilcoxon p = " + fmt(s.test.w_p, 4) + " (" + std::to_string(s.test.nonzero) + " non-zero)" +
                            (cell[d][m].size() != cell[d][baseline].size()
                                 ? "; CAUTION: " + std::to_string(cell[d][m].size()) + " vs " + std::to_string(cell[d][baseline].size()) +
                                       " seeds: per-user means over different seed counts are not exchangeable, the signed-rank test is biased"
                                 : ""));
      }
    }

  const std::vector<Published> published = reference.empty() ? std::vector<Published>{} : read_published(reference);

  std::ostringstream o;
  const bool md = format == "md", tex = format == "latex";
  if (format == "csv") {
    o << "method,dataset,metric,mean,std,seeds,rel_improvement_pct,p_ttest,p_wilcoxon,source\n";
    for (const auto& m : methods)
      for (const auto& d : datasets)
        for (const auto& metric : metrics) {
          const Stat& s = st[d][m][metric];
          if (!s.has) continue;
          o << m << "," << d << "," << metric << "," << fmt(s.mean, 6) << "," << fmt(s.std, 6) << "," << s.n << ","
            << (s.compared ? fmt(s.rel, 2) : "") << "," << (s.tested ? fmt(s.test.t_p, 6) : "") << ","
            << (s.tested ? fmt(s.test.w_p, 6) : "") << ",seqrec\n";
        }
    for (const auto& p : published)
      for (const auto& [k, v] : p.value) o << p.method << "," << k.first << "," << k.second << "," << fmt(v, 4) << ",,,,,," << p.source << "\n";
  } else {
    std::vector<std::string> header = {"method"};
    for (const auto& d : datasets) {
      for (const auto& metric : metrics) header.push_back(d + " " + metric);
      if (wall) header.push_back(d + " wall min");
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : methods) {
      std::vector<std::string> row = {m + (m == baseline ? " (baseline)" : "")};
      for (const auto& d : datasets) {
        for (const auto& metric : metrics) {
          const Stat& s = st[d][m][metric];
          if (!s.has) {
            row.push_back("–");
            continue;
          }
          std::string x = fmt(s.mean) + (s.n > 1 ? (tex ? " $\\pm$ " : " ± ") + fmt(s.std) : "");
          if (s.best) x = md ? "**" + x + "**" : "\\textbf{" + x + "}";
          if (s.compared) x += std::string(" (") + (s.rel >= 0 ? "+" : "") + fmt(s.rel, 1) + (tex ? "\\%)" : "%)");
          if (s.tested && s.test.t_p < alpha && s.test.w_p < alpha) x += tex ? "$^\\dagger$" : "†";
          row.push_back(x);
        }
        if (wall) {
          // The run's own wall time (training, validations, test), mean over seeds.
          std::vector<double> v;
          auto it = cell[d].find(m);
          if (it != cell[d].end())
            for (const RunRecord* r : it->second) v.push_back(r->doc["timing"].value("total_seconds", 0.0) / 60);
          double mean = 0, sd = 0;
          mean_std(v, &mean, &sd);
          row.push_back(v.empty() ? "–" : fmt(mean, 1));
        }
      }
      rows.push_back(row);
    }
    for (const auto& p : published) {
      std::vector<std::string> row = {p.method + " (published: " + p.source + ")"};
      bool any = false;
      for (const auto& d : datasets) {
        for (const auto& metric : metrics) {
          auto it = p.value.find({d, metric});
          row.push_back(it == p.value.end() ? "–" : fmt(it->second));
          any = any || it != p.value.end();
        }
        if (wall) row.push_back("");
      }
      if (any) rows.push_back(row);  // published rows for other datasets only are left out
    }
    if (md) {
      auto line = [&](const std::vector<std::string>& r) {
        o << "|";
        for (const auto& x : r) o << " " << x << " |";
        o << "\n";
      };
      line(header);
      o << "|";
      for (size_t i = 0; i < header.size(); ++i) o << (i ? "---:|" : "---|");
      o << "\n";
      for (const auto& r : rows) line(r);
    } else {
      o << "\\begin{tabular}{l" << std::string(header.size() - 1, 'r') << "}\n\\toprule\n";
      auto line = [&](const std::vector<std::string>& r) {
        for (size_t i = 0; i < r.size(); ++i) {
          std::string x = r[i];
          for (size_t p = 0; (p = x.find('_', p)) != std::string::npos; p += 2) x.replace(p, 1, "\\_");
          o << (i ? " & " : "") << x;
        }
        o << " \\\\\n";
      };
      line(header);
      o << "\\midrule\n";
      for (const auto& r : rows) line(r);
      o << "\\bottomrule\n\\end{tabular}\n";
    }
    // Provenance.
    const std::string c = tex ? "% " : "";
    o << "\n" << c << "Cells: test mean ± sample std over seeds (a single seed: the value alone; seeds per cell below); bold: best mean of the column.";
    if (other_protocol) o << " Metrics under the runs' other history protocol (no significance tests: rank files hold their own).";
    if (!baseline.empty())
      o << " (+x%): relative to " << baseline << "; † : paired t-test and Wilcoxon signed-rank over per-user values both p < "
        << alpha << ".";
    o << "\n";
    std::set<std::string> commits;
    for (const auto& r : runs) commits.insert(r.commit);
    for (const auto& d : datasets) {
      const RunRecord* any = cell[d].begin()->second.front();
      o << c << "- " << d << ": protocol " << any->protocol << ", leave-one-out, dataset source hash " << any->dataset_hash << "\n";
      const nlohmann::json& ds = any->doc["dataset"];
      if (ds.contains("users") && ds.contains("test_answer_repeats")) {
        const double users = ds["users"].get<double>(), repeats = ds["test_answer_repeats"].get<double>();
        o << c << "  - " << ds["users"] << " users, " << ds["items"] << " items, " << ds["interactions"]
          << " interactions, mean length " << std::fixed << std::setprecision(2) << ds["interactions"].get<double>() / users
          << "; " << ds["test_answer_repeats"] << " test answers (" << std::setprecision(1) << 100 * repeats / users
          << "%) repeat a history item, which the reference protocol scores 0\n";
      }
      for (const auto& m : methods) {
        auto it = cell[d].find(m);
        if (it == cell[d].end()) continue;
        std::set<std::string> hashes;
        std::string seeds;
        for (const RunRecord* r : it->second) hashes.insert(r->config_hash), seeds += (seeds.empty() ? "" : ",") + std::to_string(r->seed);
        std::string hs;
        for (const auto& h : hashes) hs += (hs.empty() ? "" : " ") + h;
        o << c << "  - " << m << ": seeds " << seeds << "; config hashes " << hs << "\n";
      }
    }
    std::string cs;
    for (const auto& x : commits) cs += (cs.empty() ? "" : ", ") + x;
    o << c << "- seqrec commits: " << cs << "\n";
    for (const auto& l : sig_lines) o << c << "- " << l << "\n";
  }
  if (output.empty()) {
    std::cout << o.str();
  } else {
    write_file_atomically(output, o.str());
    std::cout << "table written to " << output << std::endl;
  }
  return 0;
}

}  // namespace seqrec
