// The plugin ABI and the ELECRec plugin: loading, sharing, the double-step switch,
// layout invariance and a training run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "plugin/elecrec/elecrec.h"
#include "ranks.h"
#include "seqrec/build_info.h"
#include "seqrec/error.h"
#include "seqrec/options.h"
#include "seqrec/plugin.h"
#include "test_util.h"

using namespace seqrec;
using namespace seqrec::elecrec;

namespace {
Config elecrec_config(std::initializer_list<std::pair<std::string, std::string>> more = {}) {
  Config c = seqrec::testing::default_config();
  static bool declared = false;
  if (!declared) {
    register_elecrec(models(), trainers(), schema(), "test");
    declared = true;
    c = Config(schema());
  }
  for (const auto& [k, v] : std::initializer_list<std::pair<std::string, std::string>>{
           {"elecrec.gen-hidden-size", "16"}, {"elecrec.dis-hidden-size", "16"}, {"max-len", "10"}})
    c.set(k, v);
  for (const auto& [k, v] : more) c.set(k, v);
  return c;
}

std::shared_ptr<ElecRecModel> make(const Config& c, int64_t item_size, uint64_t seed = 1) {
  torch::manual_seed(seed);
  return std::make_shared<ElecRecModel>(elecrec_options_from(c, item_size));
}

const char* batching_name(Batching layout) {
  switch (layout) {
    case Batching::kPadded: return "padded";
    case Batching::kPacked: return "packed";
    case Batching::kBucketed: return "bucketed";
    case Batching::kSplit: return "split";
  }
  return "?";
}

/// The first batch of an epoch laid out as `layout` (max_len 10).
Batch first_batch(const Dataset& d, Batching layout, int64_t batch_size) {
  TrainBatcher batcher(d, 10, batch_size, layout);
  std::mt19937_64 brng(2);
  return batcher.epoch(brng)[0];
}

/// One ElecRecTrainer step on the first batch of an epoch laid out as `layout` (the config's
/// batching key set to match).
double one_step(ElecRecModel& m, const Config& config, const Dataset& d, Batching layout, int64_t batch_size) {
  Config c = config;
  c.set("batching", batching_name(layout));
  UniformSampler sampler(d);
  std::mt19937_64 rng(1);
  auto loss = losses().create("loss", "cce", c);
  TrainContext ctx{m, *loss, sampler, c, rng, torch::kCPU};
  ElecRecTrainer t;
  t.setup(ctx);
  Batch b = first_batch(d, layout, batch_size);
  torch::manual_seed(9);
  return t.step(b).item<double>();
}

bool same(const torch::Tensor& a, const torch::Tensor& b) { return a.unsafeGetTensorImpl() == b.unsafeGetTensorImpl(); }

/// A whole fit of `m` through the fit loop under `c`, its log into `log`.
FitResult fit_elecrec(ElecRecModel& m, const Config& c, const Dataset& d, std::ostringstream& log) {
  auto loss = losses().create("loss", "cce", c);
  ElecRecTrainer t;
  EvalOptions eo;
  RankingEvaluator ev(eo);
  return fit(m, t, *loss, d, c, train_options_from(c), ev, log);
}
}  // namespace

TEST(Plugin, OutOfTreeLossPluginLoadsAndTrains) {
  const std::string path = std::string(SEQREC_BINARY_DIR) + "/test_plugins/seqrec_toy_loss.so";
  load_plugin(path);
  ASSERT_TRUE(losses().has("label_smoothing_ce"));
  EXPECT_EQ(losses().entries().at("label_smoothing_ce").origin, std::filesystem::canonical(path).string());
  Config c = seqrec::testing::default_config({{"loss", "label_smoothing_ce"}, {"epochs", "2"}, {"progress", "none"},
                                              {"sasrec.hidden-size", "16"}, {"max-len", "10"}});
  Dataset d = make_markov_dataset(200, 40, 5, 15, 2);
  torch::manual_seed(1);
  SASRec m{sasrec_options_from(c, d.item_size())};
  auto loss = losses().create("loss", "label_smoothing_ce", c);
  PlainTrainer t;
  EvalOptions eo;
  RankingEvaluator ev(eo);
  std::ostringstream log;
  FitResult r = fit(m, t, *loss, d, c, train_options_from(c), ev, log);
  ASSERT_EQ(r.curve.size(), 2u);
  EXPECT_LT(r.curve[1].loss, r.curve[0].loss);
}

