#pragma once
/// The frequency-domain encoders: FMLP-Rec (Zhou et al., WWW 2022) and BSARec (Shin et al.,
/// AAAI 2024), as in their authors' code (RUCAIBox/FMLP-Rec, yehjin-shin/BSARec): SASRec's
/// embedding and feed-forward blocks, with each block's self-attention replaced by a learnable
/// filter over the whole sequence (FMLP-Rec) or mixed with a low-pass/high-pass split of it
/// (BSARec). A filter along the sequence mixes every position, padding included, so these
/// encoders are not causal and always see max_len columns (a narrower input is left-padded
/// to max_len inside, as the reference pads every input).
#include <torch/nn/modules/container/modulelist.h>

#include "baselines/sasrec/sasrec.h"

namespace seqrec {

/// FMLP-Rec's filter: LayerNorm(x + dropout(irfft(rfft(x) * W))), the FFTs along the sequence
/// (ortho), W a learned complex weight per frequency and channel [max_len/2+1, d]. With
/// `queries` > 0 only the last `queries` columns are returned (the filter still sees all).
class FilterLayerImpl : public torch::nn::Module {
 public:
  explicit FilterLayerImpl(const SASRecOptions& o);
  torch::Tensor forward(const torch::Tensor& x, int64_t queries = -1);
  torch::Tensor complex_weight;  ///< [1, max_len/2+1, d, 2]: real and imaginary parts
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout out_dropout{nullptr};
};
TORCH_MODULE(FilterLayer);

/// BSARec's frequency layer: low = the sequence's lowest `keep` rfft bins (ortho), high = x -
/// low; LayerNorm(dropout(low + beta^2 * high) + x), beta [d] learned (sqrt_beta). `queries`
/// as FilterLayer's.
class FrequencyLayerImpl : public torch::nn::Module {
 public:
  FrequencyLayerImpl(const SASRecOptions& o, int64_t c);
  torch::Tensor forward(const torch::Tensor& x, int64_t queries = -1);
  int64_t keep;            ///< bins kept: c / 2 + 1, as the reference computes it
  torch::Tensor sqrt_beta;  ///< [1, 1, d]
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout out_dropout{nullptr};
};
TORCH_MODULE(FrequencyLayer);

/// What the frequency encoders add to SASRec's options.
struct FrequencyOptions {
  enum class Kind { kFMLPRec, kBSARec };
  Kind kind = Kind::kFMLPRec;
  int64_t c = 3;       ///< BSARec: frequencies of the low-pass part (c / 2 + 1 rfft bins kept)
  double alpha = 0.9;  ///< BSARec: alpha * frequency layer + (1 - alpha) * self-attention
};

/// One block: the filter (FMLP-Rec) or the alpha-mix of the frequency layer and causal
/// self-attention (BSARec), then SASRec's feed-forward; `queries` > 0: the last `queries`
/// columns only.
class FrequencyBlockImpl : public torch::nn::Module {
 public:
  FrequencyBlockImpl(const SASRecOptions& o, const FrequencyOptions& f);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t queries = -1);
  FilterLayer filterlayer{nullptr};
  FrequencyLayer filter_layer{nullptr};
  SelfAttention attention_layer{nullptr};
  Intermediate intermediate{nullptr};
  double alpha;
};
TORCH_MODULE(FrequencyBlock);

class FrequencyEncoder : public Model {
 public:
  FrequencyEncoder(const SASRecOptions& o, const FrequencyOptions& f);
  /// Needs position_offset + width == max_len (every seqrec batch is left-cut so).
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override;
  /// Runs the last block for the last column only (its filter and keys still see all columns).
  torch::Tensor encode_last(const torch::Tensor& seqs, int64_t position_offset) override;
  torch::Tensor item_table() override { return item_embeddings->weight; }
  int64_t max_len() const override { return options_.max_len(); }
  std::string options_json() const override;
  std::string kind() const override { return freq_.kind == FrequencyOptions::Kind::kBSARec ? "bsarec" : "fmlprec"; }
  bool causal() const override { return false; }
  /// The reference's init (reset_reference_parameters), then one draw of the filter weights
  /// (N(0, 0.02) complex weight; N(0, 1) sqrt_beta) copied into every block, as the
  /// reference's deep copies of one block leave them.
  void reset_parameters();

  torch::nn::Embedding item_embeddings{nullptr}, position_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::ModuleList layer{nullptr};

 private:
  torch::Tensor run(const torch::Tensor& seqs, int64_t position_offset, bool last_only);
  SASRecOptions options_;
  FrequencyOptions freq_;
};

/// Reads `sasrec.*`, `max-len` and (BSARec) `bsarec.*` from a config.
FrequencyOptions frequency_options_from(const Config& c, FrequencyOptions::Kind kind);

}  // namespace seqrec
