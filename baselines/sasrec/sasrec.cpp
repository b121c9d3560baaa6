#include "baselines/sasrec/sasrec.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

void declare_sasrec_keys(Schema& s) {
  s.add(KeySpec{"sasrec.hidden-size", KeyType::kInt, "64", "embedding and hidden size d", "sasrec"}.architecture());
  s.add(KeySpec{"sasrec.layers", KeyType::kInt, "2", "transformer blocks", "sasrec"}.architecture());
  s.add(KeySpec{"sasrec.heads", KeyType::kInt, "2", "attention heads (must divide d)", "sasrec"}.architecture());
  s.add({"sasrec.dropout", KeyType::kFloat, "0.5", "hidden dropout", "sasrec"});
  s.add({"sasrec.attn-dropout", KeyType::kFloat, "0.5", "attention-probability dropout", "sasrec"});
  s.add({"sasrec.init-std", KeyType::kFloat, "0.02", "std of the normal weight init", "sasrec"});
  s.add({"sasrec.item-init-std", KeyType::kFloat, "-1",
         "std of the item tables' normal init (gSASRec's code: 1, PyTorch's default); negative = sasrec.init-std",
         "sasrec"});
  for (const char* k : {"sasrec.hidden-size", "sasrec.layers", "sasrec.heads"}) s.limit(k, {1, HUGE_VAL});
  for (const char* k : {"sasrec.dropout", "sasrec.attn-dropout"}) s.limit(k, {0, 1, false, /*hi_open=*/true});
  s.limit("sasrec.init-std", {0, HUGE_VAL});
}

namespace {
/// A reference (ELECRec / S3Rec / ICLRec) SASRec state dict: its names and shapes are already
/// seqrec's.
std::map<std::string, std::string> import_reference_state_dict(StateDict& sd) {
  return reference_sizes(sd, "sasrec", "item_encoder.layer.", ".attention.query.weight");
}

/// The SASRec of yehjin-shin/BSARec's repository (its SASRec and DuoRec ports):
/// item_encoder.blocks.{i}.layer and .feed_forward become item_encoder.layer.{i}.attention and
/// .intermediate, and the item table gets the mask row it lacks (append_mask_row).
std::map<std::string, std::string> import_bsarec_repository_state_dict(StateDict& sd) {
  std::map<std::string, std::string> keys = reference_sizes(sd, "sasrec", "item_encoder.blocks.", ".layer.query.weight");
  if (keys.empty()) return {};
  rename_tensors(sd, {{R"(item_encoder\.blocks\.(\d+)\.layer\.(.*))", "item_encoder.layer.$1.attention.$2"},
                      {R"(item_encoder\.blocks\.(\d+)\.feed_forward\.(.*))", "item_encoder.layer.$1.intermediate.$2"}});
  append_mask_row(sd);
  return keys;
}

void register_sasrec(PluginHost& host) {
  declare_sasrec_keys(*host.schema);
  host.models->add("sasrec",
                   [](const ModelContext& ctx) -> std::shared_ptr<Model> {
                     return std::make_shared<SASRec>(sasrec_options_from(ctx.config, ctx.data.item_size()));
                   },
                   "causal post-LN transformer (S3Rec/ELECRec variant); keys sasrec.*", host.origin);
  host.models->add("sasrec-untied",
                   [](const ModelContext& ctx) -> std::shared_ptr<Model> {
                     return std::make_shared<SASRec>(sasrec_options_from(ctx.config, ctx.data.item_size()).tied_output(false));
                   },
                   "sasrec scored by a separate output item table (gSASRec's default); keys sasrec.*", host.origin);
  host.importers->add("sasrec-reference", import_reference_state_dict,
                      "ELECRec's / S3Rec's / ICLRec's PyTorch state dicts: sasrec, sizes read off the tensors (heads: from the config)",
                      host.origin);
  host.importers->add("sasrec-bsarec-repository", import_bsarec_repository_state_dict,
                      "the SASRec and DuoRec of BSARec's repository: sasrec, sizes read off the tensors (heads: from the config; its "
                      "FEARec and BERT4Rec dicts share these names and are not told apart)",
                      host.origin);
}
SEQREC_BUILTIN(register_sasrec);
}  // namespace

std::map<std::string, std::string> reference_sizes(const StateDict& sd, const std::string& model, const std::string& block,
                                                   const std::string& leaf) {
  const torch::Tensor* items = sd.find("item_embeddings.weight");
  const torch::Tensor* pos = sd.find("position_embeddings.weight");
  int64_t layers = 0;
  while (sd.find(block + std::to_string(layers) + leaf)) ++layers;
  if (!items || !pos || layers == 0) return {};
  return {{"model", model},
          {"sasrec.hidden-size", std::to_string(items->size(1))},
          {"sasrec.layers", std::to_string(layers)},
          {"max-len", std::to_string(pos->size(0))}};
}

