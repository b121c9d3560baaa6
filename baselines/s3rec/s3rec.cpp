#include "baselines/s3rec/s3rec.h"

#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

torch::Tensor read_item_attributes(const std::string& path, const Dataset& data) {
  std::ifstream in(path);
  if (!in) throw data_error(path, 0, "cannot open the item attributes (an item2attributes JSON)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw data_error(path, 0, std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) throw data_error(path, 0, "expected an object of item id -> list of attribute ids");
  std::unordered_map<std::string, int64_t> dense;  // the file's item tokens -> dense ids
  for (int64_t i = 1; i <= data.num_items; ++i)
    dense.emplace(data.item_ids.empty() ? std::to_string(i) : data.item_ids[i - 1], i);
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (dense item, attribute)
  int64_t max_attribute = 0;
  for (const auto& [token, attrs] : j.items()) {
    if (!attrs.is_array()) throw data_error(path, 0, "item " + token + ": expected a list of attribute ids");
    auto it = dense.find(token);
    for (const auto& a : attrs) {
      if (!a.is_number_integer() || a.get<int64_t>() < 0)
        throw data_error(path, 0, "item " + token + ": attribute ids must be integers >= 0");
      max_attribute = std::max(max_attribute, a.get<int64_t>());
      if (it != dense.end()) pairs.emplace_back(it->second, a.get<int64_t>());
    }
  }
  if (pairs.empty()) throw data_error(path, 0, "no item of " + data.name + " has attributes there");
  torch::Tensor table = torch::zeros({data.item_size(), max_attribute + 1});
  auto t = table.accessor<float, 2>();
  for (const auto& [item, a] : pairs) t[item][a] = 1;
  return table;
}

S3Rec::S3Rec(const SASRecOptions& o, torch::Tensor item_attributes)
    : SASRec(o), item_attributes_(std::move(item_attributes)) {
  const int64_t d = o.hidden_size();
  if (item_attributes_.size(0) != o.item_size())
    throw Error("s3rec: the attribute table has " + std::to_string(item_attributes_.size(0)) + " rows for " +
                std::to_string(o.item_size()) + " items");
  attribute_embeddings = register_module("attribute_embeddings", torch::nn::Embedding(item_attributes_.size(1), d));
  aap_norm = register_module("aap_norm", torch::nn::Linear(d, d));
  mip_norm = register_module("mip_norm", torch::nn::Linear(d, d));
  map_norm = register_module("map_norm", torch::nn::Linear(d, d));
  sp_norm = register_module("sp_norm", torch::nn::Linear(d, d));
  reset_reference_parameters(*this, o, position_embeddings.get());
}

S3RecInputs draw_s3rec_inputs(const std::vector<std::vector<int64_t>>& samples, const std::vector<int32_t>& segment_source,
                              int64_t item_size, double mask_prob, std::mt19937_64& rng) {
  const int64_t mask = item_size - 1, n_rows = static_cast<int64_t>(samples.size());
  int64_t w = 1;
  for (const auto& s : samples) w = std::max<int64_t>(w, static_cast<int64_t>(s.size()));
  auto blank = [&] { return torch::zeros({n_rows, w}, torch::kLong); };
  S3RecInputs x{blank(), blank(), blank(), blank(), blank(), blank()};
  auto masked = x.masked_items.accessor<int64_t, 2>(), pos = x.pos_items.accessor<int64_t, 2>(),
       neg = x.neg_items.accessor<int64_t, 2>(), mseg = x.masked_segment.accessor<int64_t, 2>(),
       pseg = x.pos_segment.accessor<int64_t, 2>(), nseg = x.neg_segment.accessor<int64_t, 2>();
  std::uniform_real_distribution<double> u01(0, 1);
  std::uniform_int_distribution<int64_t> any_item(1, item_size - 1);
  for (int64_t r = 0; r < n_rows; ++r) {
    const std::vector<int64_t>& s = samples[r];
    const int64_t n = static_cast<int64_t>(s.size()), c0 = w - n;  // column of the sample's first item
    if (n == 0) throw Error("s3rec-pretrain: an empty sample (a batch row with no items)");
    const std::unordered_set<int64_t> in_sample(s.begin(), s.end());
    auto negative = [&] {
      int64_t v = any_item(rng);
      while (in_sample.count(v)) v = any_item(rng);
      return v;
    };
    for (int64_t t = 0; t < n; ++t) {
      pos[r][c0 + t] = s[t];
      const bool hide = t == n - 1 || u01(rng) < mask_prob;
      masked[r][c0 + t] = hide ? mask : s[t];
      neg[r][c0 + t] = hide ? negative() : s[t];
    }
    if (n < 2) {
      mseg[r][c0] = pseg[r][c0] = nseg[r][c0] = s[0];
      continue;
    }
    const int64_t k = std::uniform_int_distribution<int64_t>(1, n / 2)(rng);
    const int64_t st = std::uniform_int_distribution<int64_t>(0, n - k)(rng);
    const int64_t src = static_cast<int64_t>(segment_source.size());
    if (src < k) throw Error("s3rec-pretrain: the segment source has fewer items than a segment");
    const int64_t nst = std::uniform_int_distribution<int64_t>(0, src - k)(rng);
    for (int64_t t = 0; t < n; ++t) {
      const bool in_segment = t >= st && t < st + k;
      mseg[r][c0 + t] = in_segment ? mask : s[t];
      pseg[r][c0 + t] = in_segment ? s[t] : mask;
      nseg[r][c0 + t] = in_segment ? segment_source[nst + t - st] : mask;
    }
  }
  return x;
}

namespace {
/// Sum of BCE(p, y) over every element, p a probability (torch's clamp of log at -100).
torch::Tensor bce_sum(const torch::Tensor& p, const torch::Tensor& y) {
  return torch::nn::functional::binary_cross_entropy(p, y, torch::nn::functional::BinaryCrossEntropyFuncOptions().reduction(torch::kSum));
}

/// The attribute objectives: sigmoid(attributes . norm(h)) against the item's attributes.
torch::Tensor attribute_loss(S3Rec& m, torch::nn::Linear& norm, const torch::Tensor& h, const torch::Tensor& items) {
  const torch::Tensor p = torch::sigmoid(norm(h).matmul(m.attribute_embeddings->weight.t()));
  return bce_sum(p, m.item_attributes().index_select(0, items).to(p.scalar_type()));
}

/// sigmoid(sigmoid(<norm(c), a>) - sigmoid(<norm(c), b>)) against 1: MIP's and SP's form.
torch::Tensor pair_loss(torch::nn::Linear& norm, const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor q = norm(c);
  const torch::Tensor d = torch::sigmoid(torch::sigmoid((q * a).sum(-1)) - torch::sigmoid((q * b).sum(-1)));
  return bce_sum(d, torch::ones_like(d));
}
}  // namespace

S3RecLosses s3rec_losses(S3Rec& model, const S3RecInputs& x, int64_t position_offset) {
  const torch::Tensor h = model.encode_bidirectional(x.masked_items, position_offset);
  const torch::Tensor hidden = x.masked_items == model.mask_id(), shown = (x.masked_items != 0) & ~hidden;
  const torch::Tensor pos_hidden = x.pos_items.index({hidden});
  S3RecLosses l;
  l.aap = attribute_loss(model, model.aap_norm, h.index({shown}), x.pos_items.index({shown}));
  l.map = attribute_loss(model, model.map_norm, h.index({hidden}), pos_hidden);
  l.mip = pair_loss(model.mip_norm, h.index({hidden}), model.item_embeddings(pos_hidden),
                    model.item_embeddings(x.neg_items.index({hidden})));
  const torch::Tensor context = model.encode_bidirectional(x.masked_segment, position_offset, true);
  l.sp = pair_loss(model.sp_norm, context, model.encode_bidirectional(x.pos_segment, position_offset, true),
                   model.encode_bidirectional(x.neg_segment, position_offset, true));
  return l;
}

std::vector<std::vector<int64_t>> S3RecPretrainer::samples_of(const Batch& piece) {
  std::vector<std::vector<int64_t>> out;
  auto in = piece.inputs.accessor<int64_t, 2>();
  auto tg = piece.targets.accessor<int64_t, 2>();
  const int64_t w = piece.width();
  for (int64_t r = 0; r < piece.inputs.size(0); ++r) {
    std::vector<int64_t> s;
    for (int64_t c = 0; c < w; ++c)
      if (in[r][c] != 0) s.push_back(in[r][c]);
    s.push_back(tg[r][w - 1]);
    out.push_back(std::move(s));
  }
  return out;
}

void S3RecPretrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  model_ = dynamic_cast<S3Rec*>(&ctx.model);
  if (!model_) throw Error("--trainer s3rec-pretrain trains S3Rec's heads: use --model s3rec (not " + ctx.model.kind() + ")");
  if (!ctx.data) throw Error("--trainer s3rec-pretrain needs the training data in its context");
  model_->attributes_to(ctx.device);  // once, where the losses look attributes up
  const Dataset& data = *ctx.data;
  segment_source_.clear();
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const int64_t n = options_.segments_from_training() ? train_length(data, u) : data.length(u);
    segment_source_.insert(segment_source_.end(), data.begin(u), data.begin(u) + n);
  }
  optimizer_ = make_adam(ctx.model.parameters(), ctx.config);
}

