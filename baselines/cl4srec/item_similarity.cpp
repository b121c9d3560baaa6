#include "baselines/cl4srec/item_similarity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace seqrec {

ItemSimilarity::ItemSimilarity(const Dataset& data)
    : top_(data.item_size(), 0), score_(data.item_size(), 0.0) {
  std::vector<std::unordered_map<int32_t, double>> c(data.item_size());
  std::vector<double> n(data.item_size(), 0.0);
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const int64_t len = train_length(data, u) - 1;
    if (len < 1) continue;
    std::vector<int32_t> items(data.begin(u), data.begin(u) + len);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    const double w = 1.0 / std::log(1.0 + static_cast<double>(items.size()));
    for (int32_t i : items) {
      n[i] += 1;
      for (int32_t j : items)
        if (i != j) c[i][j] += w;
    }
  }
  min_ = std::numeric_limits<double>::infinity();
  max_ = -min_;
  for (size_t i = 0; i < c.size(); ++i) {
    for (const auto& [j, cij] : c[i]) {
      const double s = cij / std::sqrt(n[i] * n[j]);
      min_ = std::min(min_, s);
      max_ = std::max(max_, s);
      if (s > score_[i] || (s == score_[i] && j < top_[i])) score_[i] = s, top_[i] = j;
    }
    if (top_[i] != 0) known_.push_back(static_cast<int32_t>(i));
  }
}

void ItemSimilarity::set_online(const torch::Tensor& item_table) {
  torch::Tensor e = item_table.detach().to(torch::kCPU, torch::kFloat);
  const int64_t rows = e.size(0);
  online_top_.assign(rows, 0);
  online_score_.assign(rows, 0.0);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::vector<double> best(rows, -std::numeric_limits<double>::infinity());
  for (int64_t b = 0; b < rows; b += 1024) {
    torch::Tensor s = torch::mm(e.slice(0, b, std::min(rows, b + 1024)), e.t());  // self included in the range
    lo = std::min(lo, s.min().item<double>());
    hi = std::max(hi, s.max().item<double>());
    for (int64_t r = 0; r < s.size(0); ++r) s[r][b + r] = -std::numeric_limits<float>::infinity();
    auto [v, at] = s.max(1);
    for (int64_t r = 0; r < s.size(0); ++r) {
      best[b + r] = v[r].item<double>();
      online_top_[b + r] = static_cast<int32_t>(at[r].item<int64_t>());
    }
  }
  for (int64_t r = 0; r < rows; ++r) online_score_[r] = hi > lo ? (best[r] - lo) / (hi - lo) : 0.0;
}

int32_t ItemSimilarity::most_similar(int32_t item, std::mt19937_64& rng) const {
  const bool has = item >= 0 && static_cast<size_t>(item) < top_.size() && top_[item] != 0;
  int32_t pick = has ? top_[item] : 0;
  double score = has ? (max_ > min_ ? (score_[item] - min_) / (max_ - min_) : 0.0) : 0.0;
  if (!has && !known_.empty()) pick = known_[std::uniform_int_distribution<size_t>(0, known_.size() - 1)(rng)];
  if (!online_top_.empty() && static_cast<size_t>(item) < online_top_.size() && online_score_[item] > score)
    pick = online_top_[item];
  return pick;
}

}  // namespace seqrec
