#include "seqrec/sampler.h"

#include <algorithm>

namespace seqrec {

UniformSampler::UniformSampler(const Dataset& data) : data_(data), sorted_items_(data.num_users()) {
  for (int64_t u = 0; u < data.num_users(); ++u) {
    auto& v = sorted_items_[u];
    v.assign(data.begin(u), data.begin(u) + data.length(u));
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
}

torch::Tensor UniformSampler::sample(const SampleRequest& request, std::mt19937_64& rng) {
  return sample(request.users, request.n, rng);
}

torch::Tensor UniformSampler::sample(const std::vector<int64_t>& users, int64_t n, std::mt19937_64& rng) {
  const int64_t item_size = data_.item_size();
  std::uniform_int_distribution<int32_t> draw(1, static_cast<int32_t>(item_size - 1));
  torch::Tensor out = torch::empty({static_cast<int64_t>(users.size()), n}, torch::kLong);
  int64_t* p = out.data_ptr<int64_t>();
  for (size_t i = 0; i < users.size(); ++i) {
    const auto& seen = sorted_items_[users[i]];
    for (int64_t k = 0; k < n; ++k) {
      int32_t item;
      do item = draw(rng);
      while (std::binary_search(seen.begin(), seen.end(), item));
      p[i * n + k] = item;
    }
  }
  return out;
}

}  // namespace seqrec
