#pragma once
/// Ranking metrics: each a per-user value of the 0-based rank of the user's held-out item.
/// The evaluator's means (metrics_from_ranks), result files and `table`'s per-user values
/// (its paired tests) all come from this one registry. A new metric is one file with one
/// register_metric call (CONTRIBUTING.md, "A metric").
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace seqrec {

struct Metric {
  /// The user's value; `k` is the cut-off of NAME@k metrics (0 for the others).
  double (*value)(int64_t rank, int64_t k);
  bool at_k;  ///< reported as NAME@k for every k of --ks, else as NAME
  std::string help;
  std::string origin = "builtin";
};

/// Adds a metric (after hit, ndcg and mrr, which are built in); a name taken already is an
/// Error naming both origins.
void register_metric(const std::string& name, Metric metric);
/// Every metric, in registration order (the order results list them in).
const std::vector<std::pair<std::string, Metric>>& metrics();
/// The names reported for `ks`: for each k the @k metrics, then the others ("hit@5",
/// "ndcg@5", ..., "mrr").
std::vector<std::string> metric_names(const std::vector<int64_t>& ks);
/// A reported metric name ("ndcg@10", "mrr") resolved once: its per-user value at a 0-based
/// rank is user_metric(name)(rank).
struct UserMetric {
  double (*value)(int64_t rank, int64_t k);
  int64_t k;
  double operator()(int64_t rank) const { return value(rank, k); }
};
/// An Error naming the registered metrics for a name none of them reports.
UserMetric user_metric(const std::string& name);

}  // namespace seqrec
