#include "baselines/cl4srec/item_similarity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace seqrec {

ItemSimilarity::ItemSimilarity(const Dataset& data)
    : top_(data.item_size(), 0), score_(data.item_size(), 0.0) {
  // c[i][j]: the co-occurrence weight of i and j, and when the pair was first met (the
  // reference's dicts keep that order, and its stable sort gives tied neighbours in it).
  struct Pair {
    double weight = 0;
    int64_t first_met = 0;
  };
  std::vector<std::unordered_map<int32_t, Pair>> c(data.item_size());
  std::vector<double> n(data.item_size(), 0.0);
  int64_t met = 0;
  std::vector<bool> seen(data.item_size(), false);
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const int64_t len = train_length(data, u) - 1;
    if (len < 1) continue;
    std::vector<int32_t> items;  // each item once, in the order of its first occurrence
    for (const int32_t* s = data.begin(u); s != data.begin(u) + len; ++s)
      if (!seen[*s]) seen[*s] = true, items.push_back(*s);
    for (int32_t i : items) seen[i] = false;
    const double w = 1.0 / std::log(1.0 + static_cast<double>(items.size()));
    for (int32_t i : items) {
      n[i] += 1;
      for (size_t k = 0; k < items.size(); ++k) {
        if (items[k] == i) continue;
        auto [at, added] = c[i].try_emplace(items[k]);
        if (added) at->second.first_met = met + static_cast<int64_t>(k);
        at->second.weight += w;
      }
    }
    met += static_cast<int64_t>(items.size());
  }
  min_ = std::numeric_limits<double>::infinity();
  max_ = -min_;
  for (size_t i = 0; i < c.size(); ++i) {
    int64_t best_met = 0;
    for (const auto& [j, pair] : c[i]) {
      const double s = pair.weight / std::sqrt(n[i] * n[j]);
      min_ = std::min(min_, s);
      max_ = std::max(max_, s);
      if (top_[i] == 0 || s > score_[i] || (s == score_[i] && pair.first_met < best_met))
        score_[i] = s, top_[i] = j, best_met = pair.first_met;
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

std::pair<torch::Tensor, torch::Tensor> ItemSimilarity::online() const {
  if (online_top_.empty()) return {};
  return {torch::tensor(online_top_, torch::kInt), torch::tensor(online_score_, torch::kDouble)};
}

void ItemSimilarity::restore_online(const torch::Tensor& top, const torch::Tensor& score) {
  const torch::Tensor t = top.to(torch::kCPU, torch::kInt).contiguous();
  const torch::Tensor v = score.to(torch::kCPU, torch::kDouble).contiguous();
  online_top_.assign(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel());
  online_score_.assign(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
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
