#include "baselines/caser/caser.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <torch/nn/functional/padding.h>

#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

namespace {
const EnumNames<CaserUserRows> kUserRows = {{"padding", CaserUserRows::kPadding}, {"own", CaserUserRows::kOwn}};

/// The Caser of yehjin-shin/BSARec's repository (its state dicts): its sizes off the filters,
/// and its convention that user row r reads embedding row r (caser.user-rows padding); its
/// item table gets the mask row it lacks (append_mask_row), and its unused position table is
/// left over.
std::map<std::string, std::string> import_caser_state_dict(StateDict& sd) {
  const torch::Tensor* items = sd.find("item_embeddings.weight");
  const torch::Tensor* vertical = sd.find("conv_v.weight");
  const torch::Tensor* horizontal = sd.find("conv_h.0.weight");
  if (!items || !vertical || !horizontal || !sd.find("user_embeddings.weight")) return {};
  std::map<std::string, std::string> keys = {{"model", "caser"},
                                             {"caser.hidden-size", std::to_string(items->size(1))},
                                             {"caser.vertical", std::to_string(vertical->size(0))},
                                             {"caser.horizontal", std::to_string(horizontal->size(0))},
                                             {"max-len", std::to_string(vertical->size(2))},
                                             {"caser.user-rows", "padding"}};
  append_mask_row(sd);
  return keys;
}

void register_caser(PluginHost& host) {
  Schema& s = *host.schema;
  const std::string g = "caser";
  s.add(KeySpec{"caser.hidden-size", KeyType::kInt, "64", "embedding and output size d", g}.architecture());
  s.add(KeySpec{"caser.horizontal", KeyType::kInt, "8", "n_h: horizontal filters of each height 1..max-len", g}.architecture());
  s.add(KeySpec{"caser.vertical", KeyType::kInt, "4", "n_v: vertical filters (max-len x 1)", g}.architecture());
  s.add({"caser.dropout", KeyType::kFloat, "0.5", "dropout on the filters' outputs", g});
  s.add({"caser.init-std", KeyType::kFloat, "0.02", "std of the embeddings' and linear layers' normal init", g});
  s.add({"caser.reg", KeyType::kFloat, "1e-4", "weight of the unsquared norms of the weights added to the loss", g});
  s.add(KeySpec{"caser.user-rows", KeyType::kString, "padding",
         "padding: user row r reads embedding row r, so the first user reads the untrained padding row (the "
         "reference); own: row r + 1",
         g, choices_of(kUserRows)}.architecture());
  s.limit("caser.hidden-size", {1, HUGE_VAL});
  s.limit("caser.horizontal", {1, HUGE_VAL});
  s.limit("caser.vertical", {1, HUGE_VAL});
  s.limit("caser.dropout", {0, 1, false, true});
  s.limit("caser.init-std", {0, HUGE_VAL});
  s.limit("caser.reg", {0, HUGE_VAL});
  host.models->add("caser",
                   [](const ModelContext& ctx) -> std::shared_ptr<Model> {
                     return std::make_shared<Caser>(caser_options_from(ctx.config, ctx.data.item_size(), ctx.data.num_users()));
                   },
                   "Caser: vertical and horizontal convolutions over the last max-len item embeddings, with a user "
                   "embedding (its authors': --examples window-prefixes, --loss bce); keys caser.*",
                   host.origin, {}, {{"examples", "window-prefixes"}, {"loss", "bce"}});
  host.importers->add("caser-reference", import_caser_state_dict,
                      "the Caser of BSARec's repository: caser, sizes read off the tensors", host.origin);
}
SEQREC_BUILTIN(register_caser);
}  // namespace

CaserOptions caser_options_from(const Config& c, int64_t item_size, int64_t num_users) {
  CaserOptions o(item_size, num_users);
  o.hidden_size(c.integer("caser.hidden-size"))
      .max_len(c.integer("max-len"))
      .horizontal(c.integer("caser.horizontal"))
      .vertical(c.integer("caser.vertical"))
      .dropout(c.real("caser.dropout"))
      .init_std(c.real("caser.init-std"))
      .reg(c.real("caser.reg"))
      .user_rows(c.choice("caser.user-rows", kUserRows));
  return o;
}

Caser::Caser(const CaserOptions& o) : options_(o) {
  const int64_t d = o.hidden_size(), L = o.max_len();
  item_embeddings = register_module("item_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.item_size(), d).padding_idx(0)));
  user_embeddings = register_module("user_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(o.num_users() + 1, d).padding_idx(0)));
  conv_v = register_module("conv_v", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, o.vertical(), {L, 1})));
  conv_h = register_module("conv_h", torch::nn::ModuleList());
  for (int64_t h = 1; h <= L; ++h) conv_h->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, o.horizontal(), {h, d})));
  fc1 = register_module("fc1", torch::nn::Linear(o.vertical() * d + o.horizontal() * L, d));
  fc2 = register_module("fc2", torch::nn::Linear(2 * d, d));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout()));
  // The reference's init_weights: normal embeddings (padding rows included) and linear weights,
  // zero biases; the filters keep torch's default (Kaiming-uniform) init.
  torch::NoGradGuard guard;
  for (torch::nn::Embedding e : {item_embeddings, user_embeddings}) e->weight.normal_(0.0, o.init_std());
  for (torch::nn::Linear l : {fc1, fc2}) {
    l->weight.normal_(0.0, o.init_std());
    l->bias.zero_();
  }
}

