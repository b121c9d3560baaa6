#pragma once
/// GRU4Rec as the CCE paper's baseline: item embedding, dropout, one GRU layer, a dense
/// layer back to the embedding size, scored against the (tied) item table.
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "seqrec/config.h"
#include "seqrec/model.h"

namespace seqrec {

/// GRU4Rec hyperparameters.
struct GRU4RecOptions {
  GRU4RecOptions(int64_t item_size) : item_size_(item_size) {}
  TORCH_ARG(int64_t, item_size);
  TORCH_ARG(int64_t, hidden_size) = 64;  ///< embedding, GRU state and output size
  TORCH_ARG(double, dropout) = 0.25;     ///< on the embeddings (RecBole's default)
  TORCH_ARG(int64_t, max_len) = 50;
};

/// Reads `gru4rec.*` and `max-len`; declares them.
GRU4RecOptions gru4rec_options_from(const Config& c, int64_t item_size);

/// The GRU runs over left-padded inputs with its state held at zero through the padding, so
/// outputs at real positions do not depend on the batch width. Causal by construction.
class GRU4Rec : public Model {
 public:
  explicit GRU4Rec(const GRU4RecOptions& o);
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override;
  torch::Tensor item_table() override { return item_embeddings->weight; }
  int64_t max_len() const override { return options_.max_len(); }
  std::string options_json() const override;
  std::string kind() const override { return "gru4rec"; }

  torch::nn::Embedding item_embeddings{nullptr};
  torch::nn::Dropout emb_dropout{nullptr};
  torch::nn::Linear input_gates{nullptr}, hidden_gates{nullptr}, dense{nullptr};  ///< GRU weights: [r, z, n] blocks

 private:
  GRU4RecOptions options_;
};

}  // namespace seqrec
