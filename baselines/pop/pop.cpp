#include "baselines/pop/pop.h"

namespace seqrec {

PopModel::PopModel(const Dataset& data, int64_t max_len) : max_len_(max_len) {
  counts_ = register_buffer("counts", torch::tensor(training_popularity(data), torch::kFloat).unsqueeze(1));
}

torch::Tensor PopModel::encode(const torch::Tensor& seqs, int64_t) {
  return torch::ones({seqs.size(0), seqs.size(1), 1}, counts_.options());
}

std::string PopModel::options_json() const { return "{\"max_len\": " + std::to_string(max_len_) + "}"; }

}  // namespace seqrec
