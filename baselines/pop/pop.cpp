#include "baselines/pop/pop.h"

namespace seqrec {

PopModel::PopModel(const Dataset& data, int64_t max_len) : max_len_(max_len) {
  counts_ = torch::zeros({data.item_size(), 1});
  float* c = counts_.data_ptr<float>();
  for (int64_t u = 0; u < data.num_users(); ++u)
    for (int64_t i = 0; i + 2 < data.length(u); ++i) c[data.begin(u)[i]] += 1;
  counts_ = register_buffer("counts", counts_);
}

torch::Tensor PopModel::encode(const torch::Tensor& seqs, int64_t) {
  return torch::ones({seqs.size(0), seqs.size(1), 1}, counts_.options());
}

std::string PopModel::options_json() const { return "{\"max_len\": " + std::to_string(max_len_) + "}"; }

}  // namespace seqrec
