// The evaluation split: leave-one-out (the papers') or global temporal cut points.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/error.h"

namespace seqrec {

int64_t train_length(const Dataset& d, int64_t u) {
  if (d.split.empty()) return std::max<int64_t>(0, d.length(u) - 2);
  return d.split.train_len[u];
}

EvalExample eval_example(const Dataset& d, int64_t u, Stage stage) {
  if (d.split.empty()) {
    const int64_t n = d.length(u), at = stage == Stage::kValid ? n - 2 : n - 1;
    return at >= 1 ? EvalExample{at, at} : EvalExample{};
  }
  const bool valid = stage == Stage::kValid;
  const int64_t at = valid ? d.split.valid_at[u] : d.split.test_at[u];
  const int64_t history = at < 0 ? 0 : valid ? at : d.split.test_history[u];
  return history >= 1 ? EvalExample{history, at} : EvalExample{};
}

namespace {

/// A cut given as "qF" (a quantile of every interaction's time) or as a timestamp.
double resolve_cut(const std::string& spec, const std::vector<double>& sorted_times, const std::string& key) {
  if (!spec.empty() && spec[0] == 'q') {
    const double q = to_real(spec.substr(1), key);
    if (!(q > 0 && q < 1)) throw Error(key + " " + spec + ": a quantile must lie strictly between 0 and 1");
    // The q-quantile: the time below which a share q of the interactions lie.
    const size_t i = std::min(sorted_times.size() - 1, static_cast<size_t>(std::floor(q * sorted_times.size())));
    return sorted_times[i];
  }
  return to_real(spec, key + " (a timestamp, or qF for a time quantile)");
}

}  // namespace

SplitSummary make_split(Dataset& d, const SplitOptions& o) {
  SplitSummary s;
  s.kind = o.kind;
  d.split = Split{};
  if (o.kind != "loo" && o.kind != "temporal") throw Error("--split " + o.kind + ": expected loo or temporal");
  if (o.kind == "temporal") {
    if (d.timestamps.empty())
      throw Error("--split temporal needs timestamps, and " + d.name +
                  " has none (the lines format carries no time: use an .inter, csv or ratings.dat source)");
    std::vector<double> sorted = d.timestamps;
    std::sort(sorted.begin(), sorted.end());
    s.valid_from = o.valid_from;
    s.test_from = o.test_from;
    s.with_valid_history = o.with_valid_history;
    s.valid_cut = resolve_cut(o.valid_from, sorted, "--split.valid-from");
    s.test_cut = resolve_cut(o.test_from, sorted, "--split.test-from");
    if (s.test_cut < s.valid_cut)
      throw Error("--split.test-from (" + o.test_from + ") falls before --split.valid-from (" + o.valid_from + ")");
    const int64_t users = d.num_users();
    Split& p = d.split;
    p.train_len.assign(users, 0);
    p.valid_at.assign(users, -1);
    p.test_at.assign(users, -1);
    p.test_history.assign(users, 0);
    for (int64_t u = 0; u < users; ++u) {
      // A user's items are in time order (readers sort them), so each part is a range.
      const double* t = d.timestamps.data() + d.offsets[u];
      const int64_t n = d.length(u);
      const int64_t train = std::lower_bound(t, t + n, s.valid_cut) - t;
      const int64_t test = std::lower_bound(t, t + n, s.test_cut) - t;
      p.train_len[u] = train;
      if (train < test) p.valid_at[u] = train;
      if (test < n) {
        p.test_at[u] = test;
        p.test_history[u] = o.with_valid_history ? test : train;
      }
    }
  }
  for (int64_t u = 0; u < d.num_users(); ++u) {
    if (train_length(d, u) >= 2) ++s.train_users, s.train_interactions += train_length(d, u);
    s.valid_users += eval_example(d, u, Stage::kValid).history >= 1;
    s.test_users += eval_example(d, u, Stage::kTest).history >= 1;
    if (d.split.empty()) continue;  // leave-one-out leaves no answer without history
    s.valid_no_history += d.split.valid_at[u] >= 0 && eval_example(d, u, Stage::kValid).history < 1;
    s.test_no_history += d.split.test_at[u] >= 0 && eval_example(d, u, Stage::kTest).history < 1;
  }
  return s;
}

std::string format_split(const SplitSummary& s) {
  std::ostringstream o;
  if (s.kind == "loo") {
    o << "split leave-one-out: " << s.train_users << " training users, " << s.valid_users << " validation, "
      << s.test_users << " test";
    return o.str();
  }
  o << std::setprecision(12) << "split temporal: validation from " << s.valid_cut << " (" << s.valid_from << "), test from "
    << s.test_cut << " (" << s.test_from << "), test history " << (s.with_valid_history ? "with" : "without")
    << " the validation period; " << s.train_users << " training users (" << s.train_interactions << " interactions), "
    << s.valid_users << " validation users, " << s.test_users << " test users; left out for want of history: "
    << s.valid_no_history << " validation, " << s.test_no_history << " test";
  return o.str();
}

}  // namespace seqrec