namespace {
/// Multiply-adds of the two ways to run the horizontal filters over the items of a width-w piece
/// (per row, filter and embedding column): the convolutions run each height h over its windows
/// that touch an item, min(w + 1, L - h + 1) of them; the taps' GEMM multiplies each of the w
/// items by the first min(w, L) taps of every filter (zero rows of short filters included).
int64_t convolution_work(int64_t w, int64_t L) {
  int64_t work = 0;
  for (int64_t h = 1; h <= L; ++h) work += h * std::min(w + 1, L - h + 1);
  return work;
}
int64_t taps_work(int64_t w, int64_t L) { return L * w * std::min(w, L); }
}  // namespace

torch::Tensor Caser::horizontal_by_convolution(const torch::Tensor& e, int64_t w) {
  const int64_t L = e.size(1);
  // A horizontal filter spans all d columns, so it is a 1-D convolution over the window with the
  // d embedding columns as input channels: the same sums as the 2-D convolution of the [h, d]
  // filter, in a shape oneDNN runs far faster (a Beauty epoch 2.7x). Windows that lie in the
  // padding all give a filter the same output, and the max over time needs one of them: a filter
  // of height h runs over the last w + h columns alone.
  const torch::Tensor channels = e.transpose(1, 2);  // [N, d, L]
  std::vector<torch::Tensor> features;
  for (const auto& m : *conv_h) {
    const auto& conv = *m->as<torch::nn::Conv2dImpl>();
    const int64_t span = std::min(L, w + conv.weight.size(2));
    torch::Tensor h = torch::relu(
        torch::conv1d(channels.narrow(2, L - span, span), conv.weight.squeeze(1).transpose(1, 2), conv.bias));
    features.push_back(std::get<0>(h.max(2)));
  }
  return torch::cat(features, 1);
}

torch::Tensor Caser::horizontal_by_taps(const torch::Tensor& items, const torch::Tensor& pad) {
  namespace F = torch::nn::functional;
  const int64_t n = items.size(0), w = items.size(1), d = items.size(2), L = options_.max_len();
  const int64_t nh = options_.horizontal(), hf = L * nh, reach = std::min(w, L);
  // taps[(h, f), r]: filter f of height h's row h - 1 - r (r counts back from the window's last
  // row), zero for r >= h. Window u (counted back from the last) has its tap r on the item
  // r + u from the end, or on padding where r + u >= w.
  std::vector<torch::Tensor> weights, biases;
  for (const auto& m : *conv_h) {
    const auto& conv = *m->as<torch::nn::Conv2dImpl>();
    const torch::Tensor weight = conv.weight.squeeze(1);  // [n_h, h, d]
    weights.push_back(F::pad(weight.flip(1), F::PadFuncOptions({0, 0, 0, L - weight.size(1)})));
    biases.push_back(conv.bias);
  }
  const torch::Tensor taps = torch::stack(weights).view({hf, L, d});
  // Padding's part: window u reads padding with its taps r >= w - u (a suffix sum over taps).
  const torch::Tensor constants = taps.matmul(pad);  // [hf, L]
  const torch::Tensor suffix = F::pad(constants.flip(1).cumsum(1).flip(1), F::PadFuncOptions({0, 1}));
  const torch::Tensor u = torch::arange(w + 1, torch::TensorOptions(torch::kLong).device(items.device()));
  const torch::Tensor fixed = suffix.index_select(1, w - u) + torch::cat(biases).view({hf, 1});  // [hf, w + 1]
  // A height-h filter has L - h + 1 windows: a u beyond them is zeroed after the ReLU, which adds
  // no candidate to a max over ReLU outputs.
  const torch::Tensor heights = torch::arange(1, L + 1, u.options()).repeat_interleave(nh);
  const torch::Tensor exists = (u.view({1, -1}) <= (L - heights).view({-1, 1})).to(constants.scalar_type());
  const torch::Tensor item_taps = taps.narrow(1, 0, reach).reshape({hf * reach, d});
  // Rows in chunks of 2^24 products (64 MiB in float; their padded copies take 2-3x that): this
  // bounds evaluation's blocks of up to 1024 users, where no graph keeps the chunks.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / (w * reach * hf));
  std::vector<torch::Tensor> features;
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int64_t rows = std::min(chunk, n - r0);
    // products[b, (h, f), r, q]: tap r times the item q from the end.
    torch::Tensor from_end = items.narrow(0, r0, rows).flip(1).reshape({rows * w, d});
    torch::Tensor products = from_end.mm(item_taps.t()).view({rows, w, hf, reach}).permute({0, 2, 3, 1});
    // Skewed so that row r is shifted left by r: column u then sums tap r's product with item r + u.
    torch::Tensor skewed =
        F::pad(F::pad(products, F::PadFuncOptions({0, reach})).reshape({rows, hf, reach * (w + reach)}),
               F::PadFuncOptions({0, reach}))
            .view({rows, hf, reach, w + reach + 1});
    torch::Tensor out = torch::relu(skewed.narrow(3, 0, w + 1).sum(2) + fixed) * exists;  // [rows, hf, w + 1]
    features.push_back(std::get<0>(out.max(2)));
  }
  return torch::cat(features);
}

