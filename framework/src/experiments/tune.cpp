// seqrec tune TUNE.ini: for every dataset and method, the same number of trials drawn from
// the method's search space, run by successive halving on the validation metric (the test
// set is never evaluated: trials run with --test false), then the chosen config written as an
// ordinary config file that bench can run, and a summary of every trial and the compute spent.
// Trials are ordinary train runs in child processes, each filed as
// {output}/{dataset}/{method}/trial{i}-rung{r}.json: a tune that stopped resumes where it was.
// Each trial is claimed with a lock like bench's runs, so several `seqrec tune` processes
// (--shard i/n, or the same command twice) share a tune file's trials.
#include "seqrec/tune.h"

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "experiments/children.h"
#include "experiments/plan_text.h"
#include "seqrec/bench.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/hash.h"
#include "seqrec/plan.h"
#include "seqrec/run_result.h"
#include "seqrec/signals.h"

namespace fs = std::filesystem;

namespace seqrec {
namespace {

using plan::split;
using plan::substitute;
using plan::trim;

std::string number(double x) {
  std::ostringstream o;
  o << std::setprecision(6) << x;
  return o.str();
}

/// One trial: its drawn values and what each rung it ran gave.
struct Trial {
  std::map<std::string, std::string> values;
  std::map<int64_t, double> score;    ///< rung -> best validation metric
  std::map<int64_t, double> seconds;  ///< rung -> wall time
};

/// The train arguments of a trial at `epochs`, validation only.
std::vector<std::string> trial_args(const TuneSpec& t, const std::string& config, const std::string& method,
                                    const Trial& trial, int64_t epochs, const std::string& output) {
  std::vector<std::string> a = {"train", "--config", config, "--label", method, "--threads", std::to_string(t.threads)};
  for (const auto& [k, v] : t.overrides) a.insert(a.end(), {"--" + k, v});
  for (const auto& [k, v] : trial.values) a.insert(a.end(), {"--" + k, v});
  a.insert(a.end(), {"--epochs", std::to_string(epochs), "--test", "false", "--output", output, "--progress", "lines",
                     "--resume"});
  return a;
}

std::string stem_of(const std::string& output) { return output.substr(0, output.size() - 5); }
/// A trial whose training diverged leaves this marker instead of a result: it ranks last,
/// and a resumed tune does not run it again.
std::string diverged_marker(const std::string& output) { return stem_of(output) + ".diverged"; }
bool trial_done(const std::string& output) { return fs::exists(output) || fs::exists(diverged_marker(output)); }

/// Thrown out of a rung when a stop signal arrived: the trial in flight saved its state.
struct TuneStopped {};

/// Runs a trial's rung unless it is done or another process holds it (its lock, beside it,
/// is `trial{i}-rung{r}.lock`, as bench claims runs). True when the trial is now done.
bool try_trial(const TuneSpec& t, const std::vector<std::string>& args, const std::string& output) {
  if (trial_done(output)) return true;
  const std::string stem = stem_of(output);
  fs::create_directories(fs::path(output).parent_path());
  if (!claim_run(stem + ".lock", [&] { return trial_done(output); })) return trial_done(output);
  Children child;
  child.start(args, stem + ".log", t.threads);
  const int status = child.wait()->status;
  fs::remove(stem + ".lock");
  if (stop_signal()) throw TuneStopped{};
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 3) write_file_atomically(diverged_marker(output), "training diverged; see " + stem + ".log\n");
  if (code != 0 && code != 3) throw Error("tune: trial " + output + " failed; its log is " + stem + ".log");
  return true;
}

/// A method's config file with the tune's overrides and `values` (a trial's) on top.
Config resolved_config(const TuneSpec& t, const std::string& base,
                       const std::map<std::string, std::string>& values = {}) {
  std::vector<std::string> a = {"--config", base};
  for (const auto& [k, v] : t.overrides) a.insert(a.end(), {"--" + k, v});
  for (const auto& [k, v] : values) a.insert(a.end(), {"--" + k, v});
  Config c;
  parse_config(a, &c, nullptr);
  return c;
}

/// Trials are ranked by their validation metric under the test's tie rule (their results'
/// valid_best): a method whose config picks its epochs under the other rule (valid-ties)
/// would be ranked on a metric it did not select on, so tune refuses it before any trial.
void check_trials_rank_as_they_select(const TuneSpec& t, const std::string& base) {
  const Config c = resolved_config(t, base);
  const std::string& rule = c.str("valid-ties");
  if (rule != "same" && rule != c.str("ties"))
    throw Error("tune: " + base + " picks epochs under " + rule + " ties (valid-ties) but tune ranks trials " +
                "under its " + c.str("ties") + " ones; set valid-ties same or ties " + rule + " for tuning");
}

/// The chosen trial as a config file: every key the trial set away from its default.
std::string chosen_config(const TuneSpec& t, const std::string& base, const std::string& method, const Trial& trial,
                          const std::string& summary) {
  const Config c = resolved_config(t, base, trial.values);
  std::ostringstream o;
  o << "# Chosen by seqrec tune for " << method << " (" << summary << "): " << base << " with the trial's values.\n";
  for (const auto& [k, v] : c.values()) {
    const KeySpec* spec = schema().find(k);
    if (k == "config" || !spec || v == spec->default_value || spec->hashing == KeySpec::Hashing::kNever) continue;
    o << k << " = " << v << "\n";
  }
  o << "tuned = " << summary << "\n";
  return o.str();
}

}  // namespace