torch::Tensor S3RecPretrainer::step(const Batch& batch) {
  model_->train();
  optimizer_->zero_grad();
  // Each piece (split batches: the batch's rows in length-sorted parts) at its own width; the
  // losses are sums over the batch, so the pieces' sums add up to the batch's.
  const torch::Device dev = ctx_->device;
  S3RecLosses l;
  for (const Batch* piece : batch.pieces()) {
    const S3RecInputs x = draw_s3rec_inputs(samples_of(*piece), segment_source_, model_->options().item_size(),
                                            options_.mask_prob(), ctx_->rng);
    const S3RecInputs on{x.masked_items.to(dev), x.pos_items.to(dev),      x.neg_items.to(dev),
                         x.masked_segment.to(dev), x.pos_segment.to(dev), x.neg_segment.to(dev)};
    const S3RecLosses p = s3rec_losses(*model_, on, model_->max_len() - on.masked_items.size(1));
    l = l.aap.defined() ? S3RecLosses{l.aap + p.aap, l.mip + p.mip, l.map + p.map, l.sp + p.sp} : p;
    epoch_samples_ += piece->inputs.size(0);
  }
  const torch::Tensor joint = options_.aap_weight() * l.aap + options_.mip_weight() * l.mip +
                              options_.map_weight() * l.map + options_.sp_weight() * l.sp;
  joint.backward();
  optimizer_->step();
  last_ = {l.aap.detach(), l.mip.detach(), l.map.detach(), l.sp.detach()};
  const torch::Tensor parts = torch::stack({last_.aap, last_.mip, last_.map, last_.sp}).to(torch::kDouble);
  epoch_sums_ = epoch_sums_.defined() ? epoch_sums_ + parts : parts;  // no read here: a device sync on a GPU
  return joint.detach();
}