torch::Tensor Caser::forward_windows(const torch::Tensor& windows, const torch::Tensor& users, int64_t item_columns) {
  const int64_t n = windows.size(0), L = windows.size(1);
  torch::Tensor e = item_embeddings(windows);  // [N, L, d]
  // The vertical filters weigh the L rows: a matmul.
  const torch::Tensor vertical = conv_v->weight.view({-1, L}).matmul(e) + conv_v->bias.view({1, -1, 1});  // [N, n_v, d]
  // The padding row as the lookups give it: its value, no gradient.
  const torch::Tensor pad = item_embeddings->weight[0].detach();
  const torch::Tensor items = e.narrow(1, L - item_columns, item_columns);
  // Tap by tap where that is at most 1.5x the convolutions' multiply-adds (w <= 23 for L = 50):
  // one GEMM and a few tensor ops, where the convolutions are L calls of oneDNN whose backward
  // costs several times their forward on a training piece of 32 rows.
  torch::Tensor horizontal = 2 * taps_work(item_columns, L) <= 3 * convolution_work(item_columns, L)
                                 ? horizontal_by_taps(items, pad)
                                 : horizontal_by_convolution(e, item_columns);
  torch::Tensor z = torch::relu(fc1(apply_dropout(torch::cat({vertical.reshape({n, -1}), horizontal}, 1), dropout)));
  torch::Tensor rows = options_.user_rows() == CaserUserRows::kOwn ? users + 1 : users;
  return torch::relu(fc2(torch::cat({z, user_embeddings(rows)}, 1)));
}

torch::Tensor Caser::encode(const torch::Tensor&, int64_t) {
  throw Error("caser: its user embedding needs the users of its inputs (Model::encode_users)");
}

torch::Tensor Caser::encode_last(const torch::Tensor&, int64_t) {
  throw Error("caser: its user embedding needs the users of its inputs (Model::encode_last_users)");
}

torch::Tensor Caser::encode_users(const torch::Tensor& seqs, int64_t, const torch::Tensor& users) {
  const int64_t b = seqs.size(0), w = seqs.size(1), L = options_.max_len();
  // Column c's window: the L items ending at c, the columns before the batch's first being padding.
  torch::Tensor padded = torch::cat({torch::zeros({b, L - 1}, seqs.options()), seqs}, 1);
  torch::Tensor windows = padded.unfold(1, L, 1).reshape({b * w, L});
  return forward_windows(windows, users.repeat_interleave(w), std::min(w, L)).reshape({b, w, -1});
}

torch::Tensor Caser::encode_last_users(const torch::Tensor& seqs, int64_t, const torch::Tensor& users) {
  const int64_t b = seqs.size(0), w = seqs.size(1), L = options_.max_len();
  torch::Tensor windows = w >= L ? seqs.slice(1, w - L) : torch::cat({torch::zeros({b, L - w}, seqs.options()), seqs}, 1);
  return forward_windows(windows, users, std::min(w, L));
}

torch::Tensor Caser::penalty() {
  if (options_.reg() == 0) return {};
  torch::Tensor norms = user_embeddings->weight.norm() + item_embeddings->weight.norm() + conv_v->weight.norm() +
                        fc1->weight.norm() + fc2->weight.norm();
  for (const auto& m : *conv_h) norms = norms + m->as<torch::nn::Conv2dImpl>()->weight.norm();
  return options_.reg() * norms;
}

std::string Caser::options_json() const {
  nlohmann::json j = {{"hidden_size", options_.hidden_size()}, {"max_len", options_.max_len()},
                      {"horizontal", options_.horizontal()},   {"vertical", options_.vertical()},
                      {"dropout", options_.dropout()},         {"init_std", options_.init_std()},
                      {"reg", options_.reg()},                 {"user_rows", name_of(kUserRows, options_.user_rows())},
                      {"item_size", options_.item_size()},     {"num_users", options_.num_users()}};
  return j.dump();
}

}  // namespace seqrec
