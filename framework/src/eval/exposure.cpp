#include "seqrec/exposure.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "seqrec/error.h"

namespace seqrec {

namespace {
constexpr std::array<const char*, 4> kNames = {"coverage", "gini", "avgpop", "novelty"};
}

std::vector<std::string> exposure_metric_names(const std::vector<int64_t>& ks) {
  std::vector<std::string> out;
  for (int64_t k : ks)
    for (const char* n : kNames) out.push_back(std::string(n) + "@" + std::to_string(k));
  return out;
}

bool is_exposure_metric(const std::string& name) {
  const std::string base = name.substr(0, name.find('@'));
  return name.find('@') != std::string::npos && std::find(kNames.begin(), kNames.end(), base) != kNames.end();
}

std::map<std::string, double> exposure_metrics(const TopLists& lists, const std::vector<int64_t>& ks,
                                               const std::vector<double>& popularity, int64_t num_items) {
  if (lists.k <= 0) throw Error("exposure metrics need top lists");
  if (static_cast<int64_t>(popularity.size()) <= num_items) throw Error("exposure metrics: popularity lacks items");
  const int64_t users = static_cast<int64_t>(lists.items.size()) / lists.k;
  double total = 0;
  for (int64_t i = 1; i <= num_items; ++i) total += popularity[i];
  std::map<std::string, double> out;
  for (int64_t k : ks) {
    if (k > lists.k) throw Error("exposure metrics @" + std::to_string(k) + ": lists hold " + std::to_string(lists.k));
    std::vector<double> exposure(num_items + 1, 0);
    double pop_sum = 0, novelty_sum = 0;
    int64_t listed_users = 0;
    for (int64_t u = 0; u < users; ++u) {
      const int32_t* list = lists.items.data() + u * lists.k;
      double pop = 0, info = 0;
      int64_t n = 0;
      for (int64_t j = 0; j < k; ++j) {
        const int32_t item = list[j];
        if (item < 1 || item > num_items) continue;
        exposure[item] += 1;
        pop += popularity[item];
        info += -std::log2((popularity[item] + 1) / (total + static_cast<double>(num_items)));
        ++n;
      }
      if (n == 0) continue;
      pop_sum += pop / n;
      novelty_sum += info / n;
      ++listed_users;
    }
    std::vector<double> x(exposure.begin() + 1, exposure.end());
    std::sort(x.begin(), x.end());
    double shown = 0, weighted = 0, covered = 0;
    const double n = static_cast<double>(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      shown += x[i];
      weighted += (2.0 * (i + 1) - n - 1) * x[i];
      covered += x[i] > 0;
    }
    const std::string at = "@" + std::to_string(k);
    out["coverage" + at] = covered / std::max(1.0, n);
    out["gini" + at] = shown > 0 ? weighted / (n * shown) : 0;
    out["avgpop" + at] = listed_users ? pop_sum / listed_users : 0;
    out["novelty" + at] = listed_users ? novelty_sum / listed_users : 0;
  }
  return out;
}

}  // namespace seqrec
