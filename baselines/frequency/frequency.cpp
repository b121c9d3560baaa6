#include "baselines/frequency/frequency.h"

#include <torch/fft.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

FilterLayerImpl::FilterLayerImpl(const SASRecOptions& o) {
  complex_weight = register_parameter("complex_weight", torch::zeros({1, o.max_len() / 2 + 1, o.hidden_size(), 2}));
  LayerNorm = register_module("LayerNorm", make_layer_norm(o.hidden_size()));
  out_dropout = register_module("out_dropout", torch::nn::Dropout(o.dropout()));
}

namespace {
/// The last `queries` columns of x [B, W, d] (all of them for queries < 0).
torch::Tensor last_columns(const torch::Tensor& x, int64_t queries) {
  const int64_t w = x.size(1);
  return queries < 0 || queries == w ? x : x.slice(1, w - queries, w);
}
}  // namespace

torch::Tensor FilterLayerImpl::forward(const torch::Tensor& x, int64_t queries) {
  const int64_t w = x.size(1);
  torch::Tensor f = torch::fft::rfft(x, c10::nullopt, 1, "ortho") * torch::view_as_complex(complex_weight);
  torch::Tensor filtered = last_columns(torch::fft::irfft(f, w, 1, "ortho"), queries);
  return LayerNorm(apply_dropout(filtered, out_dropout) + last_columns(x, queries));
}

FrequencyLayerImpl::FrequencyLayerImpl(const SASRecOptions& o, int64_t c) : keep(c / 2 + 1) {
  sqrt_beta = register_parameter("sqrt_beta", torch::zeros({1, 1, o.hidden_size()}));
  LayerNorm = register_module("LayerNorm", make_layer_norm(o.hidden_size()));
  out_dropout = register_module("out_dropout", torch::nn::Dropout(o.dropout()));
}

torch::Tensor FrequencyLayerImpl::forward(const torch::Tensor& x, int64_t queries) {
  const int64_t w = x.size(1);
  torch::Tensor f = torch::fft::rfft(x, c10::nullopt, 1, "ortho");
  const int64_t k = std::min(keep, f.size(1));
  torch::Tensor low_bins = torch::cat({f.slice(1, 0, k), torch::zeros_like(f.slice(1, k))}, 1);
  torch::Tensor low = last_columns(torch::fft::irfft(low_bins, w, 1, "ortho"), queries);
  torch::Tensor xq = last_columns(x, queries);
  torch::Tensor mixed = low + sqrt_beta.pow(2) * (xq - low);
  return LayerNorm(apply_dropout(mixed, out_dropout) + xq);
}

FrequencyBlockImpl::FrequencyBlockImpl(const SASRecOptions& o, const FrequencyOptions& f) : alpha(f.alpha) {
  if (f.kind == FrequencyOptions::Kind::kFMLPRec) {
    filterlayer = register_module("filterlayer", FilterLayer(o));
  } else {
    filter_layer = register_module("filter_layer", FrequencyLayer(o, f.c));
    attention_layer = register_module("attention_layer", SelfAttention(o));
  }
  intermediate = register_module("intermediate", Intermediate(o));
}

torch::Tensor FrequencyBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t queries) {
  if (filterlayer) return intermediate(filterlayer(x, queries));
  return intermediate(alpha * filter_layer(x, queries) + (1 - alpha) * attention_layer(x, mask, queries));
}

FrequencyEncoder::FrequencyEncoder(const SASRecOptions& o, const FrequencyOptions& f) : options_(o), freq_(f) {
  const int64_t d = o.hidden_size();
  item_embeddings = register_module("item_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.item_size(), d).padding_idx(0)));
  position_embeddings = register_module("position_embeddings", torch::nn::Embedding(o.max_len(), d));
  LayerNorm = register_module("LayerNorm", make_layer_norm(d));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout()));
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers(); ++i) layer->push_back(FrequencyBlock(o, f));
  reset_parameters();
}

void FrequencyEncoder::reset_parameters() {
  reset_reference_parameters(*this, options_, position_embeddings.get());
  torch::NoGradGuard guard;
  const int64_t d = options_.hidden_size();
  torch::Tensor filter = torch::randn({1, options_.max_len() / 2 + 1, d, 2}) * 0.02;
  torch::Tensor beta = torch::randn({1, 1, d});
  for (const auto& m : *layer) {
    auto* block = m->as<FrequencyBlockImpl>();
    if (block->filterlayer) block->filterlayer->complex_weight.copy_(filter);
    if (block->filter_layer) block->filter_layer->sqrt_beta.copy_(beta);
  }
}

torch::Tensor FrequencyEncoder::encode(const torch::Tensor& seqs, int64_t position_offset) {
  return run(seqs, position_offset, /*last_only=*/false);
}

torch::Tensor FrequencyEncoder::encode_last(const torch::Tensor& seqs, int64_t position_offset) {
  return run(seqs, position_offset, /*last_only=*/true);
}

torch::Tensor FrequencyEncoder::run(const torch::Tensor& seqs, int64_t position_offset, bool last_only) {
  const int64_t b = seqs.size(0), w = seqs.size(1), full = options_.max_len();
  if (position_offset + w != full)
    throw Error(kind() + ": inputs must end at position max_len - 1 (width " + std::to_string(w) + " at offset " +
                std::to_string(position_offset) + ", max_len " + std::to_string(full) + ")");
  torch::Tensor padded = w == full ? seqs : torch::cat({torch::zeros({b, full - w}, seqs.options()), seqs}, 1);
  torch::Tensor x = embed_with_positions(padded, 0, {item_embeddings, position_embeddings, LayerNorm, dropout});
  torch::Tensor mask;
  if (freq_.kind == FrequencyOptions::Kind::kBSARec) mask = attention_mask(padded, /*causal=*/true);
  const size_t n = layer->size();
  for (size_t i = 0; i < n; ++i) {
    const bool last_block = i + 1 == n;
    x = (*layer)[i]->as<FrequencyBlockImpl>()->forward(x, mask, last_only && last_block ? 1 : -1);
  }
  if (last_only) return x.squeeze(1);
  return w == full ? x : x.slice(1, full - w);
}