SASRecOptions sasrec_options_from(const Config& c, int64_t item_size) {
  SASRecOptions o(item_size);
  o.hidden_size(c.integer("sasrec.hidden-size"))
      .layers(c.integer("sasrec.layers"))
      .heads(c.integer("sasrec.heads"))
      .dropout(c.real("sasrec.dropout"))
      .attn_dropout(c.real("sasrec.attn-dropout"))
      .init_std(c.real("sasrec.init-std"))
      .item_init_std(c.real("sasrec.item-init-std"))
      .max_len(c.integer("max-len"));
  check_sasrec_options(o, "sasrec");
  return o;
}

void check_sasrec_options(const SASRecOptions& o, const std::string& who) {
  if (o.hidden_size() <= 0 || o.heads() <= 0 || o.hidden_size() % o.heads() != 0)
    throw Error(who + ": heads must divide the hidden size");
  if (o.layers() < 1 || o.max_len() < 1) throw Error(who + ": layers and --max-len must be positive");
}

torch::nn::LayerNorm make_layer_norm(int64_t d) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-12));
}

SelfAttentionImpl::SelfAttentionImpl(const SASRecOptions& o) : heads(o.heads()) {
  const int64_t d = o.hidden_size();
  query = register_module("query", torch::nn::Linear(d, d));
  key = register_module("key", torch::nn::Linear(d, d));
  value = register_module("value", torch::nn::Linear(d, d));
  dense = register_module("dense", torch::nn::Linear(d, d));
  LayerNorm = register_module("LayerNorm", make_layer_norm(d));
  attn_dropout = register_module("attn_dropout", torch::nn::Dropout(o.attn_dropout()));
  out_dropout = register_module("out_dropout", torch::nn::Dropout(o.dropout()));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t queries) {
  const int64_t b = x.size(0), w = x.size(1), d = x.size(2), dh = d / heads;
  const int64_t wq = queries < 0 ? w : queries;
  torch::Tensor xq = wq == w ? x : x.slice(1, w - wq, w);
  auto split_heads = [&](const torch::Tensor& t) { return t.view({b, t.size(1), heads, dh}).transpose(1, 2); };
  torch::Tensor q = split_heads(query(xq)), k = split_heads(key(x)), v = split_heads(value(x));
  torch::Tensor m = mask.size(2) == wq ? mask : mask.slice(2, mask.size(2) - wq, mask.size(2));
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(dh)) + m;
  torch::Tensor probs = apply_dropout(torch::softmax(scores, -1), attn_dropout);
  torch::Tensor ctx = torch::matmul(probs, v).transpose(1, 2).reshape({b, wq, d});
  return LayerNorm(apply_dropout(dense(ctx), out_dropout) + xq);
}

IntermediateImpl::IntermediateImpl(const SASRecOptions& o) {
  const int64_t d = o.hidden_size();
  dense_1 = register_module("dense_1", torch::nn::Linear(d, 4 * d));
  dense_2 = register_module("dense_2", torch::nn::Linear(4 * d, d));
  LayerNorm = register_module("LayerNorm", make_layer_norm(d));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout()));
}

torch::Tensor IntermediateImpl::forward(const torch::Tensor& x) {
  return LayerNorm(apply_dropout(dense_2(torch::gelu(dense_1(x))), dropout) + x);
}

LayerImpl::LayerImpl(const SASRecOptions& o) {
  attention = register_module("attention", SelfAttention(o));
  intermediate = register_module("intermediate", Intermediate(o));
}

torch::Tensor LayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t queries) {
  return intermediate(attention(x, mask, queries));
}

EncoderImpl::EncoderImpl(const SASRecOptions& o) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers(); ++i) layer->push_back(Layer(o));
}

torch::Tensor EncoderImpl::forward(torch::Tensor x, const torch::Tensor& mask) {
  for (const auto& m : *layer) x = m->as<LayerImpl>()->forward(x, mask);
  return x;
}

torch::Tensor attention_mask(const torch::Tensor& seqs, bool causal) {
  const int64_t w = seqs.size(1);
  torch::Tensor keep = (seqs > 0).unsqueeze(1).unsqueeze(2);  // [B,1,1,W] on keys
  if (causal) keep = keep & torch::ones({w, w}, torch::dtype(torch::kBool).device(seqs.device())).tril();
  return (1.0 - keep.to(torch::kFloat)) * -10000.0;
}

SASRec::SASRec(const SASRecOptions& o) : options_(o) {
  const int64_t d = o.hidden_size();
  item_embeddings = register_module("item_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.item_size(), d).padding_idx(0)));
  position_embeddings = register_module("position_embeddings", torch::nn::Embedding(o.max_len(), d));
  LayerNorm = register_module("LayerNorm", make_layer_norm(d));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout()));
  item_encoder = register_module("item_encoder", Encoder(o));
  if (!o.tied_output()) output_embeddings = register_module("output_embeddings", torch::nn::Embedding(o.item_size(), d));
  reset_parameters();
}

