#pragma once
// Signs that a trained run learned nothing, for bench, table and report: its test ranking
// indistinguishable from popularity's (or worse), the flag; and, a weaker sign noted beside
// it, its best validation inside the first patience window. The second alone flags nothing:
// a run that converges quickly (SASRec with full cross-entropy, patience 40) has it too.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/runs.h"
#include "seqrec/evaluator.h"
#include "seqrec/stats.h"

namespace seqrec {

/// What the checks found for one trained run. Nothing is checked for untrained runs.
struct RunCheck {
  std::string path;   ///< the run's result file
  std::string dataset, method;
  int64_t seed = 0;
  std::string metric; ///< the per-user metric of the popularity test (ndcg@10, else the first NDCG)
  /// Best validation within the first patience window (patience x eval-every epochs): no later
  /// epoch improved on what training found that early.
  bool early_best = false;
  int64_t best_epoch = 0, window = 0;
  /// Paired tests of the run's per-user metric against popularity's, on the same test users.
  std::optional<PairedTest> vs_popularity;
  std::string popularity;  ///< the popularity run's result file, or "" when computed from the run's data
  bool like_popularity = false;   ///< neither test rejects at alpha: indistinguishable
  bool below_popularity = false;  ///< both reject and the run is worse
  std::string unchecked;          ///< why popularity could not be recomputed (its data unreadable)
  bool flagged() const { return like_popularity || below_popularity; }
  /// One line naming what was found ("" when nothing was): "learned nothing? ..." when flagged.
  std::string text() const;
};

/// A popularity run in `runs` with a rank file, on `r`'s dataset version and protocol, or null.
const RunRecord* popularity_run_in(const std::vector<RunRecord>& runs, const RunRecord& r);

/// The test ranks popularity gets on the data, split and protocol a result recorded, counted
/// from that data's training part (as `--model pop` would); the dataset is read through the cache.
EvalResult popularity_test_ranks(const RunResult& r);

/// Test ranks read or computed once per table, report or bench: rank files by path, and
/// popularity's ranks recomputed from a run's data by dataset version and protocol.
class RankCache {
 public:
  const EvalResult& file(const std::string& path);
  /// popularity_test_ranks of `r` (throws as it does when the data is unreadable).
  const EvalResult& popularity(const RunRecord& r);

 private:
  std::map<std::string, EvalResult> files_, popularity_;
};

/// Checks a trained run against popularity: the `popularity` run's ranks, or with none,
/// popularity_test_ranks of the run's data. None for a run without training or without a rank
/// file.
std::optional<RunCheck> check_run(const RunRecord& r, const RunRecord* popularity, RankCache& ranks, double alpha = 0.05);

/// check_run for each trained run of `runs`, against a popularity run among them where there
/// is one; only the runs something was found for (flag or early best), or whose popularity test
/// could not run.
std::vector<RunCheck> flagged_runs(const std::vector<RunRecord>& runs, RankCache& ranks, double alpha = 0.05);

}  // namespace seqrec
