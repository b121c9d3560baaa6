#include "plugin/elecrec/elecrec.h"

#include <torch/nn/init.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>
#include <set>

#include "baselines/losses/softmax_ce.h"
#include "seqrec/distributed.h"
#include "seqrec/error.h"

namespace seqrec::elecrec {

void declare_elecrec_keys(Schema& s) {
  const char* g = "elecrec";
  s.add(KeySpec{"elecrec.gen-hidden-size", KeyType::kInt, "64", "generator hidden size", g}.architecture());
  s.add(KeySpec{"elecrec.gen-layers", KeyType::kInt, "2", "generator blocks", g}.architecture());
  s.add(KeySpec{"elecrec.gen-heads", KeyType::kInt, "2", "generator heads", g}.architecture());
  s.add(KeySpec{"elecrec.dis-hidden-size", KeyType::kInt, "64", "discriminator hidden size", g}.architecture());
  s.add(KeySpec{"elecrec.dis-layers", KeyType::kInt, "2", "discriminator blocks", g}.architecture());
  s.add(KeySpec{"elecrec.dis-heads", KeyType::kInt, "2", "discriminator heads", g}.architecture());
  s.add(KeySpec{"elecrec.dis-encoder", KeyType::kString, "sasrec",
         "D's encoder: sasrec (the reference's), or fmlprec / bsarec (SASRec's embedding layer and feed-forward, "
         "the attention replaced by FMLP-Rec's filter or mixed with BSARec's frequency layer; bsarec.* keys apply), "
         "sized by elecrec.dis-*; G is SASRec", g,
         choices_of(kDisEncoders)}.architecture());
  s.add(KeySpec{"elecrec.sharing", KeyType::kString, "embed_only",
         "modules G and D share: full (embeddings + encoder), embed_only, encoder_only, none", g,
         choices_of(kSharings)}.architecture());
  s.add({"elecrec.sample-ratio", KeyType::kFloat, "0.7", "share of positions offered a generated item", g});
  s.add({"elecrec.prob-power", KeyType::kFloat, "1.0", "sample from softmax^power (an inverse temperature)", g});
  s.add({"elecrec.item-sample-ratio", KeyType::kFloat, "1.0", "share of the catalogue drawn as candidates per batch", g});
  s.add({"elecrec.gen-loss-weight", KeyType::kFloat, "1.0", "weight of the generator's CE", g});
  s.add({"elecrec.dis-loss-weight", KeyType::kFloat, "0.5", "weight of the discriminator's BCE", g});
  s.add(KeySpec{"elecrec.project-type", KeyType::kString, "affine", "discriminator head: affine Linear(d,1) or sum(h)/temperature",
         g, choices_of(kProjectTypes)}.architecture());
  s.add({"elecrec.temperature", KeyType::kFloat, "1.0", "temperature of the sum head", g});
  s.add({"elecrec.dis-opt", KeyType::kString, "full",
         "discriminator loss over all real positions (full) or only those offered a generated item (mask_only)", g,
         choices_of(kDisOpts)});
  s.add({"elecrec.gen-loss-padding", KeyType::kString, "include",
         "generator CE: include = the reference's, over every position of max_len-wide batches, padding included "
         "(target 0; needs --batching padded); include-pieces = padding included but the mean over each batch piece's "
         "own width (split/packed batches; not the reference's weighting); reference-weight = real positions only, "
         "summed and divided by batch x max_len (the reference's weight on them, padded positions' loss and "
         "replacements left out; any batching); mask = real positions only, their mean",
         g, choices_of(kGenLossPaddings)});
  s.add({"elecrec.double-step-shared", KeyType::kBool, "true",
         "list shared tensors twice in Adam, which then updates them twice per step (the reference's behaviour); "
         "false = one step", g});
  for (const char* k : {"elecrec.gen-hidden-size", "elecrec.gen-layers", "elecrec.gen-heads", "elecrec.dis-hidden-size",
                        "elecrec.dis-layers", "elecrec.dis-heads"})
    s.limit(k, {1, HUGE_VAL});
  s.limit("elecrec.sample-ratio", {0, 1});
  s.limit("elecrec.item-sample-ratio", {0, 1, /*lo_open=*/true});
  for (const char* k : {"elecrec.prob-power", "elecrec.temperature"}) s.limit(k, {0, HUGE_VAL, true});
  for (const char* k : {"elecrec.gen-loss-weight", "elecrec.dis-loss-weight"}) s.limit(k, {0, HUGE_VAL});
}

ElecRecOptions elecrec_options_from(const Config& c, int64_t item_size) {
  SASRecOptions base = sasrec_options_from(c, item_size);
  SASRecOptions gen = base, dis = base;
  gen.hidden_size(c.integer("elecrec.gen-hidden-size")).layers(c.integer("elecrec.gen-layers")).heads(c.integer("elecrec.gen-heads"));
  dis.hidden_size(c.integer("elecrec.dis-hidden-size")).layers(c.integer("elecrec.dis-layers")).heads(c.integer("elecrec.dis-heads"));
  check_sasrec_options(gen, "elecrec generator");
  check_sasrec_options(dis, "elecrec discriminator");
  ElecRecOptions o(gen, dis);
  o.dis_encoder(c.choice("elecrec.dis-encoder", kDisEncoders));
  if (o.dis_encoder() != DisEncoder::kSASRec)
    o.frequency(frequency_options_from(c, o.dis_encoder() == DisEncoder::kBSARec ? FrequencyOptions::Kind::kBSARec
                                                                                 : FrequencyOptions::Kind::kFMLPRec));
  o.sharing(c.choice("elecrec.sharing", kSharings))
      .sample_ratio(c.real("elecrec.sample-ratio"))
      .prob_power(c.real("elecrec.prob-power"))
      .item_sample_ratio(c.real("elecrec.item-sample-ratio"))
      .gen_loss_weight(c.real("elecrec.gen-loss-weight"))
      .dis_loss_weight(c.real("elecrec.dis-loss-weight"))
      .project_type(c.choice("elecrec.project-type", kProjectTypes))
      .temperature(c.real("elecrec.temperature"))
      .dis_opt(c.choice("elecrec.dis-opt", kDisOpts))
      .gen_loss_padding(c.choice("elecrec.gen-loss-padding", kGenLossPaddings))
      .double_step_shared(c.flag("elecrec.double-step-shared"));
  return o;
}

namespace {
std::shared_ptr<Model> make_discriminator(const ElecRecOptions& o) {
  if (o.dis_encoder() == DisEncoder::kSASRec) return std::make_shared<SASRec>(o.dis());
  return std::make_shared<FrequencyEncoder>(o.dis(), o.frequency());
}

/// Points `d`'s embedding members and modules at `g`'s.
template <class Encoder>
void take_embeddings(Encoder& d, const SASRec& g) {
  d.item_embeddings = d.replace_module("item_embeddings", g.item_embeddings);
  d.position_embeddings = d.replace_module("position_embeddings", g.position_embeddings);
}
}  // namespace

ElecRecModel::ElecRecModel(const ElecRecOptions& o) : options_(o) {
  const std::string sharing = name_of(kSharings, o.sharing());
  const bool embed = o.sharing() == Sharing::kFull || o.sharing() == Sharing::kEmbedOnly;
  const bool encoder = o.sharing() == Sharing::kFull || o.sharing() == Sharing::kEncoderOnly;
  if (encoder && o.dis_encoder() != DisEncoder::kSASRec)
    throw Error("elecrec: sharing '" + sharing + "' shares G's SASRec blocks, which --elecrec.dis-encoder " +
                name_of(kDisEncoders, o.dis_encoder()) + " does not have; use embed_only or none");
  if ((embed || encoder) && o.gen().hidden_size() != o.dis().hidden_size())
    throw Error("elecrec: sharing '" + sharing + "' needs equal generator and discriminator hidden sizes");
  if (encoder && (o.gen().layers() != o.dis().layers() || o.gen().heads() != o.dis().heads()))
    throw Error("elecrec: sharing the encoder needs equal generator and discriminator layers and heads");
  // Weights drawn in the reference's order: D, G, the projection.
  discriminator = make_discriminator(o);
  auto gen = std::make_shared<SASRec>(o.gen());
  torch::nn::Linear projection(o.dis().hidden_size(), 1);
  {
    torch::NoGradGuard g;
    projection->weight.normal_(0.0, o.dis().init_std());
    projection->bias.zero_();
  }
  if (embed) {
    if (auto* d = dynamic_cast<SASRec*>(discriminator.get())) take_embeddings(*d, *gen);
    if (auto* d = dynamic_cast<FrequencyEncoder*>(discriminator.get())) take_embeddings(*d, *gen);
  }
  if (encoder) {
    auto& d = static_cast<SASRec&>(*discriminator);
    d.item_encoder = d.replace_module("item_encoder", gen->item_encoder);
  }
  for (const auto& child : discriminator->named_children()) register_module(child.key(), child.value());
  for (const auto& p : discriminator->named_parameters(/*recurse=*/false)) register_parameter(p.key(), p.value());
  for (const auto& b : discriminator->named_buffers(/*recurse=*/false)) register_buffer(b.key(), b.value());
  generator = register_module("generator", gen);
  dis_projection = register_module("dis_projection", projection);
}

void ElecRecModel::train(bool on) {
  Model::train(on);
  discriminator->train(on);
}

std::string ElecRecModel::options_json() const {
  nlohmann::json j;
  j["generator"] = nlohmann::json::parse(generator->options_json());
  j["dis_encoder"] = discriminator->kind();
  j["discriminator"] = nlohmann::json::parse(discriminator->options_json());
  j["sharing"] = name_of(kSharings, options_.sharing());
  j["sample_ratio"] = options_.sample_ratio();
  j["prob_power"] = options_.prob_power();
  j["item_sample_ratio"] = options_.item_sample_ratio();
  j["gen_loss_weight"] = options_.gen_loss_weight();
  j["dis_loss_weight"] = options_.dis_loss_weight();
  j["project_type"] = name_of(kProjectTypes, options_.project_type());
  j["temperature"] = options_.temperature();
  j["dis_opt"] = name_of(kDisOpts, options_.dis_opt());
  j["gen_loss_padding"] = name_of(kGenLossPaddings, options_.gen_loss_padding());
  j["double_step_shared"] = options_.double_step_shared();
  return j.dump();
}

torch::Tensor ElecRecModel::discriminate(const torch::Tensor& hidden) {
  if (options_.project_type() == ProjectType::kSum) return hidden.sum(-1) / options_.temperature();
  return dis_projection(hidden).squeeze(-1);
}

std::vector<torch::Tensor> ElecRecTrainer::optimiser_parameters(ElecRecModel& m, bool double_step_shared) {
  std::vector<torch::Tensor> params = m.generator->parameters();
  std::set<const void*> seen;
  for (const auto& p : params) seen.insert(p.unsafeGetTensorImpl());
  for (const auto& p : m.named_parameters()) {
    if (p.key().rfind("generator.", 0) == 0) continue;
    if (!double_step_shared && seen.count(p.value().unsafeGetTensorImpl())) continue;
    params.push_back(p.value());
  }
  return params;
}

void ElecRecTrainer::setup(TrainContext& ctx) {
  ctx_ = &ctx;
  model_ = dynamic_cast<ElecRecModel*>(&ctx.model);
  if (!model_) throw Error("--trainer elecrec needs --model elecrec");
  if (model_->elecrec_options().gen_loss_padding() == GenLossPadding::kInclude &&
      ctx.config.choice("batching", batching_names()) != Batching::kPadded)
    throw Error("--elecrec.gen-loss-padding include (the reference's objective) needs --batching padded; with --batching " +
                ctx.config.str("batching") + " use include-pieces (padding included, mean over each piece's width) or "
                "reference-weight (real positions, the reference's weight)");
  if (ctx.config.choice("examples", examples_names()) != Examples::kSequences)
    throw Error("--trainer elecrec trains G and D on every position of whole sequences; --examples " +
                ctx.config.str("examples") + " is not offered");
  optimizer_ = make_adam(optimiser_parameters(*model_, model_->elecrec_options().double_step_shared()), ctx.config);
}

torch::Tensor ElecRecTrainer::step(const Batch& batch) {
  const ElecRecOptions& o = model_->elecrec_options();
  const torch::Device dev = ctx_->device;
  model_->train();
  optimizer_->zero_grad();
  const bool include_padding =
      o.gen_loss_padding() == GenLossPadding::kInclude || o.gen_loss_padding() == GenLossPadding::kIncludePieces;

  // 1. Generator over every piece of the batch; its CE and one draw per position come from
  //    the same logits, computed once for all pieces.
  struct Piece {
    const Batch* batch;
    torch::Tensor y, idx;  // targets [B, W]; flat positions the generator trains on
  };
  std::vector<Piece> pieces;
  std::vector<torch::Tensor> hidden, targets;
  for (const Batch* part : batch.pieces()) {
    torch::Tensor y = to_device(part->targets, dev);
    torch::Tensor flat_y = y.reshape(-1);
    // The real positions found on the host: nonzero on a device waits for it.
    torch::Tensor idx = include_padding ? torch::arange(flat_y.size(0), flat_y.options())
                                        : to_device(part->targets.reshape(-1).nonzero().squeeze(1), dev);
    torch::Tensor hg = model_->generator->encode(to_device(part->inputs, dev), part->position_offset);
    hidden.push_back(hg.reshape({-1, hg.size(2)}).index_select(0, idx));
    targets.push_back(flat_y.index_select(0, idx));
    pieces.push_back({part, y, idx});
  }
  torch::Tensor yp = torch::cat(targets);
  const int64_t n = yp.size(0);
  SoftmaxSampling sampling;
  sampling.power = o.prob_power();
  const int64_t item_size = model_->generator->item_table().size(0);
  if (o.item_sample_ratio() < 1.0) {
    const int64_t k = std::max<int64_t>(1, static_cast<int64_t>(item_size * o.item_sample_ratio()) - 1);
    sampling.candidates = std::get<0>((torch::randperm(item_size - 1, yp.options()) + 1).slice(0, 0, k).sort());
  }
  sampling.uniforms = torch::rand({n}, torch::TensorOptions().device(dev));
  torch::Tensor gen_loss = fused_softmax_ce(torch::cat(hidden), model_->generator->item_table(), yp, &sampling,
                                            ctx_->config.integer("item-block"));
  int64_t rows = 0;
  for (const Piece& pc : pieces) rows += pc.y.size(0);
  const bool reference_weight = o.gen_loss_padding() == GenLossPadding::kReferenceWeight;
  if (reference_weight) {
    // The mean over real positions times their share of the batch's max_len-wide grid: the
    // weight the reference's mean over every position gives them.
    gen_loss = gen_loss * (static_cast<double>(n) / static_cast<double>(rows * o.gen().max_len()));
  }

  // 2. Offer a generated item at a share sample_ratio of the positions.
  torch::Tensor offered = torch::rand({n}, torch::TensorOptions().device(dev)) < o.sample_ratio();
  torch::Tensor zp = torch::where(offered, sampling.samples, yp);

  // 3. Discriminator on each piece's replaced target sequence: which items are real?
  torch::Tensor dis_sum = torch::zeros({}, gen_loss.options()), count = torch::zeros({}, gen_loss.options());
  int64_t at = 0;
  for (const Piece& pc : pieces) {
    const int64_t m = pc.idx.size(0), b = pc.y.size(0), w = pc.y.size(1);
    torch::Tensor z = pc.y.reshape(-1).clone().index_put_({pc.idx}, zp.slice(0, at, at + m)).view({b, w});
    torch::Tensor logit = model_->discriminate(model_->encode(z, pc.batch->position_offset)).to(torch::kFloat);
    torch::Tensor label = (z == pc.y).to(logit.dtype());
    torch::Tensor mask = (pc.y > 0).to(logit.dtype());
    if (o.dis_opt() == DisOpt::kMaskOnly)
      mask = mask * torch::zeros({b * w}, mask.options()).index_put_({pc.idx}, offered.slice(0, at, at + m).to(mask.dtype())).view({b, w});
    torch::Tensor p = torch::sigmoid(logit);
    torch::Tensor bce = -(label * torch::log(p + 1e-24) + (1 - label) * torch::log(1 - p + 1e-24));
    dis_sum = dis_sum + (bce * mask).sum();
    count = count + mask.sum();
    at += m;
  }
  torch::Tensor dis_loss = dis_sum / count.clamp_min(1.0);

  if (!dist::active()) {
    torch::Tensor loss = o.gen_loss_weight() * gen_loss + o.dis_loss_weight() * dis_loss;
    loss.backward();
    optimizer_->step();
    return loss.detach();
  }
  // Data parallel: each rank's two means weighted by its share of what they average over in
  // the global batch (G: positions, or rows under reference-weight; D: its loss positions),
  // gradients summed over the ranks: the single-process step of the global batch.
  const double dis_count = count.item<double>();
  const std::vector<double> global = dist::sum({static_cast<double>(n), static_cast<double>(rows), dis_count});
  const double gen_share = reference_weight ? rows / global[1] : n / global[0];
  const double dis_share = dis_count / std::max(1.0, global[2]);
  torch::Tensor loss = (o.gen_loss_weight() * gen_share) * gen_loss + (o.dis_loss_weight() * dis_share) * dis_loss;
  loss.backward();
  dist::all_reduce_gradients(unique_parameters(*optimizer_));
  optimizer_->step();
  return torch::tensor(dist::sum({loss.item<double>()})[0], torch::kDouble);
}

void register_elecrec(ModelRegistry& models, TrainerRegistry& trainers, Schema& schema, const std::string& origin) {
  declare_elecrec_keys(schema);
  models.add("elecrec",
             [](const ModelContext& ctx) -> std::shared_ptr<Model> {
               return std::make_shared<ElecRecModel>(elecrec_options_from(ctx.config, ctx.data.item_size()));
             },
             "ELECRec discriminator D with its generator G (trained by --trainer elecrec); keys elecrec.*", origin,
             {{"trainer", "elecrec"}});
  trainers.add("elecrec", [](const Config&) -> std::unique_ptr<Trainer> { return std::make_unique<ElecRecTrainer>(); },
               "generator-discriminator training of ELECRec (one Adam over G and D); padded batches unless told "
               "otherwise (the reference's objective, elecrec.gen-loss-padding include, needs them)",
               origin, {{"model", "elecrec"}}, {{"batching", "padded"}});
}

}  // namespace seqrec::elecrec