std::string FrequencyEncoder::options_json() const {
  nlohmann::json j = {{"hidden_size", options_.hidden_size()}, {"layers", options_.layers()},
                      {"dropout", options_.dropout()},         {"max_len", options_.max_len()},
                      {"init_std", options_.init_std()},       {"item_init_std", options_.item_init_std()},
                      {"item_size", options_.item_size()}};
  if (freq_.kind == FrequencyOptions::Kind::kBSARec) {
    j["heads"] = options_.heads();
    j["attn_dropout"] = options_.attn_dropout();
    j["c"] = freq_.c;
    j["alpha"] = freq_.alpha;
  }
  return j.dump();
}

FrequencyOptions frequency_options_from(const Config& c, FrequencyOptions::Kind kind) {
  FrequencyOptions f;
  f.kind = kind;
  if (kind == FrequencyOptions::Kind::kBSARec) {
    f.c = c.integer("bsarec.c");
    f.alpha = c.real("bsarec.alpha");
  }
  return f;
}

namespace {
/// FMLP-Rec's own state dicts (RUCAIBox/FMLP-Rec, e.g. its released
/// output/FMLPRec-Beauty-4eval.pt): the blocks move from item_encoder.layer.{i} to layer.{i},
/// and the item table gets the mask row it lacks (append_mask_row).
std::map<std::string, std::string> import_fmlprec_state_dict(StateDict& sd) {
  std::map<std::string, std::string> keys = reference_sizes(sd, "fmlprec", "item_encoder.layer.", ".filterlayer.complex_weight");
  if (keys.empty()) return {};
  rename_tensors(sd, {{R"(item_encoder\.layer\.(.*))", "layer.$1"}});
  append_mask_row(sd);
  return keys;
}

/// BSARec's own state dicts (yehjin-shin/BSARec's BSARecModel): item_encoder.blocks.{i}.layer's
/// filter and attention layers and the block's feed_forward become layer.{i}'s filter_layer,
/// attention_layer and intermediate, beta becomes sqrt_beta (both are squared), and the item
/// table gets its mask row. The heads, c and alpha are not in the tensors: give them (a config).
std::map<std::string, std::string> import_bsarec_state_dict(StateDict& sd) {
  std::map<std::string, std::string> keys = reference_sizes(sd, "bsarec", "item_encoder.blocks.", ".layer.filter_layer.beta");
  if (keys.empty()) return {};
  rename_tensors(sd, {{R"(item_encoder\.blocks\.(\d+)\.layer\.filter_layer\.beta)", "layer.$1.filter_layer.sqrt_beta"},
                      {R"(item_encoder\.blocks\.(\d+)\.layer\.(.*))", "layer.$1.$2"},
                      {R"(item_encoder\.blocks\.(\d+)\.feed_forward\.(.*))", "layer.$1.intermediate.$2"}});
  append_mask_row(sd);
  return keys;
}

void register_frequency(PluginHost& host) {
  Schema& s = *host.schema;
  s.add(KeySpec{"bsarec.c", KeyType::kInt, "3", "BSARec: the low-pass part keeps the lowest c / 2 + 1 frequencies", "bsarec"}.architecture());
  s.add(KeySpec{"bsarec.alpha", KeyType::kFloat, "0.9", "BSARec: weight of the frequency layer against self-attention's 1 - alpha",
         "bsarec"}.architecture());
  s.limit("bsarec.c", {1, HUGE_VAL});
  s.limit("bsarec.alpha", {0, 1});
  auto add = [&](const std::string& name, FrequencyOptions::Kind kind, const std::string& loss, const std::string& help) {
    host.models->add(name,
                     [kind](const ModelContext& ctx) -> std::shared_ptr<Model> {
                       return std::make_shared<FrequencyEncoder>(sasrec_options_from(ctx.config, ctx.data.item_size()),
                                                                 frequency_options_from(ctx.config, kind));
                     },
                     help, host.origin, {}, {{"examples", "window-prefixes"}, {"loss", loss}});
  };
  add("fmlprec", FrequencyOptions::Kind::kFMLPRec, "bce",
      "FMLP-Rec: SASRec's blocks with a learnable filter over the sequence's frequencies in place of self-attention; "
      "not causal: trains on prefix examples (its authors': --examples window-prefixes, --loss bce); keys sasrec.*");
  add("bsarec", FrequencyOptions::Kind::kBSARec, "ce",
      "BSARec: each block mixes causal self-attention with a low/high-frequency split of the sequence (alpha); not "
      "causal: trains on prefix examples (its authors': --examples window-prefixes, --loss ce); keys sasrec.*, bsarec.*");
  host.importers->add("fmlprec-reference", import_fmlprec_state_dict,
                      "FMLP-Rec's PyTorch state dicts: fmlprec, sizes read off the tensors", host.origin);
  host.importers->add("bsarec-reference", import_bsarec_state_dict,
                      "BSARec's PyTorch state dicts: bsarec, sizes read off the tensors (heads, c, alpha: from the config)",
                      host.origin);
}
SEQREC_BUILTIN(register_frequency);
}  // namespace

}  // namespace seqrec