std::string SearchDimension::draw(std::mt19937_64& rng) const {
  std::uniform_real_distribution<double> u(0, 1);
  switch (kind) {
    case Kind::kChoice: return choices[std::uniform_int_distribution<size_t>(0, choices.size() - 1)(rng)];
    case Kind::kUniform: return number(lo + (hi - lo) * u(rng));
    case Kind::kLogUniform: return number(std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * u(rng)));
  }
  return "";
}

SearchDimension parse_dimension(const std::string& text, const std::string& what) {
  const std::string s = trim(text);
  const size_t space = s.find(' ');
  const std::string kind = s.substr(0, space), rest = space == std::string::npos ? "" : trim(s.substr(space + 1));
  SearchDimension d;
  if (kind == "choice") {
    d.choices = split(rest, ',');
    if (d.choices.empty()) throw Error(what + ": choice needs values, e.g. choice 32, 64, 128");
    return d;
  }
  const std::vector<std::string> ends = split(rest, ' ');
  if ((kind != "uniform" && kind != "loguniform") || ends.size() != 2)
    throw Error(what + ": expected choice a, b, ... | uniform lo hi | loguniform lo hi; got '" + s + "'");
  d.kind = kind == "uniform" ? SearchDimension::Kind::kUniform : SearchDimension::Kind::kLogUniform;
  d.lo = to_real(ends[0], what);
  d.hi = to_real(ends[1], what);
  if (!(d.lo < d.hi) || (kind == "loguniform" && d.lo <= 0)) throw Error(what + ": needs lo < hi (and lo > 0 for loguniform)");
  return d;
}

TuneSpec read_tune_file(const std::string& path) {
  const PlanFile f = read_plan_file(
      path, "tune", [](const std::string& s) { return s == "tune" || s.rfind("space ", 0) == 0; }, "[tune] and [space METHOD]");
  TuneSpec t;
  f.read_plan("tune", {"trials", "max-epochs", "rungs", "eta", "seed"}, &t);
  t.trials = f.integer("trials", t.trials, 1);
  t.max_epochs = f.integer("max-epochs", t.max_epochs, 1);
  t.rungs = f.integer("rungs", t.rungs, 1);
  t.eta = f.integer("eta", t.eta, 2);
  t.seed = static_cast<uint64_t>(f.integer("seed", static_cast<int64_t>(t.seed), 0));
  for (const auto& [section, keys] : f.sections) {
    if (section == "tune") continue;
    const std::string method = trim(section.substr(6));
    for (const auto& [key, line] : keys) {
      if (!schema().find(key)) throw Error(line.where + ": '" + key + "' is not a configuration key (seqrec train --help)");
      t.spaces[method][key] = parse_dimension(line.value, line.where);
      t.space_text[method][key] = line.value;
    }
  }
  for (const auto& m : t.methods)
    if (!t.spaces.count(m)) throw Error(path + ": no [space " + m + "] section: every method needs a search space");
  return t;
}

int64_t rung_epochs(int64_t max_epochs, int64_t eta, int64_t rungs, int64_t r) {
  int64_t e = max_epochs;
  for (int64_t i = r; i < rungs - 1; ++i) e /= eta;
  return std::max<int64_t>(1, e);
}

std::vector<std::vector<int64_t>> successive_halving(int64_t n, int64_t rungs, int64_t eta, const RungRunner& run) {
  std::vector<std::vector<int64_t>> ran;
  std::vector<int64_t> alive(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) alive[static_cast<size_t>(i)] = i;
  for (int64_t r = 0; r < rungs && !alive.empty(); ++r) {
    const std::vector<double> scores = run(r, alive);
    std::vector<std::pair<double, int64_t>> scored;
    for (size_t i = 0; i < alive.size(); ++i) scored.emplace_back(scores.at(i), alive[i]);
    ran.push_back(alive);
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    const size_t keep = static_cast<size_t>((static_cast<int64_t>(scored.size()) + eta - 1) / eta);
    alive.clear();
    for (size_t i = 0; i < keep && r + 1 < rungs; ++i) alive.push_back(scored[i].second);
  }
  return ran;
}

