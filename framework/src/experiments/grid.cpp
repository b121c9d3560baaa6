// seqrec bench GRID.ini [--dry-run] [--shard i/n]: runs a grid of (dataset, method, seed)
// trainings as child processes, skipping those whose result file exists, so a re-run
// resumes a grid after a crash or Ctrl-C. Results are written atomically by each child.
// Each run is claimed with a lock file beside its result, so two bench processes on one
// grid share its runs instead of training the same one twice.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "experiments/children.h"
#include "experiments/plan_text.h"
#include "report/run_checks.h"
#include "report/runs.h"
#include "seqrec/bench.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/plan.h"
#include "seqrec/run_result.h"
#include "seqrec/signals.h"
#include "train/state.h"

namespace fs = std::filesystem;

namespace seqrec {
namespace {

using plan::split;
using plan::substitute;
using plan::trim;

/// The train command line of a run (without the program name).
std::vector<std::string> train_args(const Grid& g, const GridRun& r) {
  std::vector<std::string> a = {"train", "--config", r.config, "--seed", std::to_string(r.seed), "--label",
                                substitute(g.label_pattern, r.dataset, r.method),
                                "--threads", std::to_string(g.threads)};
  for (const auto& [k, v] : g.overrides) a.insert(a.end(), {"--" + k, v});
  return a;
}

std::string stem_of(const GridRun& r) { return r.output.substr(0, r.output.size() - 5); }
std::string lock_of(const GridRun& r) { return stem_of(r) + ".lock"; }
/// Where a stopped run's training state lies (train's `state_path_of` for the run's output).
std::string state_of(const GridRun& r) { return r.output + ".state"; }

/// A result found under a run's hash must have been made with the run's config: a hash
/// names the keys set away from their defaults, so a changed default would otherwise pass
/// an old result off as the new run's. One-line Error naming the keys that differ.
void check_filed(const GridRun& r, const Config& c) {
  const std::string differing = c.differing_keys(read_run_result(r.output).config);
  if (!differing.empty())
    throw Error(r.output + ": filed under this run's hash but made with other values of " + differing +
                " (a default changed since?); move it away to rerun the run");
}

}  // namespace

pid_t spawn_seqrec(const std::vector<std::string>& args, const std::string& log_path, int64_t blas_threads) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  const pid_t pid = fork();
  if (pid < 0) throw Error("fork failed");
  if (pid == 0) {
    // Appended: a resumed run's log keeps the epochs before its interruption.
    std::FILE* log = std::freopen(log_path.c_str(), "a", stdout);
    if (!log || dup2(fileno(stdout), STDERR_FILENO) < 0) _exit(127);
    if (blas_threads > 0) setenv("OPENBLAS_NUM_THREADS", std::to_string(blas_threads).c_str(), 1);
    std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
    for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

Grid read_grid(const std::string& path) {
  const PlanFile f = read_plan_file(path, "grid", [](const std::string& s) { return s == "grid"; }, "[grid]");
  Grid g;
  f.read_plan("grid", {"seeds", "parallel", "ranks", "label", "order"}, &g);
  for (const auto& s : split(f.main("seeds", "1"), ',')) g.seeds.push_back(to_integer(s, path + ": seeds"));
  g.parallel = f.integer("parallel", 1, 1);
  g.ranks = f.integer("ranks", 1, 1);
  g.label_pattern = f.main("label", g.label_pattern);
  const std::string order = f.main("order", "methods");
  if (order != "methods" && order != "seeds")
    throw Error(path + ": order = " + order +
                ": expected methods (every seed of a method first) or seeds (seed 1 of every method first)");
  g.seeds_first = order == "seeds";
  return g;
}

std::vector<GridRun> plan_grid(const Grid& g) {
  std::vector<GridRun> runs;
  const auto add = [&](const std::string& d, const std::string& m, int64_t seed) {
    GridRun r{d, m, substitute(g.config_pattern, d, m), seed, "", ""};
    if (!fs::exists(r.config)) throw Error(r.config + ": no such config (grid method " + m + " on " + d + ")");
    std::vector<std::string> a = train_args(g, r);
    Config c;
    std::string help;
    parse_config(std::vector<std::string>(a.begin() + 1, a.end()), &c, &help);
    r.hash = c.hash();
    r.output = (fs::path(g.output) / d / m / ("seed" + std::to_string(seed) + "-" + r.hash + ".json")).string();
    if (fs::exists(r.output)) check_filed(r, c);
    runs.push_back(r);
  };
  for (const auto& d : g.datasets)
    if (g.seeds_first)
      for (int64_t seed : g.seeds)
        for (const auto& m : g.methods) add(d, m, seed);
    else
      for (const auto& m : g.methods)
        for (int64_t seed : g.seeds) add(d, m, seed);
  return runs;
}

namespace {

/// "42 s", "17 min", "3 h 05 min": a duration as a person reads it in a progress line.
std::string span_text(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(seconds));
  std::ostringstream o;
  if (s < 90)
    o << s << " s";
  else if (s < 90 * 60)
    o << (s + 30) / 60 << " min";
  else
    o << (s + 30) / 3600 << " h " << std::setw(2) << std::setfill('0') << (s + 30) % 3600 / 60 << " min";
  return o.str();
}

/// "resumes at epoch 7 of 300, step 12; best valid ndcg@20 0.0416 at epoch 5; 3 h 05 min
/// trained, 2 resumes so far": where an unfinished run's state will continue it.
std::string state_text(const std::string& path) {
  try {
    const StateProgress p = read_state_progress(path);
    std::ostringstream o;
    o << "resumes at epoch " << p.epoch << " of " << p.epochs << ", step " << p.next_batch + 1;
    if (p.best_epoch > 0)
      o << "; best valid " << p.metric << " " << std::fixed << std::setprecision(4) << p.best_valid << " at epoch " << p.best_epoch;
    o << "; " << span_text(p.seconds) << " trained";
    if (p.resumes > 0) o << ", " << p.resumes << (p.resumes == 1 ? " resume" : " resumes") << " so far";
    return o.str();
  } catch (const Error& e) {
    return e.what();
  }
}

/// A finished run's time over all its sessions, from its result (this session's `seconds` if
/// the result cannot be read: a progress line must not stop the grid).
struct RunTimes {
  double total;
  int64_t resumes;
};
RunTimes run_times(const std::string& result, double seconds) {
  try {
    const RunResult r = read_run_result(result);
    return {r.timing.total_seconds, r.resumes.value_or(0)};
  } catch (const std::exception&) {
    return {seconds, 0};
  }
}

/// The second line of bench and --dry-run: the time the finished runs took and about what the
/// others need. An unfinished run counts at the mean time of its method's finished runs on its dataset,
/// less what its training state has trained; runs of a method with none finished are named,
/// not guessed.
std::string time_text(const std::vector<GridRun>& runs, int64_t parallel) {
  std::map<std::pair<std::string, std::string>, std::pair<double, int64_t>> took;  // sum, runs
  std::set<std::string> datasets;
  double spent = 0;
  int64_t finished = 0;
  for (const GridRun& r : runs) {
    datasets.insert(r.dataset);
    if (!fs::exists(r.output)) continue;
    try {
      const double t = read_run_result(r.output).timing.total_seconds;
      auto& [sum, n] = took[{r.dataset, r.method}];
      sum += t;
      ++n;
      spent += t;
      ++finished;
    } catch (const std::exception&) {  // an unreadable result is left out of the means
    }
  }
  double left = 0;
  int64_t estimated = 0, unknown = 0;
  std::vector<std::string> unknown_methods;
  for (const GridRun& r : runs) {
    if (fs::exists(r.output)) continue;
    const auto it = took.find({r.dataset, r.method});
    if (it == took.end()) {
      const std::string name = datasets.size() > 1 ? r.dataset + " " + r.method : r.method;
      if (std::find(unknown_methods.begin(), unknown_methods.end(), name) == unknown_methods.end())
        unknown_methods.push_back(name);
      ++unknown;
      continue;
    }
    double trained = 0;
    try {
      if (fs::exists(state_of(r))) trained = read_state_progress(state_of(r)).seconds;
    } catch (const Error&) {  // --dry-run's line for the run says why the state cannot be read
    }
    left += std::max(0.0, it->second.first / static_cast<double>(it->second.second) - trained);
    ++estimated;
  }
  std::ostringstream o;
  o << "time: " << span_text(spent) << " in " << finished << " finished run" << (finished == 1 ? "" : "s");
  if (estimated > 0) {
    o << "; to go: about " << span_text(left / static_cast<double>(parallel)) << " for " << estimated << " run"
      << (estimated == 1 ? "" : "s") << " (at the mean time of their method's finished runs, less what their states "
      << "have trained, " << parallel << " at a time)";
  }
  if (unknown > 0) {
    o << "; " << unknown << " run" << (unknown == 1 ? "" : "s") << " of methods with no finished run: ";
    for (size_t i = 0; i < unknown_methods.size(); ++i) o << (i ? ", " : "") << unknown_methods[i];
  }
  return o.str();
}

/// Runs a shard's unfinished runs, `parallel` at a time, as child processes: claim (a lock
/// beside the result), launch (fork/exec `seqrec train ... --resume`, its log appended),
/// reap (the result file decides success). A stop signal is forwarded to the children,
/// which write their training states; the next bench resumes them.
class Scheduler {
 public:
  Scheduler(const Grid& g, int64_t done, int64_t mine, std::ostream& log) : g_(g), log_(log), done_(done), mine_(mine) {}
  int run(const std::vector<GridRun>& todo, const std::string& grid_path);

 private:
  using clock = std::chrono::steady_clock;
  /// Claims `r` unless it finished or another process holds it (then says so and counts it).
  bool claim(const GridRun& r);
  void launch(const GridRun& r);
  /// Waits for one run to end and reports it; false when none is left. A stop signal
  /// reaches every run in flight, each of which writes its training state.
  bool reap(size_t left);
  /// Prints what run_checks.h finds for a finished run; a failed check stops nothing.
  void check(const GridRun& r);

  const Grid& g_;
  std::ostream& log_;
  Children children_;
  std::map<pid_t, std::pair<GridRun, clock::time_point>> running_;
  std::vector<std::string> elsewhere_;  // outputs of runs left to another process
  std::vector<std::string> flagged_;    // runs that may have learned nothing
  RankCache ranks_;                     // popularity recomputed once per dataset, not per run
  int64_t done_, mine_, finished_ = 0, failed_ = 0;
  double run_seconds_ = 0;
};

bool Scheduler::claim(const GridRun& r) {
  fs::create_directories(fs::path(r.output).parent_path());
  // Another bench on this grid may have finished or started this run since the plan
  // (checked again after the claim: it may have finished in between).
  if (claim_run(lock_of(r), [&] { return fs::exists(r.output); })) return true;
  const bool ended = fs::exists(r.output);
  if (ended) ++done_;
  else elsewhere_.push_back(r.output);
  log_ << "skip  " << r.dataset << " " << r.method << " seed " << r.seed
            << (ended ? ": finished by another process" : ": running in another process (" + lock_of(r) + ")") << std::endl;
  return false;
}

void Scheduler::launch(const GridRun& r) {
  const std::string stem = stem_of(r);
  std::vector<std::string> a = train_args(g_, r);
  // --resume: a run that was interrupted (killed, preempted) continues from its state.
  a.insert(a.end(), {"--output", r.output, "--ranks", stem + ".ranks.h5", "--progress", "lines", "--resume"});
  // ranks = N: the run as a data-parallel job of N processes (seqrec launch).
  if (g_.ranks > 1) a.insert(a.begin(), {"launch", "-n", std::to_string(g_.ranks), "--"});
  const std::string state = fs::exists(state_of(r)) ? "; " + state_text(state_of(r)) : "";
  const pid_t pid = children_.start(a, stem + ".log", g_.threads);
  running_[pid] = {r, clock::now()};
  log_ << "start " << r.dataset << " " << r.method << " seed " << r.seed << " -> " << stem << ".log" << state << std::endl;
}

void Scheduler::check(const GridRun& r) {
  try {
    const std::vector<RunRecord> runs = read_runs({(fs::path(r.output).parent_path().parent_path()).string()});
    for (const RunRecord& x : runs) {
      if (!fs::equivalent(x.path, r.output)) continue;
      const std::optional<RunCheck> c = check_run(x, popularity_run_in(runs, x), ranks_);
      if (c && !c->text().empty()) log_ << "      " << c->text() << std::endl;
      if (c && c->flagged()) flagged_.push_back(r.dataset + " " + r.method + " seed " + std::to_string(r.seed));
    }
  } catch (const std::exception& e) {
    log_ << "      no run check: " << e.what() << std::endl;
  }
}

bool Scheduler::reap(size_t left) {
  // Preemption: every run in flight finishes its step, writes its training state and exits;
  // no new run starts. The next bench on this grid resumes them.
  const std::optional<Children::Exit> exit = children_.wait([&](size_t n) {
    log_ << "bench: signal " << stop_signal() << " (" << strsignal(stop_signal()) << "): stopping " << n
         << " run(s) in flight (each writes its training state)" << std::endl;
  });
  if (!exit) return false;
  const int status = exit->status;
  auto it = running_.find(exit->pid);
  const GridRun r = it->second.first;
  const double secs = std::chrono::duration<double>(clock::now() - it->second.second).count();
  running_.erase(it);
  fs::remove(lock_of(r));
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(r.output);
  if (stop_signal() && !ok) {
    log_ << "stopped " << r.dataset << " " << r.method << " seed " << r.seed << " (state: " << r.output << ".state)"
              << std::endl;
    return true;
  }
  ok ? ++finished_ : ++failed_;
  // A resumed run's earlier sessions count toward the ETA: its result has the whole run's time.
  const RunTimes times = ok ? run_times(r.output, secs) : RunTimes{secs, 0};
  run_seconds_ += times.total;
  const int64_t remaining = static_cast<int64_t>(left + running_.size());
  const double eta = run_seconds_ / (finished_ + failed_) * remaining / g_.parallel;
  log_ << (ok ? "done  " : "FAILED ") << r.dataset << " " << r.method << " seed " << r.seed << " in "
            << span_text(secs);
  if (times.resumes > 0)
    log_ << " (" << span_text(times.total) << " in all, " << times.resumes
              << (times.resumes == 1 ? " resume)" : " resumes)");
  log_ << "  [" << done_ + finished_ << "/" << mine_ << " finished, " << failed_ << " failed, ETA "
            << span_text(eta) << "]" << std::endl;
  if (ok) check(r);
  return true;
}

int Scheduler::run(const std::vector<GridRun>& todo, const std::string& grid_path) {
  StopSignals stop_signals;
  const auto t0 = clock::now();
  size_t next = 0;
  while (next < todo.size() || !running_.empty()) {
    if (stop_signal()) next = todo.size();  // no new run after a stop signal
    while (next < todo.size() && static_cast<int64_t>(running_.size()) < g_.parallel) {
      const GridRun& r = todo[next++];
      if (claim(r)) launch(r);
    }
    if (!reap(todo.size() - next)) break;
  }
  if (stop_signal()) {
    log_ << "bench: stopped by signal " << stop_signal() << " (" << strsignal(stop_signal())
              << "); run the same bench command to resume" << std::endl;
    return 128 + stop_signal();
  }
  int64_t still_running = 0;  // the others have finished meanwhile
  for (const auto& out : elsewhere_) fs::exists(out) ? ++done_ : ++still_running;
  log_ << "grid " << grid_path << ": " << done_ + finished_ << "/" << mine_ << " finished, " << failed_ << " failed, ";
  if (still_running) log_ << still_running << " left to another process, ";
  log_ << std::fixed << std::setprecision(0) << std::chrono::duration<double>(clock::now() - t0).count() << " s"
            << std::endl;
  if (!flagged_.empty()) {
    log_ << flagged_.size() << " run(s) may have learned nothing (seqrec table lists why):";
    for (const std::string& f : flagged_) log_ << "\n  " << f;
    log_ << std::endl;
  }
  return failed_ ? 1 : 0;
}

}  // namespace

int run_bench(const std::string& grid_path, bool dry, int64_t shard, int64_t shards, std::ostream& log) {
  const Grid g = read_grid(grid_path);
  const std::vector<GridRun> all = plan_grid(g);
  std::vector<GridRun> mine, todo;
  int64_t done = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (static_cast<int64_t>(i) % shards != shard) continue;
    mine.push_back(all[i]);
    if (fs::exists(all[i].output)) ++done;
    else todo.push_back(all[i]);
  }
  // A stopped run goes on before any run starts anew, so that its partial work lands first.
  std::stable_partition(todo.begin(), todo.end(), [](const GridRun& r) { return fs::exists(state_of(r)); });
  log << "grid " << grid_path << ": " << all.size() << " runs";
  if (shards > 1) log << ", shard " << shard << "/" << shards << " has " << mine.size();
  log << "; " << done << " finished, " << todo.size() << " to run" << std::endl;
  log << time_text(mine, g.parallel) << std::endl;
  if (dry) {
    for (const GridRun& r : mine) {
      const bool done = fs::exists(r.output);
      const char* state = done ? "  done  " : lock_held(lock_of(r)) ? "  busy  " : "  todo  ";
      log << state << r.dataset << " " << r.method << " seed " << r.seed << " [" << r.hash << "] " << r.output;
      if (!done && fs::exists(state_of(r))) log << "; " << state_text(state_of(r));
      log << std::endl;
    }
    return 0;
  }
  return Scheduler(g, done, static_cast<int64_t>(mine.size()), log).run(todo, grid_path);
}

}  // namespace seqrec
