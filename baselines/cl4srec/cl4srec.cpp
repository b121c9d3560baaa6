#include "baselines/cl4srec/cl4srec.h"

#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <numeric>
#include <sstream>

#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {
namespace {

/// The start of a window of `len` items in a sequence of n: uniform over the positions the
/// window setting allows.
int64_t window_start(int64_t n, int64_t len, AugmentWindow w, std::mt19937_64& rng) {
  const int64_t last = std::max<int64_t>(0, w == AugmentWindow::kReference ? n - len - 1 : n - len);
  return std::uniform_int_distribution<int64_t>(0, last)(rng);
}

std::vector<int32_t> crop(const std::vector<int32_t>& seq, const AugmentOptions& o, std::mt19937_64& rng) {
  const auto n = static_cast<int64_t>(seq.size());
  const auto len = static_cast<int64_t>(o.crop() * static_cast<double>(n));
  const int64_t start = window_start(n, len, o.window(), rng);
  if (len < 1) return {seq[start]};
  return {seq.begin() + start, seq.begin() + start + len};
}

std::vector<int32_t> mask(const std::vector<int32_t>& seq, const AugmentOptions& o, std::mt19937_64& rng) {
  const auto n = static_cast<int64_t>(seq.size());
  const auto k = static_cast<int64_t>(o.mask() * static_cast<double>(n));
  std::vector<int64_t> positions(n);
  std::iota(positions.begin(), positions.end(), 0);
  // The first k of a partial Fisher-Yates shuffle: k distinct positions, uniformly.
  for (int64_t i = 0; i < k; ++i) std::swap(positions[i], positions[std::uniform_int_distribution<int64_t>(i, n - 1)(rng)]);
  std::vector<int32_t> out = seq;
  for (int64_t i = 0; i < k; ++i) out[positions[i]] = static_cast<int32_t>(o.mask_id());
  return out;
}

std::vector<int32_t> reorder(const std::vector<int32_t>& seq, const AugmentOptions& o, std::mt19937_64& rng) {
  const auto n = static_cast<int64_t>(seq.size());
  const auto len = static_cast<int64_t>(o.reorder() * static_cast<double>(n));
  const int64_t start = window_start(n, len, o.window(), rng);
  std::vector<int32_t> out = seq;
  std::shuffle(out.begin() + start, out.begin() + start + len, rng);
  return out;
}

/// k = max(1, floor(rate n)) distinct positions of n, in increasing order.
std::vector<int64_t> some_positions(int64_t n, double rate, std::mt19937_64& rng) {
  const int64_t k = std::min(n, std::max<int64_t>(1, static_cast<int64_t>(rate * static_cast<double>(n))));
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = 0; i < k; ++i) std::swap(p[i], p[std::uniform_int_distribution<int64_t>(i, n - 1)(rng)]);
  p.resize(k);
  std::sort(p.begin(), p.end());
  return p;
}

const ItemSimilarity& similarity_of(const AugmentOptions& o) {
  if (!o.similar()) throw Error("insert and substitute need an item similarity");
  return *o.similar();
}

std::vector<int32_t> insert(const std::vector<int32_t>& seq, const AugmentOptions& o, std::mt19937_64& rng) {
  const ItemSimilarity& sim = similarity_of(o);
  const std::vector<int64_t> at = some_positions(static_cast<int64_t>(seq.size()), o.insert(), rng);
  std::vector<int32_t> out;
  size_t next = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    if (next < at.size() && at[next] == static_cast<int64_t>(i)) out.push_back(sim.most_similar(seq[i], rng)), ++next;
    out.push_back(seq[i]);
  }
  return out;
}

std::vector<int32_t> substitute(const std::vector<int32_t>& seq, const AugmentOptions& o, std::mt19937_64& rng) {
  const ItemSimilarity& sim = similarity_of(o);
  std::vector<int32_t> out = seq;
  for (int64_t i : some_positions(static_cast<int64_t>(seq.size()), o.substitute(), rng)) out[i] = sim.most_similar(seq[i], rng);
  return out;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

}  // namespace