void S3RecPretrainer::begin_epoch(int64_t) {
  epoch_sums_ = torch::Tensor();
  epoch_samples_ = 0;
}

std::string S3RecPretrainer::epoch_note() const {
  if (epoch_samples_ == 0) return "";
  const torch::Tensor sums = epoch_sums_.to(torch::kCPU);
  std::ostringstream o;
  o << std::fixed << std::setprecision(4) << "per sample:";
  const char* names[] = {"aap", "mip", "map", "sp"};
  for (int64_t i = 0; i < 4; ++i) o << " " << names[i] << " " << sums[i].item<double>() / static_cast<double>(epoch_samples_);
  return o.str();
}

void S3RecPretrainer::save_state(torch::serialize::OutputArchive& archive) const {
  Trainer::save_state(archive);
  archive.write("s3rec_epoch_sums", epoch_sums_.defined() ? epoch_sums_.to(torch::kCPU) : torch::zeros(4, torch::kDouble),
                /*is_buffer=*/true);
  archive.write("s3rec_epoch_samples", c10::IValue(epoch_samples_));
}

void S3RecPretrainer::load_state(torch::serialize::InputArchive& archive) {
  Trainer::load_state(archive);
  // States written before the sums were kept resume with the epoch's sums from zero.
  c10::IValue samples;
  torch::Tensor sums;
  if (!archive.try_read("s3rec_epoch_samples", samples) || !archive.try_read("s3rec_epoch_sums", sums, /*is_buffer=*/true))
    return begin_epoch(0);
  epoch_samples_ = samples.toInt();
  epoch_sums_ = sums.to(ctx_ ? ctx_->device : torch::Device(torch::kCPU));
}

