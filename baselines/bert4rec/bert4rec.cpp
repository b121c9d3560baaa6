#include "baselines/bert4rec/bert4rec.h"

#include <torch/nn/functional/activation.h>

#include "baselines/losses/softmax_ce.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

BERT4Rec::BERT4Rec(SASRecOptions o) : SASRec(o.causal(false)) {
  const int64_t d = o.hidden_size();
  head_dense = register_module("head_dense", torch::nn::Linear(d, d));
  head_norm = register_module("head_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-12)));
  output_bias = register_parameter("output_bias", torch::zeros({o.item_size()}));
  reset_parameters();
}

torch::Tensor BERT4Rec::encode(const torch::Tensor& seqs, int64_t position_offset) {
  torch::Tensor h = head_norm(torch::gelu(head_dense(SASRec::encode(seqs, position_offset))));
  return torch::cat({h, torch::ones_like(h.narrow(2, 0, 1))}, 2);
}

torch::Tensor BERT4Rec::encode_last(const torch::Tensor& seqs, int64_t) {
  torch::Tensor x = torch::cat({seqs, torch::full({seqs.size(0), 1}, mask_id(), seqs.options())}, 1);
  if (x.size(1) > max_len()) x = x.slice(1, x.size(1) - max_len());
  torch::Tensor out = encode(x, max_len() - x.size(1));  // inputs are right-aligned: the offset follows the width
  return out.select(1, out.size(1) - 1);
}

torch::Tensor BERT4Rec::item_table() { return torch::cat({item_embeddings->weight, output_bias.unsqueeze(1)}, 1); }

void ClozeTrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  model_ = dynamic_cast<BERT4Rec*>(&ctx.model);
  if (!model_) throw Error("--trainer cloze needs --model bert4rec");
  optimizer_ = make_adam(ctx.model.parameters(), ctx.config);
}

torch::Tensor ClozeTrainer::step(const Batch& batch) {
  const torch::Device dev = ctx_->device;
  const int64_t max_len = model_->max_len();
  model_->train();
  optimizer_->zero_grad();
  std::vector<torch::Tensor> hidden, targets;
  for (const Batch* part : batch.pieces()) {
    // The whole training window: the first input then every target (cut to max_len).
    torch::Tensor seq = torch::cat({part->inputs.slice(1, 0, 1), part->targets}, 1);
    if (seq.size(1) > max_len) seq = seq.slice(1, seq.size(1) - max_len);
    const int64_t b = seq.size(0), w = seq.size(1);
    torch::Tensor real = seq > 0;
    torch::Tensor len = real.sum(1);
    // Choose max(1, round(p * len)) real positions per row, uniformly without replacement:
    // the k smallest of random keys, padding keyed above every real position.
    torch::Tensor keys = torch::rand({b, w}).masked_fill_(~real, 2.0);
    torch::Tensor rank = keys.argsort(/*dim=*/int64_t{1}).argsort(int64_t{1});
    torch::Tensor k = (len.to(torch::kDouble) * options_.mask_prob()).round().clamp_min(1).to(torch::kLong);
    torch::Tensor masked = (rank < k.unsqueeze(1)) & real;
    // Some rows instead mask only their last item (the next-item task of inference).
    torch::Tensor last_only = torch::rand({b}) < options_.last_item_prob();
    torch::Tensor last_col = torch::zeros({b, w}, torch::kBool);
    last_col.select(1, w - 1).fill_(true);
    masked = torch::where(last_only.unsqueeze(1), last_col & real, masked);
    torch::Tensor input = seq.masked_fill(masked, model_->mask_id());
    torch::Tensor h = model_->encode(to_device(input, dev), max_len - w);
    torch::Tensor idx = masked.reshape(-1).nonzero().squeeze(1);
    hidden.push_back(h.reshape({b * w, -1}).index_select(0, to_device(idx, dev)));
    targets.push_back(to_device(seq.reshape(-1).index_select(0, idx), dev));
  }
  torch::Tensor y = torch::cat(targets);
  torch::Tensor loss = fused_softmax_ce(torch::cat(hidden), model_->item_table(), y, nullptr, ctx_->config.integer("item-block"));
  torch::Tensor value = backward_mean(loss, y.size(0), *optimizer_);
  optimizer_->step();
  return value;
}

namespace {
void register_bert4rec(PluginHost& host) {
  Schema& s = *host.schema;
  s.add({"bert4rec.mask-prob", KeyType::kFloat, "0.2", "cloze: share of each sequence's items masked", "bert4rec"});
  s.add({"bert4rec.last-item-prob", KeyType::kFloat, "0.1",
         "cloze: share of sequences trained with only their last item masked (our choice of mix)", "bert4rec"});
  host.models->add("bert4rec",
             [](const ModelContext& ctx) -> std::shared_ptr<Model> {
               return std::make_shared<BERT4Rec>(sasrec_options_from(ctx.config, ctx.data.item_size()));
             },
             "bidirectional transformer with mask token and biased output head (sizes: sasrec.*); trained by --trainer cloze",
             host.origin, {{"trainer", "cloze"}});
  host.trainers->add("cloze",
               [](const Config& c) -> std::unique_ptr<Trainer> {
                 const double p = c.real("bert4rec.mask-prob"), q = c.real("bert4rec.last-item-prob");
                 if (p <= 0 || p > 1) throw Error("--bert4rec.mask-prob must lie in (0, 1]");
                 if (q < 0 || q > 1) throw Error("--bert4rec.last-item-prob must lie in [0, 1]");
                 return std::make_unique<ClozeTrainer>(ClozeOptions().mask_prob(p).last_item_prob(q));
               },
               "BERT4Rec's cloze task: masked positions, full-softmax CE (keys bert4rec.*)", host.origin,
               {{"model", "bert4rec"}});
}
SEQREC_BUILTIN(register_bert4rec);
}  // namespace

}  // namespace seqrec
