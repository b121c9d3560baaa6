#pragma once
/// Ranking metrics: each a per-user value of the 0-based rank of the user's held-out item.
/// The evaluator's means (metrics_from_ranks), result files and `table`'s per-user values
/// (its paired tests) all come from this one registry. A new metric is one file adding to
/// PluginHost::metrics (CONTRIBUTING.md, "A metric").
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/value_registry.h"

namespace seqrec {

struct Metric {
  /// The user's value; `k` is the cut-off of NAME@k metrics (0 for the others).
  double (*value)(int64_t rank, int64_t k);
  bool at_k;  ///< reported as NAME@k for every k of --ks, else as NAME
  std::string help;
  std::string origin = "builtin";
};

class MetricRegistry : public ValueRegistry<Metric> {
 public:
  MetricRegistry() : ValueRegistry("metric") {}
  /// Adds `name`, refusing also a name that is empty or holds '@' (results report NAME@k).
  void add(const std::string& name, Metric metric);
};
/// Every metric in registration order (the order results list them in): hit, ndcg and mrr
/// built in, then the plugins'.
MetricRegistry& metrics();
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
