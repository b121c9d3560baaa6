#include "report/run_checks.h"

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "report/text.h"
#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/experiment.h"
#include "seqrec/metric.h"
#include "seqrec/registry.h"

namespace fs = std::filesystem;

namespace seqrec {
namespace {

bool trained(const RunResult& r) { return r.epochs_run > 0; }
bool is_popularity(const RunResult& r) { return r.model == "pop" && !trained(r); }

/// The metric the popularity test compares: ndcg@10 where the run reports it, else its first NDCG.
std::string check_metric(const RunResult& r) {
  std::string first;
  for (const auto& [name, value] : r.test) {
    if (name == "ndcg@10") return name;
    if (first.empty() && name.rfind("ndcg@", 0) == 0) first = name;
  }
  if (first.empty()) throw Error("run checks: no NDCG in the test metrics of a " + r.model + " run");
  return first;
}

}  // namespace

std::string RunCheck::text() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  const std::string against = popularity.empty() ? "popularity counted from its training data" : "popularity (" + popularity + ")";
  if (vs_popularity) {
    const PairedTest& t = *vs_popularity;
    const std::string numbers = " (" + metric + " mean diff " + fixed(t.mean_diff, 5) + " over " + std::to_string(t.n) +
                                " users, " + std::to_string(t.nonzero) + " differ; paired t p = " + fixed(t.t_p, 4) +
                                ", Wilcoxon p = " + fixed(t.w_p, 4) + ")";
    if (like_popularity) add("test ranking indistinguishable from " + against + numbers);
    if (below_popularity) add("test ranking worse than " + against + numbers);
  }
  if (!unchecked.empty()) add("no popularity test: " + unchecked);
  if (early_best)
    add("best validation at epoch " + std::to_string(best_epoch) + ", inside the first patience window (" +
        std::to_string(window) + (window == 1 ? " epoch)" : " epochs)"));
  return flagged() ? "learned nothing? " + out : out;
}

const RunRecord* popularity_run_in(const std::vector<RunRecord>& runs, const RunRecord& r) {
  for (const RunRecord& p : runs)
    if (is_popularity(p.result) && p.dataset_hash == r.dataset_hash && p.dataset == r.dataset &&
        p.result.protocol.label == r.result.protocol.label && !p.ranks.empty() && fs::exists(p.ranks))
      return &p;
  return nullptr;
}

EvalResult popularity_test_ranks(const RunResult& r) {
  register_builtins();  // the keys and the pop model, when no command registered them
  Config c(schema());
  for (const auto& [key, value] : r.config)
    if (schema().find(key) && key != "config") c.set(key, value, "result");
  c.set("model", "pop", "run check");
  const LoadedData l = load_data(data_options_from(c));
  std::shared_ptr<Model> pop = models().create("model", "pop", ModelContext{c, l.data});
  return RankingEvaluator(eval_options_from(c)).evaluate(*pop, l.data, make_eval_set(l.data, Stage::kTest));
}

const EvalResult& RankCache::file(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) it = files_.emplace(path, load_ranks(path)).first;
  return it->second;
}

const EvalResult& RankCache::popularity(const RunRecord& r) {
  const std::string key = r.dataset_hash + " " + r.result.protocol.label;
  auto it = popularity_.find(key);
  if (it == popularity_.end()) it = popularity_.emplace(key, popularity_test_ranks(r.result)).first;
  return it->second;
}

std::optional<RunCheck> check_run(const RunRecord& r, const RunRecord* popularity, RankCache& ranks, double alpha) {
  if (!trained(r.result) || r.ranks.empty() || !fs::exists(r.ranks)) return std::nullopt;
  RunCheck c;
  c.path = r.path;
  c.dataset = r.dataset;
  c.method = r.method;
  c.seed = r.seed;
  c.metric = check_metric(r.result);
  c.best_epoch = r.result.best_epoch;
  auto integer = [&](const char* key, int64_t fallback) {
    auto it = r.result.config.find(key);
    return it == r.result.config.end() ? fallback : std::stoll(it->second);
  };
  c.window = integer("patience", 0) * std::max<int64_t>(1, integer("eval-every", 1));
  c.early_best = c.window > 0 && c.best_epoch <= c.window && r.result.epochs_run > c.window;

  const EvalResult& mine = ranks.file(r.ranks);
  const EvalResult* pop = nullptr;
  if (popularity) {
    pop = &ranks.file(popularity->ranks);
    c.popularity = popularity->path;
  } else {
    try {
      pop = &ranks.popularity(r);
    } catch (const std::exception& e) {  // the data moved or went: say so, check the rest
      c.unchecked = e.what();
      return c;
    }
  }
  std::map<int64_t, int64_t> pop_rank;
  for (size_t i = 0; i < pop->users.size(); ++i) pop_rank[pop->users[i]] = pop->ranks[i];
  const UserMetric value = user_metric(c.metric);
  std::vector<double> a, b;
  for (size_t i = 0; i < mine.users.size(); ++i) {
    auto it = pop_rank.find(mine.users[i]);
    if (it == pop_rank.end()) throw Error(r.path + ": its test users are not popularity's (" + c.popularity + ")");
    a.push_back(value(mine.ranks[i]));
    b.push_back(value(it->second));
  }
  if (a.size() < 2) return c;
  const PairedTest& t = c.vs_popularity.emplace(paired_tests(a, b));
  const bool rejects = t.t_p < alpha && t.w_p < alpha;
  c.like_popularity = !rejects;
  c.below_popularity = rejects && t.mean_diff < 0;
  return c;
}

std::vector<RunCheck> flagged_runs(const std::vector<RunRecord>& runs, RankCache& ranks, double alpha) {
  std::vector<RunCheck> out;
  for (const RunRecord& r : runs)
    if (auto c = check_run(r, popularity_run_in(runs, r), ranks, alpha); c && (c->flagged() || c->early_best || !c->unchecked.empty()))
      out.push_back(*c);
  return out;
}

}  // namespace seqrec