namespace {

/// A method's section of summary.md: its space, every trial's values and scores per rung,
/// the compute spent and the chosen config.
void describe_trials(std::ostream& summary, const TuneSpec& t, const std::string& d, const std::string& m,
                     const std::vector<Trial>& trials, int64_t best, const std::string& chosen, double seconds) {
  summary << "\n## " << d << " / " << m << "\n\nSpace:";
  for (const auto& [k, v] : t.space_text.at(m)) summary << " `" << k << " = " << v << "`";
  summary << "\n\n| trial | values | best valid per rung | seconds |\n|---|---|---|---:|\n";
  for (size_t i = 0; i < trials.size(); ++i) {
    summary << "| " << i << (static_cast<int64_t>(i) == best ? " (chosen)" : "") << " |";
    for (const auto& [k, v] : trials[i].values) summary << " " << k << "=" << v;
    summary << " |";
    for (const auto& [r, s] : trials[i].score) {
      summary << " r" << r << " ";
      if (std::isinf(s)) summary << "diverged";
      else summary << std::fixed << std::setprecision(4) << s;
    }
    double sec = 0;
    for (const auto& [r, s] : trials[i].seconds) sec += s;
    summary << " | " << std::setprecision(0) << sec << " |\n";
  }
  summary << "\nCompute: " << std::setprecision(1) << seconds / 60 << " min over " << trials.size()
          << " trials. Chosen config: `" << chosen << "`.\n";
}

/// search.json beside a method's chosen config: the budget and the choice, for tables.
nlohmann::ordered_json search_json(const TuneSpec& t, const std::string& path, const std::string& summary_path,
                                   const std::string& d, const std::string& m, int64_t rung_runs, double seconds,
                                   int64_t best) {
  nlohmann::ordered_json rungs = nlohmann::ordered_json::array(), space = nlohmann::ordered_json::object();
  for (int64_t r = 0; r < t.rungs; ++r) rungs.push_back(rung_epochs(t.max_epochs, t.eta, t.rungs, r));
  for (const auto& [k, v] : t.space_text.at(m)) space[k] = v;
  return {{"tune_file", path}, {"summary", summary_path}, {"dataset", d}, {"method", m}, {"trials", t.trials},
          {"epochs_per_rung", rungs}, {"eta", t.eta}, {"seed", t.seed}, {"space", space}, {"rung_runs", rung_runs},
          {"compute_seconds", seconds}, {"chosen_trial", best}};
}

/// One method's search on one dataset: where its trials write, and which share of them this
/// process runs first.
struct MethodSearch {
  const TuneSpec& t;
  std::string dataset, method, base;  ///< base: the method's config on the dataset
  fs::path dir;
  int64_t shard, shards;
};

/// Rung r of `ids`: this shard's trials first, then any left unclaimed (a shard that died or
/// never started), then waits for those other processes hold; returns every trial's score
/// (a diverged trial ranks below every trial that trained).
std::vector<double> run_rung(const MethodSearch& s, std::vector<Trial>& trials, int64_t r,
                             const std::vector<int64_t>& ids, std::ostream& log) {
  const TuneSpec& t = s.t;
  const int64_t epochs = rung_epochs(t.max_epochs, t.eta, t.rungs, r);
  auto out = [&](int64_t i) { return (s.dir / ("trial" + std::to_string(i) + "-rung" + std::to_string(r) + ".json")).string(); };
  auto args_of = [&](int64_t i) { return trial_args(t, s.base, s.method, trials[static_cast<size_t>(i)], epochs, out(i)); };
  for (size_t k = 0; k < ids.size(); ++k)
    if (static_cast<int64_t>(k) % s.shards == s.shard) try_trial(t, args_of(ids[k]), out(ids[k]));
  for (bool all = false; !all;) {
    all = true;
    for (int64_t i : ids) all = try_trial(t, args_of(i), out(i)) && all;
    if (!all) std::this_thread::sleep_for(std::chrono::seconds(5));
    if (stop_signal()) throw TuneStopped{};
  }
  std::vector<double> scores;
  for (int64_t i : ids) {
    Trial& trial = trials[static_cast<size_t>(i)];
    const std::string what = s.dataset + " " + s.method + " trial " + std::to_string(i) + " rung " + std::to_string(r);
    if (!fs::exists(out(i))) {
      trial.score[r] = -HUGE_VAL;
      scores.push_back(trial.score[r]);
      log << what << ": diverged" << std::endl;
      continue;
    }
    const RunResult res = read_run_result(out(i));
    trial.score[r] = metric_value(res.valid_best, res.config.at("metric"));
    trial.seconds[r] = res.timing.total_seconds;
    scores.push_back(trial.score[r]);
    log << what << " (" << epochs << " epochs): valid " << res.config.at("metric") << " " << std::fixed
        << std::setprecision(4) << trial.score[r] << ", " << std::setprecision(0) << trial.seconds[r] << " s" << std::endl;
  }
  return scores;
}

/// Searches one method on one dataset: draws its trials, runs the rungs, writes chosen.ini
/// and search.json beside them, and adds its part to the summary.
void tune_method(const MethodSearch& s, const std::string& path, const std::string& summary_path,
                 std::ostream& summary, std::ostream& log) {
  const TuneSpec& t = s.t;
  // The trials' values: one stream per (seed, dataset, method), drawn in key order.
  std::mt19937_64 rng(t.seed * 1000003ULL + fnv1a(s.dataset + "/" + s.method));
  std::vector<Trial> trials(static_cast<size_t>(t.trials));
  for (Trial& trial : trials)
    for (const auto& [key, dim] : t.spaces.at(s.method)) trial.values[key] = dim.draw(rng);
  const std::vector<std::vector<int64_t>> ran = successive_halving(
      t.trials, t.rungs, t.eta, [&](int64_t r, const std::vector<int64_t>& ids) { return run_rung(s, trials, r, ids, log); });
  const int64_t last = static_cast<int64_t>(ran.size()) - 1;
  int64_t best = ran[last].front();
  for (int64_t i : ran[last])
    if (trials[static_cast<size_t>(i)].score[last] > trials[static_cast<size_t>(best)].score[last]) best = i;
  if (std::isinf(trials[static_cast<size_t>(best)].score[last]))
    throw Error("tune: every trial of " + s.method + " on " + s.dataset + " diverged at rung " + std::to_string(last) +
                " (markers in " + s.dir.string() + "); narrow the space, e.g. lower learning rates");
  const std::string chosen = (s.dir / "chosen.ini").string();
  write_file_atomically(chosen, chosen_config(t, s.base, s.method, trials[static_cast<size_t>(best)], summary_path));
  double seconds = 0;
  for (const Trial& trial : trials)
    for (const auto& [r, sec] : trial.seconds) seconds += sec;
  describe_trials(summary, t, s.dataset, s.method, trials, best, chosen, seconds);
  // The same facts for tables: `table` finds this file beside the chosen config its runs name.
  int64_t rung_runs = 0;
  for (const auto& ids : ran) rung_runs += static_cast<int64_t>(ids.size());
  write_file_atomically((s.dir / "search.json").string(),
                        search_json(t, path, summary_path, s.dataset, s.method, rung_runs, seconds, best).dump(2) + "\n");
}

int tune_all(const std::string& path, int64_t shard, int64_t shards, std::ostream& log) {
  const TuneSpec t = read_tune_file(path);
  const std::string summary_path = (fs::path(t.output) / "summary.md").string();
  std::ostringstream summary;
  summary << "# seqrec tune " << path << "\n\nBudget, the same for every method: " << t.trials << " trials, "
          << t.rungs << " rung(s) of successive halving (eta " << t.eta << ", epochs per rung";
  for (int64_t r = 0; r < t.rungs; ++r) summary << " " << rung_epochs(t.max_epochs, t.eta, t.rungs, r);
  summary << "), seed " << t.seed << "; selection on the validation metric only (trials run with --test false).\n";
  std::vector<std::array<std::string, 3>> searches;  // dataset, method, config: every one checked before any trial
  for (const auto& d : t.datasets)
    for (const auto& m : t.methods) {
      const std::string base = substitute(t.config_pattern, d, m);
      if (!fs::exists(base)) throw Error(base + ": no such config (tune method " + m + " on " + d + ")");
      check_trials_rank_as_they_select(t, base);
      searches.push_back({d, m, base});
    }
  for (const auto& [d, m, base] : searches)
    tune_method({t, d, m, base, fs::path(t.output) / d / m, shard, shards}, path, summary_path, summary, log);
  write_file_atomically(summary_path, summary.str());
  log << "tune summary written to " << summary_path << std::endl;
  return 0;
}

}  // namespace

int run_tune(const std::string& path, int64_t shard, int64_t shards, std::ostream& log) {
  StopSignals stop_signals;
  try {
    return tune_all(path, shard, shards, log);
  } catch (const TuneStopped&) {
    log << "tune: stopped by " << stop_signal_name(stop_signal()) << "; run the same tune command to resume" << std::endl;
    return 128 + stop_signal();
  }
}

}  // namespace seqrec