const std::map<std::string, Augmentation>& augmentations() {
  static const std::map<std::string, Augmentation> all = {
      {"crop", crop}, {"mask", mask}, {"reorder", reorder}, {"insert", insert}, {"substitute", substitute}};
  return all;
}

torch::Tensor info_nce(const torch::Tensor& z1, const torch::Tensor& z2, double temperature, bool cosine) {
  torch::Tensor a = z1, b = z2;
  if (cosine) {
    a = a / a.norm(2, {1}, true).clamp_min(1e-12);
    b = b / b.norm(2, {1}, true).clamp_min(1e-12);
  }
  const int64_t n = a.size(0);
  torch::Tensor self = torch::eye(n, torch::dtype(torch::kBool).device(a.device()));
  const double inf = std::numeric_limits<double>::infinity();
  torch::Tensor aa = torch::mm(a, a.t()).div(temperature).masked_fill(self, -inf);
  torch::Tensor bb = torch::mm(b, b.t()).div(temperature).masked_fill(self, -inf);
  torch::Tensor ab = torch::mm(a, b.t()).div(temperature);
  torch::Tensor logits = torch::cat({torch::cat({ab, aa}, 1), torch::cat({bb, ab.t()}, 1)}, 0);
  torch::Tensor labels = torch::arange(2 * n, torch::dtype(torch::kLong).device(a.device()));
  return torch::nn::functional::cross_entropy(logits, labels);
}

void ContrastiveTrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  if (!ctx.data) throw Error("--trainer cl4srec needs the training data in its context");
  bool similar = false;
  for (const auto* names : {&options_.augment(), &options_.augment_short()})
    for (const std::string& a : *names) {
      (names == &options_.augment() ? augment_ : augment_short_).push_back(&augmentations().at(a));
      similar = similar || a == "insert" || a == "substitute";
    }
  if (augment_short_.empty()) augment_short_ = augment_;
  if (similar) {
    similar_ = std::make_unique<ItemSimilarity>(*ctx.data);
    options_.augment_options().similar(similar_.get());
  }
  if (ctx.config.choice("cl.mask-id", kMaskIds) == MaskId::kMask) options_.augment_options().mask_id(ctx.data->item_size() - 1);
  optimizer_ = make_adam(ctx.model.parameters(), ctx.config);
}

namespace {
/// Writes the last row.size(0) items of s[0..n) into `row`, left-padded with 0.
void put_left_padded(at::TensorAccessor<int64_t, 1> row, const int32_t* s, int64_t n) {
  const int64_t width = row.size(0), len = std::min(width, n);
  for (int64_t t = 0; t < len; ++t) row[width - len + t] = s[n - len + t];
}
}  // namespace

torch::Tensor ContrastiveTrainer::inputs(const std::vector<int64_t>& users) const {
  torch::Tensor out = torch::zeros({static_cast<int64_t>(users.size()), ctx_->model.max_len()}, torch::kLong);
  auto v = out.accessor<int64_t, 2>();
  for (size_t r = 0; r < users.size(); ++r) put_left_padded(v[r], ctx_->data->begin(users[r]), train_length(*ctx_->data, users[r]) - 1);
  return out;
}

torch::Tensor ContrastiveTrainer::pooled(const torch::Tensor& seqs, const std::vector<int64_t>& rows) {
  return ctx_->model.encode_users(to_device(seqs, ctx_->device), 0, rows_tensor(rows, ctx_->device)).mean(1);
}

torch::Tensor ContrastiveTrainer::encode_views(const torch::Tensor& views, const std::vector<int64_t>& users) {
  std::vector<int64_t> rows(users);
  rows.insert(rows.end(), users.begin(), users.end());
  return ctx_->model.encode_users(to_device(views, ctx_->device), 0, rows_tensor(rows, ctx_->device));
}

