#pragma once
/// Caser (Tang and Wang, WSDM 2018) as yehjin-shin/BSARec ports it to these datasets
/// (src/model/caser.py, after RecBole's): the last L = max_len item embeddings as an L x d
/// image, n_v vertical filters (L x 1) and n_h horizontal filters of every height 1..L (h x d,
/// ReLU, max over time), dropout, fc1 to d (ReLU), then fc2 over [z, user embedding] to d
/// (ReLU), scored against the item table. No position embedding: the window is left-padded
/// with item 0, whose row enters the convolutions as the reference's does. Its loss adds
/// reg * (the unsquared norms of the user, item, vertical, fc1 and fc2 weights and of every
/// horizontal filter): penalty().
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "seqrec/config.h"
#include "seqrec/model.h"

namespace seqrec {

/// Which user-embedding row a dataset row r reads. kPadding: row r, as the reference (its
/// user ids are 0-based rows and row 0 is the padding row, so the first user's embedding is
/// never trained by the data); kOwn: row r + 1, every user a trainable row.
enum class CaserUserRows { kPadding, kOwn };

struct CaserOptions {
  CaserOptions(int64_t item_size, int64_t num_users) : item_size_(item_size), num_users_(num_users) {}
  TORCH_ARG(int64_t, item_size);
  TORCH_ARG(int64_t, num_users);
  TORCH_ARG(int64_t, hidden_size) = 64;
  TORCH_ARG(int64_t, max_len) = 50;  ///< L: the window the filters see
  TORCH_ARG(int64_t, horizontal) = 8;  ///< n_h filters of each height
  TORCH_ARG(int64_t, vertical) = 4;    ///< n_v filters
  TORCH_ARG(double, dropout) = 0.5;
  TORCH_ARG(double, init_std) = 0.02;  ///< embeddings and linear layers; the filters keep torch's default init
  TORCH_ARG(double, reg) = 1e-4;
  TORCH_ARG(CaserUserRows, user_rows) = CaserUserRows::kPadding;
};

/// Reads `caser.*` and `max-len` from a config.
CaserOptions caser_options_from(const Config& c, int64_t item_size, int64_t num_users);

/// Causal: column c's representation is Caser over the L items ending at c, so encode_users()
/// runs the network once per column (encode_last_users() once per row: what training on
/// prefix examples and ranking need). Its user embedding needs the users of its inputs:
/// encode() and encode_last() without them throw.
class Caser : public Model {
 public:
  explicit Caser(const CaserOptions& o);
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override;
  torch::Tensor encode_last(const torch::Tensor& seqs, int64_t position_offset) override;
  torch::Tensor encode_users(const torch::Tensor& seqs, int64_t position_offset, const torch::Tensor& users) override;
  torch::Tensor encode_last_users(const torch::Tensor& seqs, int64_t position_offset, const torch::Tensor& users) override;
  torch::Tensor item_table() override { return item_embeddings->weight; }
  torch::Tensor penalty() override;
  int64_t max_len() const override { return options_.max_len(); }
  std::string options_json() const override;
  std::string kind() const override { return "caser"; }

  torch::nn::Embedding item_embeddings{nullptr}, user_embeddings{nullptr};
  torch::nn::Conv2d conv_v{nullptr};
  torch::nn::ModuleList conv_h{nullptr};  ///< conv_h[i]: n_h filters of height i + 1
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout dropout{nullptr};

 private:
  /// Caser over windows [N, L] (left-padded) for users [N], N >= 1; only the last
  /// `item_columns` (1..L) columns may hold items, the ones before are padding in every row.
  torch::Tensor forward_windows(const torch::Tensor& windows, const torch::Tensor& users, int64_t item_columns);
  /// The horizontal filters' features [N, n_h L] (each filter's max over time of its ReLU output)
  /// over windows whose last w (1..L) columns may hold items and whose others hold the padding
  /// embedding: by 1-D convolutions over the embedded windows `e` [N, L, d], or tap by tap in one
  /// GEMM over the item columns `items` [N, w, d] and the padding row `pad` [d].
  torch::Tensor horizontal_by_convolution(const torch::Tensor& e, int64_t w);
  torch::Tensor horizontal_by_taps(const torch::Tensor& items, const torch::Tensor& pad);
  CaserOptions options_;
};

}  // namespace seqrec