void reset_reference_parameters(torch::nn::Module& root, const SASRecOptions& o, const torch::nn::Module* positions) {
  torch::NoGradGuard guard;
  for (auto& m : root.modules(/*include_self=*/false)) {
    if (auto* lin = m->as<torch::nn::LinearImpl>()) {
      lin->weight.normal_(0.0, o.init_std());
      lin->bias.zero_();
    } else if (auto* emb = m->as<torch::nn::EmbeddingImpl>()) {
      const bool items = emb != positions && o.item_init_std() >= 0;
      emb->weight.normal_(0.0, items ? o.item_init_std() : o.init_std());
    } else if (auto* ln = m->as<torch::nn::LayerNormImpl>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

void SASRec::reset_parameters() { reset_reference_parameters(*this, options_, position_embeddings.get()); }

torch::Tensor embed_with_positions(const torch::Tensor& seqs, int64_t position_offset, const SequenceEmbedding& e) {
  const int64_t w = seqs.size(1), max_len = e.positions->weight.size(0);
  if (position_offset < 0 || position_offset + w > max_len)
    throw Error("input of width " + std::to_string(w) + " at offset " + std::to_string(position_offset) +
                " exceeds max_len " + std::to_string(max_len));
  torch::Tensor pos = torch::arange(position_offset, position_offset + w, torch::dtype(torch::kLong).device(seqs.device()));
  return apply_dropout(e.norm(e.items(seqs) + e.positions(pos).unsqueeze(0)), e.dropout);
}

torch::Tensor SASRec::embed(const torch::Tensor& seqs, int64_t position_offset) {
  return embed_with_positions(seqs, position_offset, {item_embeddings, position_embeddings, LayerNorm, dropout});
}

torch::Tensor SASRec::encode(const torch::Tensor& seqs, int64_t position_offset) {
  return encode_masked(seqs, position_offset, options_.causal(), /*last_only=*/false);
}

torch::Tensor SASRec::encode_last(const torch::Tensor& seqs, int64_t position_offset) {
  return encode_masked(seqs, position_offset, options_.causal(), /*last_only=*/true);
}

torch::Tensor SASRec::encode_masked(const torch::Tensor& seqs, int64_t position_offset, bool causal, bool last_only) {
  // A row without any item (a prefix example's empty input) has only padding keys, all masked
  // alike, so its last column attends to every column: its output depends on the width. The
  // reference encodes it max_len wide; so does this, whatever width its piece has (one host
  // read of the rows' emptiness per narrow piece; the other rows' dropout draws follow them).
  const int64_t w = seqs.size(1), full = options_.max_len();
  if (last_only && w < full && position_offset == full - w) {
    torch::Tensor empty = seqs.eq(0).all(1);
    if (empty.any().item<bool>()) {
      torch::Tensor none = empty.nonzero().squeeze(1), some = empty.logical_not().nonzero().squeeze(1);
      torch::Tensor out = encode_blocks(torch::zeros({none.size(0), full}, seqs.options()), 0, causal, true);
      if (some.numel() == 0) return out;
      torch::Tensor rest = encode_blocks(seqs.index_select(0, some), position_offset, causal, true);
      return torch::cat({out, rest}).index_select(0, torch::cat({none, some}).argsort());
    }
  }
  return encode_blocks(seqs, position_offset, causal, last_only);
}

torch::Tensor SASRec::encode_blocks(const torch::Tensor& seqs, int64_t position_offset, bool causal, bool last_only) {
  torch::Tensor x = embed(seqs, position_offset), mask = attention_mask(seqs, causal);
  if (!last_only) return item_encoder(x, mask);
  const auto& layers = *item_encoder->layer;
  const size_t n = layers.size();
  for (size_t i = 0; i + 1 < n; ++i) x = layers[i]->as<LayerImpl>()->forward(x, mask);
  return layers[n - 1]->as<LayerImpl>()->forward(x, mask, /*queries=*/1).squeeze(1);
}

std::string SASRec::options_json() const {
  nlohmann::json j = {{"hidden_size", options_.hidden_size()}, {"layers", options_.layers()},
                      {"heads", options_.heads()},             {"dropout", options_.dropout()},
                      {"attn_dropout", options_.attn_dropout()}, {"max_len", options_.max_len()},
                      {"init_std", options_.init_std()},       {"item_init_std", options_.item_init_std()},
                      {"item_size", options_.item_size()},
                      {"causal", options_.causal()},           {"tied_output", options_.tied_output()}};
  return j.dump();
}

}  // namespace seqrec