void ContrastiveTrainer::begin_epoch(int64_t epoch) {
  if (similar_ && epoch > options_.similarity_warm_up() + 1) similar_->set_online(ctx_->model.item_table());
  if (options_.intent_weight() <= 0) return;
  const Dataset& data = *ctx_->data;
  std::vector<int64_t> users;
  for (int64_t u = 0; u < data.num_users(); ++u)
    if (train_length(data, u) >= 2) users.push_back(u);
  ctx_->model.eval();
  std::vector<torch::Tensor> parts;
  {
    torch::NoGradGuard no_grad;
    for (size_t b = 0; b < users.size(); b += 256) {
      const std::vector<int64_t> chunk(users.begin() + b, users.begin() + std::min(users.size(), b + 256));
      parts.push_back(pooled(inputs(chunk), chunk).to(torch::kCPU));
    }
  }
  ctx_->model.train();
  centroids_ = kmeans(torch::cat(parts), options_.kmeans(), centroids_).centroids;
}

void ContrastiveTrainer::save_state(torch::serialize::OutputArchive& archive) const {
  Trainer::save_state(archive);
  if (centroids_.defined()) archive.write("intent_centroids", centroids_, /*is_buffer=*/true);
  if (similar_) {
    auto [top, score] = similar_->online();
    if (top.defined()) archive.write("online_similar", top, true), archive.write("online_similar_score", score, true);
  }
}

void ContrastiveTrainer::load_state(torch::serialize::InputArchive& archive) {
  Trainer::load_state(archive);
  torch::Tensor c;
  // k-means runs on the CPU
  if (archive.try_read("intent_centroids", c, /*is_buffer=*/true)) centroids_ = c.to(torch::kCPU);
  torch::Tensor top, score;
  if (similar_ && archive.try_read("online_similar", top, true) &&
      archive.try_read("online_similar_score", score, true))
    similar_->restore_online(top, score);
}

torch::Tensor ContrastiveTrainer::views(const std::vector<int64_t>& users) {
  const Dataset& data = *ctx_->data;
  const int64_t b = static_cast<int64_t>(users.size());
  torch::Tensor out = torch::zeros({2 * b, ctx_->model.max_len()}, torch::kLong);
  auto v = out.accessor<int64_t, 2>();
  for (int64_t r = 0; r < b; ++r) {
    const int32_t* s = data.begin(users[r]);
    const std::vector<int32_t> input(s, s + train_length(data, users[r]) - 1);
    const auto& set = static_cast<int64_t>(input.size()) <= options_.short_length() ? augment_short_ : augment_;
    std::uniform_int_distribution<size_t> pick(0, set.size() - 1);
    for (int64_t view = 0; view < 2; ++view) {
      const std::vector<int32_t> a = (*set[pick(ctx_->rng)])(input, options_.augment_options(), ctx_->rng);
      put_left_padded(v[view * b + r], a.data(), static_cast<int64_t>(a.size()));
    }
  }
  return out;
}

torch::Tensor ContrastiveTrainer::contrastive_loss(const torch::Tensor& views, const std::vector<int64_t>& users) {
  torch::Tensor h = encode_views(views, users);  // [2B, W, d]
  torch::Tensor z;
  switch (options_.representation()) {
    case ViewRepresentation::kFlatten: z = h.reshape({h.size(0), -1}); break;
    case ViewRepresentation::kMean: z = h.mean(1); break;
    case ViewRepresentation::kLast: z = h.select(1, h.size(1) - 1); break;
  }
  const int64_t b = views.size(0) / 2;
  return info_nce(z.slice(0, 0, b), z.slice(0, b), options_.temperature(), options_.cosine());
}

torch::Tensor ContrastiveTrainer::intent_loss(const torch::Tensor& views, const std::vector<int64_t>& users) {
  if (!centroids_.defined()) throw Error("--trainer " + name_ + ": no intents (begin_epoch was not called)");
  torch::Tensor intents;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = pooled(inputs(users), users).to(torch::kCPU, centroids_.scalar_type());
    const torch::Tensor unit = centroids_ / centroids_.norm(2, {1}, true).clamp_min(1e-12);
    intents = to_device(unit.index_select(0, nearest_centroids(x, centroids_).first), ctx_->device);
  }
  // The same views as the instance term, encoded again (their own dropout), as ICLRec's code does.
  const torch::Tensor z = encode_views(views, users).mean(1);
  intents = intents.to(z.scalar_type());
  const int64_t b = static_cast<int64_t>(users.size());
  return (info_nce(z.slice(0, 0, b), intents, options_.temperature(), false) +
          info_nce(z.slice(0, b), intents, options_.temperature(), false)) / 2;
}