TEST(Plugin, ANameTakenTwiceIsRefusedAndThePluginNotMarkedLoaded) {
  const std::string path = std::string(SEQREC_BINARY_DIR) + "/test_plugins/seqrec_toy_loss.so";
  load_plugin(path);
  seqrec::testing::TempDir dir;
  const std::string copy = dir.file("copy.so");
  std::filesystem::copy_file(path, copy);
  try {
    load_plugin(copy);
    FAIL() << "a second plugin replaced label_smoothing_ce";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "plugin " + copy + ": 'label_smoothing_ce' is registered twice: by " +
                                         std::filesystem::canonical(path).string() + " and by " +
                                         std::filesystem::canonical(copy).string());
  }
  EXPECT_EQ(losses().entries().at("label_smoothing_ce").origin, std::filesystem::canonical(path).string());
  const auto& loaded = loaded_plugins();
  EXPECT_EQ(std::count(loaded.begin(), loaded.end(), std::filesystem::canonical(copy).string()), 0);
}

TEST(Plugin, ClearErrorsForNonPlugins) {
  try {
    load_plugin(std::string(SEQREC_BINARY_DIR) + "/libseqrec.so");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a seqrec plugin (missing seqrec_plugin_abi_version"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_plugin("/nonexistent/p.so"), Error);
}

TEST(Plugin, ElecRecPluginRegistersItsComponents) {
  load_plugin(std::string(SEQREC_BINARY_DIR) + "/plugins/seqrec_elecrec.so");
  EXPECT_TRUE(models().has("elecrec"));
  EXPECT_TRUE(trainers().has("elecrec"));
  EXPECT_NE(schema().find("elecrec.double-step-shared"), nullptr);
}

TEST(ElecRec, SharingModesShareTensorsNotCopies) {
  struct Case {
    const char* mode;
    bool embed, encoder;
  } cases[] = {{"full", true, true}, {"embed_only", true, false}, {"encoder_only", false, true}, {"none", false, false}};
  for (const auto& c : cases) {
    auto m = make(elecrec_config({{"elecrec.sharing", c.mode}}), 30);
    auto d = m->named_parameters(), g = m->generator->named_parameters();
    EXPECT_EQ(same(d["item_embeddings.weight"], g["item_embeddings.weight"]), c.embed) << c.mode;
    EXPECT_EQ(same(d["position_embeddings.weight"], g["position_embeddings.weight"]), c.embed) << c.mode;
    const char* query = "item_encoder.layer.0.attention.query.weight";
    EXPECT_EQ(same(d[query], g[query]), c.encoder) << c.mode;
    EXPECT_FALSE(same(d["LayerNorm.weight"], g["LayerNorm.weight"])) << "D keeps its own embedding LayerNorm";
    // Reference checkpoint names for D.
    EXPECT_TRUE(m->named_parameters().contains("dis_projection.weight"));
  }
}

TEST(ElecRec, ASASRecDiscriminatorKeepsTheReferenceNamesInOrder) {
  Config c = elecrec_config({{"elecrec.sharing", "none"}});
  auto m = make(c, 30);
  SASRec alone(elecrec_options_from(c, 30).dis());
  std::vector<std::string> expected, names;
  for (const auto& p : alone.named_parameters()) expected.push_back(p.key());
  for (const auto& p : m->generator->named_parameters()) expected.push_back("generator." + p.key());
  for (const char* p : {"dis_projection.weight", "dis_projection.bias"}) expected.push_back(p);
  for (const auto& p : m->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, expected);
  m->eval();
  EXPECT_FALSE(m->discriminator->is_training());
  EXPECT_FALSE(m->named_children()["dropout"]->is_training());
  m->train();
  EXPECT_TRUE(m->discriminator->is_training());
}

TEST(ElecRec, AFrequencyDiscriminatorTakesGsEmbeddingsAndTrainsOnWholeSequences) {
  Dataset d = make_markov_dataset(200, 40, 6, 12, 8);
  for (const char* encoder : {"fmlprec", "bsarec"}) {
    Config c = elecrec_config(
        {{"elecrec.dis-encoder", encoder}, {"epochs", "2"}, {"progress", "none"}, {"batching", "padded"}});
    auto m = make(c, d.item_size(), 4);
    EXPECT_FALSE(m->causal()) << encoder;
    auto params = m->named_parameters(), g = m->generator->named_parameters();
    EXPECT_TRUE(same(params["item_embeddings.weight"], g["item_embeddings.weight"])) << encoder;
    EXPECT_TRUE(same(params["position_embeddings.weight"], g["position_embeddings.weight"])) << encoder;
    EXPECT_TRUE(params.contains(std::string(encoder) == "fmlprec" ? "layer.0.filterlayer.complex_weight"
                                                                 : "layer.0.filter_layer.sqrt_beta")) << encoder;
    // D's tensors, registered on the model under their own names, are what its encoder runs:
    // a frequency encoder given them by name encodes alike.
    ElecRecOptions o = elecrec_options_from(c, d.item_size());
    FrequencyEncoder alone(o.dis(), o.frequency());
    {
      torch::NoGradGuard guard;
      for (auto& p : alone.named_parameters()) p.value().copy_(params[p.key()]);
    }
    m->eval();
    alone.eval();
    torch::Tensor seqs = torch::randint(0, d.item_size() - 1, {5, 10}, torch::kLong);
    EXPECT_TRUE(torch::equal(m->encode(seqs, 0), alone.encode(seqs, 0))) << encoder;
    // The fit loop lets the trainer train it on every position; every tensor of D learns.
    std::map<std::string, torch::Tensor> before;
    for (const auto& p : params) before[p.key()] = p.value().clone();
    std::ostringstream log;
    FitResult r = fit_elecrec(*m, c, d, log);
    EXPECT_TRUE(std::isfinite(r.curve.back().loss)) << log.str();
    for (const auto& p : m->named_parameters())
      if (p.key().rfind("generator.", 0) != 0)
        EXPECT_FALSE(torch::equal(p.value(), before[p.key()])) << encoder << " " << p.key();
  }
}

TEST(ElecRec, SharingGsBlocksNeedsASASRecDiscriminator) {
  for (const char* mode : {"full", "encoder_only"}) {
    try {
      make(elecrec_config({{"elecrec.dis-encoder", "bsarec"}, {"elecrec.sharing", mode}}), 30);
      FAIL() << mode << " built with a bsarec discriminator";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "elecrec: sharing '" + std::string(mode) +
                                           "' shares G's SASRec blocks, which --elecrec.dis-encoder bsarec does "
                                           "not have; use embed_only or none");
    }
  }
}

TEST(ElecRec, DoubleStepChangesExactlyTheSharedTensors) {
  Dataset d = make_markov_dataset(64, 25, 5, 12, 4);
  auto run = [&](bool twice) {
    Config c = elecrec_config({{"elecrec.sharing", "embed_only"}, {"elecrec.double-step-shared", twice ? "true" : "false"},
                               {"lr", "0.01"}});
    auto m = make(c, d.item_size(), 5);
    one_step(*m, c, d, Batching::kPadded, 64);
    return m;
  };
  auto once = run(false), twice = run(true);
  auto a = once->named_parameters(), b = twice->named_parameters();
  for (const auto& p : a) {
    const bool shared = p.key().find("embeddings") != std::string::npos;
    EXPECT_EQ(torch::equal(p.value(), b[p.key()]), !shared) << p.key();
  }
  EXPECT_EQ(ElecRecTrainer::optimiser_parameters(*once, true).size(),
            ElecRecTrainer::optimiser_parameters(*once, false).size() + 2);
}

TEST(ElecRec, BucketedStepEqualsPaddedStep) {
  // Without dropout and with the generator's CE over real positions, a step computes the
  // same loss whatever the batch width (same users, same draws).
  Dataset d = make_markov_dataset(32, 25, 4, 9, 6);
  auto step_loss = [&](Batching layout, const char* sample_ratio = "0.7") {
    Config c = elecrec_config({{"elecrec.gen-loss-padding", "mask"}, {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"},
                               {"elecrec.sample-ratio", sample_ratio}});
    auto m = make(c, d.item_size(), 3);
    return one_step(*m, c, d, layout, 32);
  };
  const double padded = step_loss(Batching::kPadded);
  EXPECT_NEAR(step_loss(Batching::kPacked), padded, 1e-5);
  // Split parts visit positions in another order, so the draws land elsewhere: equal in
  // distribution only. Without replacements the step is deterministic and must agree.
  EXPECT_NEAR(step_loss(Batching::kSplit, "0"), step_loss(Batching::kPadded, "0"), 1e-5);
}

namespace {
/// A deterministic step whose loss is the generator's CE alone: no dropout, no replacements,
/// the discriminator's loss weighted 0.
Config generator_only(const char* padding) {
  return elecrec_config({{"elecrec.gen-loss-padding", padding}, {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"},
                         {"elecrec.sample-ratio", "0"}, {"elecrec.dis-loss-weight", "0"}});
}

/// The generator's CE over the padded batch's positions, from ATen (independent of the
/// fused kernel and of the trainer), differentiable: summed over all positions or over real
/// ones only.
torch::Tensor generator_ce_sum(ElecRecModel& m, const Batch& padded, bool real_only) {
  torch::Tensor h = m.generator->encode(padded.inputs, padded.position_offset);
  torch::Tensor logits = torch::matmul(h, m.generator->item_table().t()).reshape({-1, m.generator->item_table().size(0)});
  torch::Tensor y = padded.targets.reshape(-1);
  torch::Tensor ce = torch::nn::functional::cross_entropy(logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  if (real_only) ce = ce * (y > 0).to(ce.dtype());
  return ce.sum();
}

/// Every generator parameter's gradient equals the probe's (after its backward()).
void expect_same_generator_gradients(ElecRecModel& trained, ElecRecModel& probe, const std::string& what) {
  auto want = probe.generator->named_parameters();
  for (const auto& p : trained.generator->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << what << ": " << p.key();
    EXPECT_TRUE(torch::allclose(p.value().grad(), want[p.key()].grad(), 1e-4, 1e-7)) << what << ": " << p.key();
  }
}
}  // namespace

TEST(ElecRec, IncludeIsTheMeanOverEveryPositionOfTheMaxLenGrid) {
  // The reference's generator loss: CE at all B x max_len positions, padded ones with target
  // 0; value and gradients against ATen's cross-entropy on the same weights.
  Dataset d = make_markov_dataset(32, 25, 4, 9, 6);
  Config c = generator_only("include");
  Batch b = first_batch(d, Batching::kPadded, 32);
  ASSERT_EQ(b.width(), 10);
  auto probe = make(c, d.item_size(), 3);
  torch::Tensor want = generator_ce_sum(*probe, b, false) / static_cast<double>(b.inputs.numel());
  want.backward();
  auto m = make(c, d.item_size(), 3);
  EXPECT_NEAR(one_step(*m, c, d, Batching::kPadded, 32), want.item<double>(), 1e-5);
  expect_same_generator_gradients(*m, *probe, "include");
}

TEST(ElecRec, ReferenceWeightGivesRealPositionsTheReferenceWeightInAnyLayout) {
  // Real positions' CE summed, over B x max_len: include's value less the padded positions'
  // own loss; value and gradients the same whatever the batch layout.
  Dataset d = make_markov_dataset(32, 25, 4, 9, 6);
  Config c = generator_only("reference-weight");
  auto probe = make(c, d.item_size(), 3);
  Batch b = first_batch(d, Batching::kPadded, 32);
  torch::Tensor sum = generator_ce_sum(*probe, b, true);
  torch::Tensor want = sum / static_cast<double>(b.inputs.numel());
  want.backward();
  for (Batching layout : {Batching::kPadded, Batching::kPacked, Batching::kSplit}) {
    auto m = make(c, d.item_size(), 3);
    EXPECT_NEAR(one_step(*m, c, d, layout, 32), want.item<double>(), 1e-5) << batching_name(layout);
    expect_same_generator_gradients(*m, *probe, batching_name(layout));
  }
  // mask: the same sum over the real positions' count.
  Config mask = generator_only("mask");
  auto m = make(mask, d.item_size(), 3);
  const double real = (b.targets > 0).sum().item<double>();
  EXPECT_NEAR(one_step(*m, mask, d, Batching::kSplit, 32), sum.item<double>() / real, 1e-5);
}

TEST(ElecRec, IncludeWithoutPaddedBatchesAndPrefixExamplesAreClearErrors) {
  Dataset d = make_markov_dataset(32, 25, 4, 9, 6);
  Config c = elecrec_config({{"elecrec.gen-loss-padding", "include"}});
  auto m = make(c, d.item_size(), 3);
  try {
    one_step(*m, c, d, Batching::kSplit, 32);
    FAIL() << "include with split batches trained";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs --batching padded"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  // Prefix examples would give G and D single positions: refused, in one line.
  Config prefixes = elecrec_config({{"elecrec.gen-loss-padding", "mask"}, {"examples", "window-prefixes"}});
  try {
    one_step(*make(prefixes, d.item_size(), 3), prefixes, d, Batching::kSplit, 32);
    FAIL() << "elecrec trained on prefix examples";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--trainer elecrec trains G and D on every position of whole sequences; "
                                     "--examples window-prefixes is not offered");
  }
  // include-pieces keeps the per-piece mean for split batches.
  Config pieces = elecrec_config({{"elecrec.gen-loss-padding", "include-pieces"}});
  auto p = make(pieces, d.item_size(), 3);
  EXPECT_TRUE(std::isfinite(one_step(*p, pieces, d, Batching::kSplit, 32)));
}

TEST(ElecRec, TrainsAndBeatsChanceOnMarkovData) {
  Dataset d = make_markov_dataset(300, 50, 6, 20, 8);
  Config c = elecrec_config({{"epochs", "4"}, {"progress", "none"}, {"elecrec.sharing", "full"}, {"batching", "padded"}});
  auto m = make(c, d.item_size());
  std::ostringstream log;
  FitResult r = fit_elecrec(*m, c, d, log);
  EXPECT_LT(r.curve.back().loss, r.curve.front().loss);
  EXPECT_GT(r.test.metrics.at("hit@10"), 1.5 * 10.0 / 52) << log.str();  // 10 of 52 rows at random
}

TEST(ElecRec, TwoRanksTakeTheSingleProcessStep) {
  // Without dropout or replacements the step is deterministic: two data-parallel ranks, each
  // with half of every global batch, must end with the single process's gradients under each
  // of the generator's normalisations (and the discriminator's mean over its positions).
  Dataset d = make_markov_dataset(40, 25, 4, 9, 6);
  for (auto [padding, layout] : {std::pair{"include", Batching::kPadded}, std::pair{"reference-weight", Batching::kSplit},
                                 std::pair{"mask", Batching::kPacked}, std::pair{"include-pieces", Batching::kSplit}}) {
    Config c = elecrec_config({{"elecrec.gen-loss-padding", padding}, {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"},
                               {"elecrec.sample-ratio", "0"}, {"batching", batching_name(layout)}});
    auto init = make(c, d.item_size(), 3);
    auto step = [&](double* loss) {
      auto m = make(c, d.item_size(), 3);
      {
        torch::NoGradGuard g;
        auto src = init->parameters(), dst = m->parameters();
        for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
      }
      UniformSampler sampler(d);
      std::mt19937_64 rng(1);
      auto none = losses().create("loss", "cce", c);
      TrainContext ctx{*m, *none, sampler, c, rng, torch::kCPU};
      ElecRecTrainer t;
      t.setup(ctx);
      TrainBatcher batcher(d, 10, 40, layout);
      batcher.shard(dist::rank(), dist::world());
      std::mt19937_64 order(2);
      *loss = t.step(batcher.epoch(order).at(0)).item<double>();
      std::vector<torch::Tensor> grads;
      for (const auto& p : unique_parameters(*t.optimizer())) grads.push_back(p.grad().clone());
      return grads;
    };
    double one_loss = 0;
    const std::vector<torch::Tensor> one = step(&one_loss);
    std::vector<std::vector<torch::Tensor>> ranks(2);
    std::vector<double> losses_of(2);
    seqrec::testing::on_ranks(2, [&](int r) { ranks[r] = step(&losses_of[r]); });
    for (int r = 0; r < 2; ++r) {
      if (std::string(padding) == "include-pieces") {
        // Its mean is per piece of each rank's share: another objective under data parallel,
        // as under another split; the step still agrees across the ranks.
        EXPECT_EQ(losses_of[r], losses_of[0]);
        continue;
      }
      EXPECT_NEAR(losses_of[r], one_loss, 1e-5) << padding;
      for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::allclose(ranks[r][i], one[i], 1e-4, 1e-6)) << padding << " " << i;
    }
  }
}
