#include "seqrec/batch.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "seqrec/error.h"

namespace seqrec {

torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device) {
  if (!device.is_cuda() || !t.is_cpu()) return t.to(device);
  return t.pin_memory().to(device, /*non_blocking=*/true);
}

/// Parts a split batch is encoded in. Beauty CCE epoch on 2 cores: 4 parts 20.6 s, 8 parts
/// 18.4 s (bucketed 11.5 s, packed ~40 s).
constexpr size_t kSplitParts = 8;

Batching batching_from_string(const std::string& s) {
  if (s == "padded") return Batching::kPadded;
  if (s == "packed") return Batching::kPacked;
  if (s == "bucketed") return Batching::kBucketed;
  if (s == "split") return Batching::kSplit;
  throw Error("unknown batching '" + s + "' (expected padded, packed, bucketed or split)");
}

TrainBatcher::TrainBatcher(const Dataset& data, int64_t max_len, int64_t batch_size, Batching batching)
    : data_(data), max_len_(max_len), batch_size_(batch_size), batching_(batching) {
  if (batch_size <= 0) throw Error("batch size must be positive");
  for (int64_t u = 0; u < data.num_users(); ++u)
    if (train_length(data, u) >= 2) users_.push_back(u);
  if (users_.empty())
    throw Error(data.name + (data.split.empty() ? ": no user has 4 or more items, nothing to train on"
                                                : ": no user has 2 or more items before the validation cut, nothing to train on"));
}

int64_t TrainBatcher::num_positions() const {
  int64_t n = 0;
  for (int64_t u : users_) n += std::min(max_len_, train_length(data_, u) - 1);
  return n;
}

Batch TrainBatcher::make_batch(const std::vector<int64_t>& users, bool full_width) const {
  int64_t width = 0;
  for (int64_t u : users) width = std::max(width, std::min(max_len_, train_length(data_, u) - 1));
  if (full_width) width = max_len_;
  const int64_t b = static_cast<int64_t>(users.size());
  Batch batch;
  batch.inputs = torch::zeros({b, width}, torch::kLong);
  batch.targets = torch::zeros({b, width}, torch::kLong);
  auto in = batch.inputs.accessor<int64_t, 2>();
  auto tg = batch.targets.accessor<int64_t, 2>();
  for (int64_t r = 0; r < b; ++r) {
    const int32_t* s = data_.begin(users[r]);
    const int64_t n_in = train_length(data_, users[r]) - 1;
    const int64_t len = std::min(max_len_, n_in);
    const int64_t start = n_in - len;  // keep the last max_len positions
    for (int64_t t = 0; t < len; ++t) {
      in[r][width - len + t] = s[start + t];
      tg[r][width - len + t] = s[start + t + 1];
    }
  }
  batch.users = users;
  batch.position_offset = max_len_ - width;
  return batch;
}

std::vector<Batch> TrainBatcher::epoch(std::mt19937_64& rng) const {
  std::vector<int64_t> order = users_;
  std::shuffle(order.begin(), order.end(), rng);
  if (batching_ == Batching::kBucketed) {
    // Sort pools of 64 batches by length: tight widths, while batch membership stays random.
    const size_t pool = static_cast<size_t>(batch_size_) * 64;
    for (size_t p = 0; p < order.size(); p += pool) {
      auto first = order.begin() + p, last = order.begin() + std::min(order.size(), p + pool);
      std::stable_sort(first, last, [&](int64_t a, int64_t b) { return train_length(data_, a) < train_length(data_, b); });
    }
  }
  std::vector<Batch> batches;
  for (size_t i = 0; i < order.size(); i += batch_size_) {
    std::vector<int64_t> users(order.begin() + i, order.begin() + std::min(order.size(), i + batch_size_));
    if (batching_ == Batching::kSplit)
      std::stable_sort(users.begin(), users.end(), [&](int64_t a, int64_t b) { return train_length(data_, a) < train_length(data_, b); });
    if (world_ > 1) {
      // This rank's share of the global batch: every world-th user (of the length order under
      // split batches, so every rank gets short and long ones). A global batch with fewer users
      // than ranks is left out on every rank.
      if (users.size() < static_cast<size_t>(world_)) continue;
      std::vector<int64_t> mine;
      for (size_t u = rank_; u < users.size(); u += world_) mine.push_back(users[u]);
      users = std::move(mine);
    }
    if (batching_ != Batching::kSplit) {
      batches.push_back(make_batch(users, batching_ == Batching::kPadded));
      continue;
    }
    Batch batch;
    const size_t part = (users.size() + kSplitParts - 1) / kSplitParts;
    for (size_t p = 0; p < users.size(); p += part)
      batch.parts.push_back(make_batch({users.begin() + p, users.begin() + std::min(users.size(), p + part)}, false));
    batches.push_back(std::move(batch));
  }
  if (batching_ == Batching::kBucketed) std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

EvalSet make_eval_set(const Dataset& data, Stage stage) {
  EvalSet set;
  set.stage = stage;
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const EvalExample e = eval_example(data, u, stage);
    if (e.history < 1) continue;  // needs at least one input item and an answer
    set.users.push_back(u);
    set.answers.push_back(data.begin(u)[e.answer_at]);
    set.history.push_back(data.begin(u));
    set.history_len.push_back(e.history);
  }
  return set;
}

EvalSet shuffle_histories(const EvalSet& set, int64_t window, uint64_t seed, bool keep_last) {
  EvalSet out = set;
  auto owned = std::make_shared<std::vector<int32_t>>();
  std::vector<int64_t> start(set.users.size());
  for (size_t i = 0; i < set.users.size(); ++i) {
    start[i] = static_cast<int64_t>(owned->size());
    owned->insert(owned->end(), set.history[i], set.history[i] + set.history_len[i]);
    const int64_t n = set.history_len[i], len = std::min(window, n) - (keep_last ? 1 : 0);
    const uint64_t user = static_cast<uint64_t>(set.users[i]);
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(user),
                      static_cast<uint32_t>(user >> 32), static_cast<uint32_t>(set.stage)};
    std::mt19937_64 rng(seq);
    auto last = owned->begin() + start[i] + n - (keep_last ? 1 : 0);
    if (len > 1) std::shuffle(last - len, last, rng);
  }
  for (size_t i = 0; i < set.users.size(); ++i) out.history[i] = owned->data() + start[i];
  out.owned = std::move(owned);
  return out;
}

Batch make_eval_batch(const EvalSet& set, const std::vector<int64_t>& idx, int64_t max_len) {
  int64_t width = 0;
  for (int64_t i : idx) width = std::max(width, std::min(max_len, set.history_len[i]));
  Batch batch;
  batch.inputs = torch::zeros({static_cast<int64_t>(idx.size()), width}, torch::kLong);
  auto in = batch.inputs.accessor<int64_t, 2>();
  for (size_t r = 0; r < idx.size(); ++r) {
    const int64_t n = set.history_len[idx[r]];
    const int64_t len = std::min(max_len, n);
    for (int64_t t = 0; t < len; ++t) in[r][width - len + t] = set.history[idx[r]][n - len + t];
    batch.users.push_back(set.users[idx[r]]);
  }
  batch.position_offset = max_len - width;
  return batch;
}

}  // namespace seqrec
