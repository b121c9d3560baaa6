#include "baselines/gru4rec/gru4rec.h"

#include <torch/nn/init.h>

#include <nlohmann/json.hpp>

#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

namespace {
void register_gru4rec(PluginHost& host) {
  host.schema->add(KeySpec{"gru4rec.hidden-size", KeyType::kInt, "64", "embedding and GRU state size", "gru4rec"}.architecture());
  host.schema->add({"gru4rec.dropout", KeyType::kFloat, "0.25", "dropout on the input embeddings", "gru4rec"});
  host.models->add("gru4rec",
                   [](const ModelContext& ctx) -> std::shared_ptr<Model> {
                     return std::make_shared<GRU4Rec>(gru4rec_options_from(ctx.config, ctx.data.item_size()));
                   },
                   "one-layer GRU over the item embeddings, dense to d (the CCE paper's GRU4Rec); keys gru4rec.*",
                   host.origin);
}
SEQREC_BUILTIN(register_gru4rec);
}  // namespace

GRU4RecOptions gru4rec_options_from(const Config& c, int64_t item_size) {
  GRU4RecOptions o(item_size);
  o.hidden_size(c.integer("gru4rec.hidden-size")).dropout(c.real("gru4rec.dropout")).max_len(c.integer("max-len"));
  if (o.hidden_size() < 1 || o.max_len() < 1) throw Error("gru4rec: hidden size and --max-len must be positive");
  return o;
}

GRU4Rec::GRU4Rec(const GRU4RecOptions& o) : options_(o) {
  const int64_t d = o.hidden_size();
  item_embeddings = register_module("item_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.item_size(), d).padding_idx(0)));
  emb_dropout = register_module("emb_dropout", torch::nn::Dropout(o.dropout()));
  input_gates = register_module("input_gates", torch::nn::Linear(d, 3 * d));
  hidden_gates = register_module("hidden_gates", torch::nn::Linear(d, 3 * d));
  dense = register_module("dense", torch::nn::Linear(d, d));
  // RecBole's GRU4Rec init: xavier normal embeddings, xavier uniform recurrent weights.
  torch::NoGradGuard g;
  torch::nn::init::xavier_normal_(item_embeddings->weight);
  torch::nn::init::xavier_uniform_(input_gates->weight);
  torch::nn::init::xavier_uniform_(hidden_gates->weight);
}

torch::Tensor GRU4Rec::encode(const torch::Tensor& seqs, int64_t) {
  const int64_t b = seqs.size(0), w = seqs.size(1), d = options_.hidden_size();
  torch::Tensor gi = input_gates(apply_dropout(item_embeddings(seqs), emb_dropout));  // [B, W, 3d], all steps at once
  torch::Tensor real = (seqs > 0).unsqueeze(2);                          // [B, W, 1]
  torch::Tensor h = torch::zeros({b, d}, gi.options());
  std::vector<torch::Tensor> out;
  out.reserve(w);
  for (int64_t t = 0; t < w; ++t) {
    auto x = gi.select(1, t).chunk(3, 1);
    auto hh = hidden_gates(h).chunk(3, 1);
    torch::Tensor r = torch::sigmoid(x[0] + hh[0]), z = torch::sigmoid(x[1] + hh[1]);
    torch::Tensor n = torch::tanh(x[2] + r * hh[2]);
    torch::Tensor next = (1 - z) * n + z * h;
    h = torch::where(real.select(1, t), next, h);  // padding keeps the state (zero before the first item)
    out.push_back(h);
  }
  return dense(torch::stack(out, 1));
}

std::string GRU4Rec::options_json() const {
  nlohmann::json j = {{"hidden_size", options_.hidden_size()}, {"dropout", options_.dropout()},
                      {"max_len", options_.max_len()}, {"item_size", options_.item_size()}};
  return j.dump();
}

}  // namespace seqrec
