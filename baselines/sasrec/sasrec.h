#pragma once
/// SASRec as used by S3Rec, ELECRec, CoSeRec and the CCE paper: post-LN transformer blocks,
/// GELU (erf), LayerNorm eps 1e-12, learned positions, -10000 additive mask, N(0, 0.02) init
/// (the padding row included). Parameter names match the reference checkpoints.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <map>

#include "seqrec/checkpoint.h"
#include "seqrec/config.h"
#include "seqrec/model.h"

namespace seqrec {

/// SASRec hyperparameters (defaults = the papers').
struct SASRecOptions {
  SASRecOptions(int64_t item_size) : item_size_(item_size) {}
  TORCH_ARG(int64_t, item_size);
  TORCH_ARG(int64_t, hidden_size) = 64;
  TORCH_ARG(int64_t, layers) = 2;
  TORCH_ARG(int64_t, heads) = 2;
  TORCH_ARG(double, dropout) = 0.5;       ///< hidden dropout
  TORCH_ARG(double, attn_dropout) = 0.5;  ///< attention-probability dropout
  TORCH_ARG(int64_t, max_len) = 50;
  TORCH_ARG(double, init_std) = 0.02;
  TORCH_ARG(double, item_init_std) = -1;  ///< std of the item tables' init; negative: init_std
  TORCH_ARG(bool, causal) = true;         ///< false gives a bidirectional encoder
  /// false: a separate output item table scores the hidden states (model sasrec-untied,
  /// gSASRec's default); true: the input embedding table does (the papers' SASRec).
  TORCH_ARG(bool, tied_output) = true;
};

/// Reads `sasrec.*` and `max-len` from a config.
SASRecOptions sasrec_options_from(const Config& c, int64_t item_size);

/// For checkpoint importers of transformer-style reference dicts (SASRec's, FMLP-Rec's,
/// BSARec's): `model` and the sasrec.* sizes and max-len read off the tensors, counting the
/// blocks `block`{i}`leaf` there are; none without an item table, a position table or a block.
/// The heads are not in the tensors.
std::map<std::string, std::string> reference_sizes(const StateDict& sd, const std::string& model, const std::string& block,
                                                   const std::string& leaf);
/// Throws seqrec::Error, naming `who`, if the sizes do not make a valid encoder.
void check_sasrec_options(const SASRecOptions& o, const std::string& who);
/// Declares the `sasrec.*` keys.
void declare_sasrec_keys(Schema& s);

/// Multi-head self-attention followed by dense, dropout and residual LayerNorm.
class SelfAttentionImpl : public torch::nn::Module {
 public:
  explicit SelfAttentionImpl(const SASRecOptions& o);
  /// Queries from the last Wq columns of x [B, W, d] attend to all W keys; mask
  /// [B, 1, Wq or W, W] additive (its last Wq rows are used). Returns [B, Wq, d].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t queries = -1);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout attn_dropout{nullptr}, out_dropout{nullptr};
  int64_t heads;
};
TORCH_MODULE(SelfAttention);

/// Position-wise feed-forward d -> 4d -> GELU -> d, dropout, residual LayerNorm.
class IntermediateImpl : public torch::nn::Module {
 public:
  explicit IntermediateImpl(const SASRecOptions& o);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense_1{nullptr}, dense_2{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(Intermediate);

class LayerImpl : public torch::nn::Module {
 public:
  explicit LayerImpl(const SASRecOptions& o);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t queries = -1);
  SelfAttention attention{nullptr};
  Intermediate intermediate{nullptr};
};
TORCH_MODULE(Layer);

/// The stack of blocks; named item_encoder.layer.{i} as in the reference.
class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const SASRecOptions& o);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask);
  torch::nn::ModuleList layer;
};
TORCH_MODULE(Encoder);

/// The SASRec encoder. encode() is exact under left-cut widths: a batch cut to W columns with
/// position_offset = max_len - W gives the same outputs at real positions as the full one;
/// encode_last() also gives a row without any item its full-width output.
class SASRec : public Model {
 public:
  explicit SASRec(const SASRecOptions& o);
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override;
  /// Runs the last block for the last column only (its keys and values still see all columns).
  torch::Tensor encode_last(const torch::Tensor& seqs, int64_t position_offset) override;
  /// encode (or, last_only, encode_last) under a chosen mask: causal, or padding keys only.
  torch::Tensor encode_masked(const torch::Tensor& seqs, int64_t position_offset, bool causal, bool last_only);
  torch::Tensor item_table() override { return options_.tied_output() ? item_embeddings->weight : output_embeddings->weight; }
  int64_t max_len() const override { return options_.max_len(); }
  std::string options_json() const override;
  std::string kind() const override { return options_.tied_output() ? "sasrec" : "sasrec-untied"; }
  bool causal() const override { return options_.causal(); }
  const SASRecOptions& options() const { return options_; }
  /// Re-draws every weight as the reference does: N(0, std) for Linear and Embedding
  /// weights (padding row too), zero biases, LayerNorm weight 1 and bias 0.
  void reset_parameters();

  torch::nn::Embedding item_embeddings{nullptr}, position_embeddings{nullptr};
  torch::nn::Embedding output_embeddings{nullptr};  ///< only when untied
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  Encoder item_encoder{nullptr};

 private:
  torch::Tensor embed(const torch::Tensor& seqs, int64_t position_offset);
  /// The blocks over `seqs` at their own width (encode_masked, less its empty-row rule).
  torch::Tensor encode_blocks(const torch::Tensor& seqs, int64_t position_offset, bool causal, bool last_only);
  SASRecOptions options_;
};

/// LayerNorm with the reference's eps, 1e-12.
torch::nn::LayerNorm make_layer_norm(int64_t d);

/// Re-draws the weights of every Linear, Embedding and LayerNorm under `root` as the reference
/// does (SASRec::reset_parameters); `positions`, the position table, takes init_std even where
/// the item tables take item_init_std. Parameters of other kinds are left as they are.
void reset_reference_parameters(torch::nn::Module& root, const SASRecOptions& o, const torch::nn::Module* positions);

/// The reference's input layer: dropout(LayerNorm(items[seqs] + positions[offset + c])).
struct SequenceEmbedding {
  torch::nn::Embedding& items;
  torch::nn::Embedding& positions;
  torch::nn::LayerNorm& norm;
  torch::nn::Dropout& dropout;
};
/// Throws seqrec::Error when the columns run past the position table.
torch::Tensor embed_with_positions(const torch::Tensor& seqs, int64_t position_offset, const SequenceEmbedding& e);

/// Additive attention mask [B, 1, W, W]: -10000 on padded keys (and future keys if causal).
torch::Tensor attention_mask(const torch::Tensor& seqs, bool causal);

}  // namespace seqrec