namespace {
/// s3rec.segments: whether negative segments come from the training items only.
const EnumNames<bool> kSegments = {{"all", false}, {"train", true}};

void register_s3rec(PluginHost& host) {
  Schema& s = *host.schema;
  const std::string g = "s3rec";
  s.add(KeySpec{"s3rec.attributes", KeyType::kString, "",
         "s3rec: the items' attributes, an item2attributes JSON (item id -> attribute ids)", g}.architecture());
  s.add({"s3rec.mask-prob", KeyType::kFloat, "0.2", "s3rec-pretrain: share of each sample's items masked (the last always is)", g});
  s.add({"s3rec.aap-weight", KeyType::kFloat, "0.2", "s3rec-pretrain: weight of associated attribute prediction", g});
  s.add({"s3rec.mip-weight", KeyType::kFloat, "1.0", "s3rec-pretrain: weight of masked item prediction", g});
  s.add({"s3rec.map-weight", KeyType::kFloat, "1.0", "s3rec-pretrain: weight of masked attribute prediction", g});
  s.add({"s3rec.sp-weight", KeyType::kFloat, "0.5", "s3rec-pretrain: weight of segment prediction", g});
  s.add({"s3rec.segments", KeyType::kString, "all",
         "s3rec-pretrain: negative segments from every user's whole sequence, held-out items included (all, the "
         "reference) or from the training items (train)",
         g, choices_of(kSegments)});
  s.limit("s3rec.mask-prob", {0, 1});
  for (const char* k : {"s3rec.aap-weight", "s3rec.mip-weight", "s3rec.map-weight", "s3rec.sp-weight"}) s.limit(k, {0, HUGE_VAL});
  host.models->add("s3rec",
                   [](const ModelContext& ctx) -> std::shared_ptr<Model> {
                     const std::string path = ctx.config.str("s3rec.attributes");
                     if (path.empty())
                       throw Error("--model s3rec needs --s3rec.attributes (an item2attributes JSON: item id -> attribute ids)");
                     SASRecOptions o = sasrec_options_from(ctx.config, ctx.data.item_size());
                     check_sasrec_options(o, "s3rec");
                     return std::make_shared<S3Rec>(o, read_item_attributes(path, ctx.data));
                   },
                   "SASRec with S3Rec's pre-training heads over item attributes (sizes: sasrec.*; keys s3rec.*); "
                   "trained by --trainer s3rec-pretrain, its weights then start a sasrec run (--init)",
                   host.origin, {{"trainer", "s3rec-pretrain"}});
  host.trainers->add("s3rec-pretrain",
                     [](const Config& c) -> std::unique_ptr<Trainer> {
                       S3RecOptions o;
                       o.mask_prob(c.real("s3rec.mask-prob"))
                           .aap_weight(c.real("s3rec.aap-weight"))
                           .mip_weight(c.real("s3rec.mip-weight"))
                           .map_weight(c.real("s3rec.map-weight"))
                           .sp_weight(c.real("s3rec.sp-weight"))
                           .segments_from_training(c.choice("s3rec.segments", kSegments));
                       return std::make_unique<S3RecPretrainer>(o);
                     },
                     "S3Rec's pre-training: AAP, MIP, MAP and SP over item attributes, each sample a batch row's "
                     "input and target (its authors': --examples window-prefixes; keys s3rec.*)",
                     host.origin, {{"model", "s3rec"}, {"examples", "window-prefixes"}});
}
SEQREC_BUILTIN(register_s3rec);
}  // namespace

}  // namespace seqrec
