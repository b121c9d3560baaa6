#include "baselines/duorec/duorec.h"

#include <random>

#include "baselines/cl4srec/cl4srec.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

namespace {
/// Whether example x's input equals `input` (length n).
template <typename T>
bool same_input(const Dataset& data, const TrainBatcher::Example& x, const T* input, int64_t n) {
  if (x.length() != n) return false;
  const int32_t* s = data.begin(x.user) + x.begin;
  for (int64_t t = 0; t < n; ++t)
    if (s[t] != input[t]) return false;
  return true;
}
}  // namespace

void DuoRecTrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  if (!ctx.data) throw Error("--trainer duorec needs the training data in its context");
  const Examples kind = ctx.config.choice("examples", examples_names());
  if (kind == Examples::kSequences)
    throw Error("--trainer duorec contrasts examples by their target: use --examples window-prefixes (its authors') or prefixes");
  optimizer_ = make_adam(ctx.model.parameters(), ctx.config);
  const Dataset& data = *ctx.data;
  examples_ = TrainBatcher(data, ctx.model.max_len(), 1, Batching::kPadded, kind).examples();
  by_target_.assign(data.item_size(), {});
  varied_.assign(data.item_size(), 0);
  for (size_t i = 0; i < examples_.size(); ++i) {
    const TrainBatcher::Example& x = examples_[i];
    const int64_t target = data.begin(x.user)[x.end];
    auto& same = by_target_[target];
    if (!same.empty() && !varied_[target]) {
      const TrainBatcher::Example& first = examples_[same.front()];
      varied_[target] = !same_input(data, x, data.begin(first.user) + first.begin, first.length());
    }
    same.push_back(i);
  }
}

torch::Tensor DuoRecTrainer::same_target_inputs(const Batch& batch, std::vector<int64_t>* users) {
  const Dataset& data = *ctx_->data;
  const int64_t max_len = ctx_->model.max_len();
  int64_t n = 0;
  for (const Batch* piece : batch.pieces()) n += piece->inputs.size(0);
  torch::Tensor out = torch::zeros({n, max_len}, torch::kLong);
  auto o = out.accessor<int64_t, 2>();
  users->clear();
  int64_t row = 0;
  for (const Batch* piece : batch.pieces()) {
    auto in = piece->inputs.accessor<int64_t, 2>();
    auto tg = piece->targets.accessor<int64_t, 2>();
    const int64_t w = piece->width();
    for (int64_t r = 0; r < piece->inputs.size(0); ++r, ++row) {
      const int64_t target = tg[r][w - 1];
      int64_t first = 0;  // the row's own input: its columns after the left padding
      while (first < w && in[r][first] == 0) ++first;
      const int64_t* own = in[r].data() + first;
      const std::vector<size_t>& same = by_target_.at(target);
      if (same.empty()) throw Error("duorec: target " + std::to_string(target) + " is no training example's");
      std::uniform_int_distribution<size_t> pick(0, same.size() - 1);
      const TrainBatcher::Example* x = &examples_[same[pick(ctx_->rng)]];
      while (varied_[target] && same_input(data, *x, own, w - first)) x = &examples_[same[pick(ctx_->rng)]];
      const int32_t* s = data.begin(x->user);
      const int64_t len = std::min(x->length(), max_len);
      for (int64_t t = 0; t < len; ++t) o[row][max_len - len + t] = s[x->end - len + t];
      users->push_back(x->user);
    }
  }
  return out;
}

torch::Tensor DuoRecTrainer::step(const Batch& batch) {
  Model& model = ctx_->model;
  model.train();
  optimizer_->zero_grad();
  LossInput in = make_loss_input(*ctx_, batch);
  torch::Tensor loss = with_penalty(model, ctx_->loss.forward(in));
  const DuoRecContrast c = options_.contrast();
  torch::Tensor dropout_view, same_target;
  if (c != DuoRecContrast::kSu) dropout_view = encode_packed(model, batch, Positions::kLast, ctx_->device).hidden;
  if (c != DuoRecContrast::kUn) {
    std::vector<int64_t> users;
    const torch::Tensor inputs = same_target_inputs(batch, &users);
    same_target = model.encode_last_users(to_device(inputs, ctx_->device), 0, rows_tensor(users, ctx_->device));
  }
  auto nce = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return info_nce(a, b, options_.temperature(), options_.cosine());
  };
  switch (c) {
    case DuoRecContrast::kUsX: loss = loss + options_.same_target_weight() * nce(dropout_view, same_target); break;
    case DuoRecContrast::kUs:
      loss = loss + options_.weight() * nce(in.hidden, dropout_view) + options_.same_target_weight() * nce(in.hidden, same_target);
      break;
    case DuoRecContrast::kUn: loss = loss + options_.weight() * nce(in.hidden, dropout_view); break;
    case DuoRecContrast::kSu: loss = loss + options_.same_target_weight() * nce(in.hidden, same_target); break;
  }
  loss.backward();
  optimizer_->step();
  return loss.detach();
}

namespace {
const EnumNames<DuoRecContrast> kContrasts = {
    {"us_x", DuoRecContrast::kUsX}, {"us", DuoRecContrast::kUs}, {"un", DuoRecContrast::kUn}, {"su", DuoRecContrast::kSu}};

void register_duorec(PluginHost& host) {
  Schema& s = *host.schema;
  const std::string g = "duorec";
  s.add({"duorec.contrast", KeyType::kString, "us_x",
         "duorec: us_x (the dropout view against the same-target view, DuoRec's), us (the example against both), un "
         "(against the dropout view), su (against the same-target view)",
         g, choices_of(kContrasts)});
  s.add({"duorec.weight", KeyType::kFloat, "0.1", "duorec: weight of the dropout view's term (lmd; us, un)", g});
  s.add({"duorec.same-target-weight", KeyType::kFloat, "0.1",
         "duorec: weight of the same-target view's term (lmd_sem; us_x, us, su)", g});
  s.add({"duorec.temperature", KeyType::kFloat, "1.0", "duorec: InfoNCE temperature (tau)", g});
  s.add({"duorec.similarity", KeyType::kString, "dot", "duorec: InfoNCE similarity (the reference's: dot)", g, {"dot", "cosine"}});
  s.limit("duorec.weight", {0, HUGE_VAL});
  s.limit("duorec.same-target-weight", {0, HUGE_VAL});
  s.limit("duorec.temperature", {0, HUGE_VAL, /*lo_open=*/true});
  host.trainers->add("duorec",
                     [](const Config& c) -> std::unique_ptr<Trainer> {
                       DuoRecOptions o;
                       o.contrast(c.choice("duorec.contrast", kContrasts))
                           .weight(c.real("duorec.weight"))
                           .same_target_weight(c.real("duorec.same-target-weight"))
                           .temperature(c.real("duorec.temperature"))
                           .cosine(c.str("duorec.similarity") == "cosine");
                       return std::make_unique<DuoRecTrainer>(o);
                     },
                     "DuoRec: any loss on prefix examples plus InfoNCE between a second dropout pass of each input "
                     "and another example with the same target (its authors': --examples window-prefixes, --loss ce; "
                     "keys duorec.*)",
                     host.origin, {}, {{"examples", "window-prefixes"}, {"loss", "ce"}});
}
SEQREC_BUILTIN(register_duorec);
}  // namespace

}  // namespace seqrec
