#include "baselines/pop/pop.h"

#include "seqrec/plugin.h"

namespace seqrec {
namespace {
void register_pop(PluginHost& host) {
  host.models->add("pop",
                   [](const ModelContext& ctx) -> std::shared_ptr<Model> {
                     return std::make_shared<PopModel>(ctx.data, ctx.config.integer("max-len"));
                   },
                   "popularity in the training part; nothing to train", host.origin);
}
SEQREC_BUILTIN(register_pop);
}  // namespace

PopModel::PopModel(const Dataset& data, int64_t max_len) : max_len_(max_len) {
  counts_ = register_buffer("counts", torch::tensor(training_popularity(data), torch::kFloat).unsqueeze(1));
}

torch::Tensor PopModel::encode(const torch::Tensor& seqs, int64_t) {
  return torch::ones({seqs.size(0), seqs.size(1), 1}, counts_.options());
}

std::string PopModel::options_json() const { return "{\"max_len\": " + std::to_string(max_len_) + "}"; }

}  // namespace seqrec