torch::Tensor ContrastiveTrainer::step(const Batch& batch) {
  ctx_->model.train();
  optimizer_->zero_grad();
  LossInput in = make_loss_input(*ctx_, batch);
  torch::Tensor main = ctx_->loss.forward(in);
  std::vector<int64_t> users;
  for (const Batch* piece : batch.pieces()) users.insert(users.end(), piece->users.begin(), piece->users.end());
  const torch::Tensor pair = views(users);
  torch::Tensor loss = with_penalty(ctx_->model, main) + options_.weight() * contrastive_loss(pair, users);
  if (options_.intent_weight() > 0) loss = loss + options_.intent_weight() * intent_loss(pair, users);
  loss.backward();
  optimizer_->step();
  return loss.detach();
}

namespace {
void register_cl4srec(PluginHost& host) {
  Schema& s = *host.schema;
  s.add({"cl.weight", KeyType::kFloat, "0.1", "cl4srec: weight of the contrastive term (ICLRec's cf_weight)", "cl4srec"});
  s.add({"cl.temperature", KeyType::kFloat, "1.0", "cl4srec: InfoNCE temperature", "cl4srec"});
  s.add({"cl.similarity", KeyType::kString, "dot", "cl4srec: InfoNCE similarity (the reference's: dot)", "cl4srec",
         {"dot", "cosine"}});
  s.add({"cl.augment", KeyType::kString, "crop,mask,reorder",
         "cl4srec: augmentations a view draws one of, uniformly (comma list of crop, mask, reorder, insert, substitute)",
         "cl4srec"});
  s.add({"cl.representation", KeyType::kString, "flatten",
         "cl4srec: what InfoNCE compares: flatten (every position of the max-len view, the reference's), mean, last",
         "cl4srec", choices_of(kViewRepresentations)});
  s.add({"cl.augment-short", KeyType::kString, "",
         "cl4srec: the augmentations of inputs of at most cl.short-length items (CoSeRec; empty: cl.augment)", "cl4srec"});
  s.add({"cl.short-length", KeyType::kInt, "0", "cl4srec: inputs this long or shorter use cl.augment-short (CoSeRec's "
         "augment_threshold)", "cl4srec"});
  s.add({"cl.insert", KeyType::kFloat, "0.4", "cl4srec: share of positions insert puts a similar item before (CoSeRec)", "cl4srec"});
  s.add({"cl.substitute", KeyType::kFloat, "0.1", "cl4srec: share of items substitute replaces by a similar one (CoSeRec)", "cl4srec"});
  s.add({"cl.similarity-warm-up", KeyType::kInt, "160",
         "cl4srec: insert and substitute use ItemCF-IUF alone for this many epochs and one more, then also the item "
         "embeddings (CoSeRec's augmentation_warm_up_epoches)", "cl4srec"});
  s.add({"cl.crop", KeyType::kFloat, "0.2", "cl4srec: share of the sequence a crop keeps (tao)", "cl4srec"});
  s.add({"cl.mask", KeyType::kFloat, "0.7", "cl4srec: share of the items masked (gamma)", "cl4srec"});
  s.add({"cl.reorder", KeyType::kFloat, "0.2", "cl4srec: share of the sequence reordered (beta)", "cl4srec"});
  s.add({"cl.window", KeyType::kString, "reference",
         "cl4srec: crop and reorder windows start in [0, n-L-1] (reference: never the last item) or [0, n-L] (uniform)",
         "cl4srec", choices_of(kAugmentWindows)});
  s.add({"cl.mask-id", KeyType::kString, "padding",
         "cl4srec: a masked item becomes padding (0, the reference's: it leaves attention) or the mask row", "cl4srec",
         choices_of(kMaskIds)});
  s.add({"cl.intent-weight", KeyType::kFloat, "0.1", "iclrec: weight of the intent term (ICLRec's intent_cf_weight)", "cl4srec"});
  s.add({"cl.clusters", KeyType::kInt, "256", "iclrec: intents (k-means clusters)", "cl4srec"});
  s.add({"cl.kmeans-iterations", KeyType::kInt, "20", "iclrec: k-means iterations per epoch", "cl4srec"});
  s.add({"cl.kmeans-restarts", KeyType::kInt, "5",
         "iclrec: k-means runs from random starts in the first epoch (later epochs start from the last centroids)", "cl4srec"});
  s.add({"cl.kmeans-warm", KeyType::kString, "once",
         "iclrec: the later epochs' k-means from the last centroids: once (one run of cl.kmeans-iterations) or chained "
         "(ICLRec's code: faiss's Clustering, holding centroids, runs cl.kmeans-restarts runs each from where the last "
         "ended and keeps the least error)", "cl4srec", {"once", "chained"}});
  for (const char* k : {"cl.clusters", "cl.kmeans-iterations", "cl.kmeans-restarts"}) s.limit(k, {1, HUGE_VAL});
  for (const char* k : {"cl.crop", "cl.mask", "cl.reorder", "cl.insert", "cl.substitute"}) s.limit(k, {0, 1});
  for (const char* k : {"cl.short-length", "cl.similarity-warm-up"}) s.limit(k, {0, HUGE_VAL});
  s.limit("cl.weight", {0, HUGE_VAL});
  s.limit("cl.temperature", {0, HUGE_VAL, /*lo_open=*/true});
  auto make = [](const std::string& name, const Config& c) -> std::unique_ptr<Trainer> {
    ContrastiveOptions o;
    auto names_of = [&](const char* key) {
      std::vector<std::string> names = split_names(c.str(key));
      for (const std::string& n : names)
        if (!augmentations().count(n))
          throw Error(std::string("--") + key + ": unknown augmentation '" + n +
                      "' (crop, mask, reorder, insert, substitute)");
      return names;
    };
    const std::vector<std::string> names = names_of("cl.augment");
    if (names.empty()) throw Error("--cl.augment names no augmentation");
    AugmentOptions a;
    a.crop(c.real("cl.crop")).mask(c.real("cl.mask")).reorder(c.real("cl.reorder"))
        .insert(c.real("cl.insert")).substitute(c.real("cl.substitute"))
        .window(c.choice("cl.window", kAugmentWindows));
    o.augment_short(names_of("cl.augment-short")).short_length(c.integer("cl.short-length"))
        .similarity_warm_up(c.integer("cl.similarity-warm-up"));
    o.weight(c.real("cl.weight")).temperature(c.real("cl.temperature"))
        .cosine(c.str("cl.similarity") == "cosine").augment(names)
        .representation(c.choice("cl.representation", kViewRepresentations)).augment_options(a);
    if (name == "iclrec") {
      if (c.real("cl.intent-weight") <= 0) throw Error("--trainer iclrec needs --cl.intent-weight above 0");
      o.intent_weight(c.real("cl.intent-weight"))
          .kmeans(KMeansOptions().clusters(c.integer("cl.clusters")).iterations(c.integer("cl.kmeans-iterations"))
                      .restarts(c.integer("cl.kmeans-restarts")).seed(static_cast<uint64_t>(c.integer("seed")))
                      .chain_restarts(c.str("cl.kmeans-warm") == "chained"));
    }
    return std::make_unique<ContrastiveTrainer>(name, o);
  };
  host.trainers->add("cl4srec", [make](const Config& c) { return make("cl4srec", c); },
                     "CL4SRec: any loss plus InfoNCE between two augmented views of each sequence (keys cl.*)", host.origin);
  host.trainers->add("iclrec", [make](const Config& c) { return make("iclrec", c); },
                     "ICLRec: cl4srec plus InfoNCE of each view against its sequence's k-means intent, reclustered "
                     "every epoch (keys cl.*)", host.origin);
}
SEQREC_BUILTIN(register_cl4srec);
}  // namespace

}  // namespace seqrec
