// The baselines beyond SASRec: the encoder conformance suite (sasrec, gru4rec, bert4rec),
// the negative samplers' distributions, adversarial training's gradient, BERT4Rec's cloze.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "baselines/atsrec/atsrec.h"
#include "baselines/bert4rec/bert4rec.h"
#include "baselines/genni/genni.h"
#include "seqrec/error.h"
#include "seqrec/registry.h"
#include "test_util.h"

using namespace seqrec;

namespace {

Config small_config(std::initializer_list<std::pair<std::string, std::string>> more = {}) {
  Config c = seqrec::testing::default_config({{"sasrec.hidden-size", "16"}, {"gru4rec.hidden-size", "16"}, {"max-len", "12"},
                                              {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"}, {"gru4rec.dropout", "0"}});
  for (const auto& [k, v] : more) c.set(k, v);
  return c;
}

const Dataset& tiny_data() {
  static Dataset d = make_markov_dataset(30, 10, 5, 14, 3);  // item_size 12: ids 1..10, mask 11
  return d;
}

std::shared_ptr<Model> make_encoder(const std::string& name) {
  Config c = small_config({{"model", name}, {"trainer", name == "bert4rec" ? "cloze" : "plain"}});
  torch::manual_seed(1);
  auto m = models().create("model", name, ModelContext{c, tiny_data()});
  m->eval();
  return m;
}

double chi_square(const std::map<int64_t, int64_t>& counts, const std::map<int64_t, double>& probs, int64_t n) {
  double x = 0;
  for (const auto& [j, p] : probs) {
    const double e = p * n, o = counts.count(j) ? counts.at(j) : 0;
    x += (o - e) * (o - e) / e;
  }
  return x;
}

class EncoderConformance : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(EncoderConformance, PaddingAndWidthDoNotChangeRealPositions) {
  auto m = make_encoder(GetParam());
  torch::NoGradGuard g;
  torch::Tensor full = torch::tensor({{0, 0, 0, 0, 0, 0, 0, 3, 4, 5, 6, 7}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 8, 2}}, torch::kLong);
  torch::Tensor cut = full.slice(1, 7, 12);
  torch::Tensor a = m->encode(full, 0).slice(1, 7, 12), b = m->encode(cut, 7);
  torch::Tensor real = (cut > 0).unsqueeze(-1).expand_as(a);
  EXPECT_TRUE(torch::allclose(a.masked_select(real), b.masked_select(real), 1e-5, 1e-6)) << GetParam();
}

TEST_P(EncoderConformance, CausalModelsNeverSeeTheFutureBidirectionalOnesDo) {
  auto m = make_encoder(GetParam());
  const bool causal = GetParam() != "bert4rec";
  torch::NoGradGuard g;
  torch::Tensor seqs = torch::tensor({{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}}, torch::kLong);
  torch::Tensor out = m->encode(seqs, 0);
  for (int64_t t : {5, 8}) {
    torch::Tensor changed = seqs.clone();
    changed.slice(1, t + 1, 12).fill_(10);
    torch::Tensor out2 = m->encode(changed, 0);
    // Real columns 4..t only: a padding column's query sees no key and its output is unused.
    EXPECT_EQ(torch::allclose(out2.slice(1, 4, t + 1), out.slice(1, 4, t + 1), 1e-5, 1e-6), causal) << GetParam() << " t=" << t;
  }
}

TEST_P(EncoderConformance, EncodeLastIsTheNextItemRepresentation) {
  auto m = make_encoder(GetParam());
  torch::NoGradGuard g;
  torch::Tensor seqs = torch::tensor({{0, 0, 0, 0, 0, 0, 4, 7, 9, 2, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2}}, torch::kLong);
  torch::Tensor expected;
  if (GetParam() == "bert4rec") {  // the mask token appended, the oldest item dropped
    torch::Tensor x = torch::cat({seqs.slice(1, 1), torch::full({2, 1}, 11, torch::kLong)}, 1);
    expected = m->encode(x, 0).select(1, 11);
  } else {
    expected = m->encode(seqs, 0).select(1, 11);
  }
  EXPECT_TRUE(torch::allclose(m->encode_last(seqs, 0), expected, 1e-5, 1e-6)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(AllEncoders, EncoderConformance, ::testing::Values("sasrec", "sasrec-untied", "gru4rec", "bert4rec"));

TEST(Encoders, EveryRegisteredEncoderIsCovered) {
  seqrec::testing::default_config();
  std::set<std::string> covered = {"sasrec", "sasrec-untied", "gru4rec", "bert4rec", "pop", "elecrec"};  // pop: no encoder; elecrec: test_elecrec
  for (const auto& [name, entry] : models().entries()) EXPECT_TRUE(covered.count(name)) << name << " lacks conformance tests";
}

TEST(BERT4Rec, NeedsTheClozeTrainerAndLearns) {
  Config c = small_config({{"model", "bert4rec"}});
  auto refusal = [&] {
    try {
      check_needs(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(refusal(), "--model bert4rec needs --trainer cloze (got plain)");
  c.set("trainer", "cloze");
  EXPECT_EQ(refusal(), "(accepted)");
  c.set("model", "sasrec");
  EXPECT_EQ(refusal(), "--trainer cloze needs --model bert4rec (got sasrec)");
  c.set("model", "bert4rec");
  c.set("bert4rec.mask-prob", "0.4");
  torch::manual_seed(2);
  auto m = models().create("model", "bert4rec", ModelContext{c, tiny_data()});
  EXPECT_EQ(m->item_table().size(1), 17);  // d + the bias column
  auto loss = losses().create("loss", "cce", c);
  auto t = trainers().create("trainer", "cloze", c);
  UniformSampler sampler(tiny_data());
  std::mt19937_64 rng(1);
  TrainContext ctx{*m, *loss, sampler, c, rng, torch::kCPU};
  t->setup(ctx);
  TrainBatcher batcher(tiny_data(), 12, 30, Batching::kPadded);
  Batch b = batcher.epoch(rng)[0];
  double first = 0, last = 0;
  for (int i = 0; i < 20; ++i) first += t->step(b).item<double>() / 20;
  for (int i = 0; i < 200; ++i) t->step(b);
  for (int i = 0; i < 20; ++i) last += t->step(b).item<double>() / 20;
  EXPECT_TRUE(std::isfinite(first));
  EXPECT_LT(last, 0.8 * first);  // from about log(12) down: fits one batch's masked items (means over 20 random maskings)
}

TEST(Samplers, GenNiFollowsSoftmaxOfAlphaTimesScoresWithoutTheTarget) {
  // 20,000 positions share one representation: draws over items 1..10 minus the target must
  // follow softmax(alpha * s). 99.9% chi-square quantile, 8 dof: 26.12.
  const int64_t n = 20000, y = 4;
  torch::manual_seed(3);
  torch::Tensor items = torch::randn({12, 5}), hrow = torch::randn({1, 5});
  torch::Tensor s = torch::mm(hrow, items.t())[0];
  for (double alpha : {0.0, 1.0, 2.5}) {
    GenNiSampler sampler(tiny_data(), GenNiOptions().alpha(alpha));
    std::vector<int64_t> users(n, 0);
    std::mt19937_64 rng(1);
    torch::Tensor negs = sampler.sample(SampleRequest{users, hrow.expand({n, 5}).contiguous(), items, torch::full({n}, y, torch::kLong), 1}, rng);
    std::map<int64_t, int64_t> counts;
    for (int64_t r = 0; r < n; ++r) ++counts[negs[r][0].item<int64_t>()];
    std::map<int64_t, double> p;
    double z = 0;
    for (int64_t j = 1; j <= 10; ++j)
      if (j != y) z += std::exp(alpha * s[j].item<double>());
    for (int64_t j = 1; j <= 10; ++j)
      if (j != y) p[j] = std::exp(alpha * s[j].item<double>()) / z;
    EXPECT_EQ(counts.count(y), 0u);
    EXPECT_EQ(counts.count(0) + counts.count(11), 0u) << "padding or mask drawn";
    EXPECT_LT(chi_square(counts, p, n), 26.12) << "alpha " << alpha;
  }
}

TEST(Samplers, GenNiRatioLimitsEachBatchToItsCandidates) {
  GenNiSampler sampler(tiny_data(), GenNiOptions().ratio(0.3));  // 3 of 10 items per batch
  torch::manual_seed(4);
  std::vector<int64_t> users(500, 0);
  std::mt19937_64 rng(1);
  std::set<int64_t> all;
  for (int call = 0; call < 5; ++call) {
    torch::Tensor negs = sampler.sample(SampleRequest{users, torch::randn({500, 5}), torch::randn({12, 5}), torch::full({500}, 20, torch::kLong), 2}, rng);
    std::set<int64_t> seen(negs.data_ptr<int64_t>(), negs.data_ptr<int64_t>() + negs.numel());
    EXPECT_LE(seen.size(), 3u);
    all.insert(seen.begin(), seen.end());
  }
  EXPECT_GT(all.size(), 3u);  // fresh candidates per batch
}

TEST(Samplers, GenNiUniformShareOneIsTheUniformSampler) {
  GenNiSampler genni(tiny_data(), GenNiOptions().uniform_share(1.0));
  UniformSampler uniform(tiny_data());
  std::vector<int64_t> users = {0, 1, 2, 3, 4, 5};
  std::mt19937_64 a(9), b(9);
  torch::Tensor x = genni.sample(SampleRequest{users, torch::randn({6, 5}), torch::randn({12, 5}), torch::ones({6}, torch::kLong), 4}, a);
  EXPECT_TRUE(torch::equal(x, uniform.sample(users, 4, b)));
}

TEST(Samplers, DNSKeepsTheBestScoredOfItsCandidates) {
  // 200 candidates over a handful of allowed items: the best allowed item is (almost surely,
  // p > 1 - 1e-10) among them and must be the one kept.
  const Dataset& d = tiny_data();
  DNSSampler dns(d, 200);
  torch::manual_seed(5);
  torch::Tensor items = torch::randn({12, 5}), h = torch::randn({4, 5});
  std::vector<int64_t> users = {0, 1, 2, 3};
  std::mt19937_64 rng(1);
  torch::Tensor negs = dns.sample(SampleRequest{users, h, items, torch::ones({4}, torch::kLong), 1}, rng);
  for (int64_t r = 0; r < 4; ++r) {
    std::set<int64_t> seen(d.begin(users[r]), d.begin(users[r]) + d.length(users[r]));
    int64_t best = -1;
    double best_score = -1e30;
    for (int64_t j = 1; j < 12; ++j) {
      const double s = (h[r] * items[j]).sum().item<double>();
      if (!seen.count(j) && s > best_score) best_score = s, best = j;
    }
    EXPECT_EQ(negs[r][0].item<int64_t>(), best) << "row " << r;
  }
}

namespace {
/// One atsrec (or plain) step of a dropout-free SASRec on the first batch; returns the model.
std::shared_ptr<Model> one_step(const std::string& trainer, const Config& c, std::vector<torch::Tensor>* grads = nullptr) {
  torch::manual_seed(1);
  auto m = models().create("model", "sasrec", ModelContext{c, tiny_data()});
  auto loss = losses().create("loss", c.str("loss"), c);
  auto t = trainers().create("trainer", trainer, c);
  UniformSampler sampler(tiny_data());
  std::mt19937_64 rng(1);
  TrainContext ctx{*m, *loss, sampler, c, rng, torch::kCPU};
  t->setup(ctx);
  TrainBatcher batcher(tiny_data(), 12, 16, Batching::kPadded);
  std::mt19937_64 brng(2);
  t->step(batcher.epoch(brng)[0]);
  if (grads)
    for (auto& p : m->parameters()) grads->push_back(p.grad().clone());
  return m;
}
}  // namespace

TEST(ATSRec, ZeroWeightIsPlainTrainingAndTheTableIsRestored) {
  for (const char* loss : {"cce", "bce"}) {
    Config c = small_config({{"loss", loss}, {"atsrec.weight", "0"}});
    auto plain = one_step("plain", c), adv = one_step("atsrec", c);
    auto a = plain->parameters(), b = adv->parameters();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-7)) << loss << " parameter " << i;
  }
}

TEST(ATSRec, PGDGradientIsCleanPlusGradientAtTheProjectedPerturbation) {
  // K = 2, eta 0.3, eps 0.4: the second step leaves the ball and is projected back.
  Config c = small_config({{"loss", "cce"}, {"atsrec.steps", "2"}, {"atsrec.eta", "0.3"}, {"atsrec.eps", "0.4"}, {"lr", "0"}});
  std::vector<torch::Tensor> got;
  one_step("atsrec", c, &got);

  torch::manual_seed(1);
  auto m = models().create("model", "sasrec", ModelContext{c, tiny_data()});
  auto loss = losses().create("loss", "cce", c);
  TrainBatcher batcher(tiny_data(), 12, 16, Batching::kPadded);
  std::mt19937_64 brng(2);
  Batch b = batcher.epoch(brng)[0];
  torch::Tensor table = m->item_table();
  auto loss_at = [&](const torch::Tensor& e) {
    torch::NoGradGuard g;
    table.copy_(e);
  };
  auto forward = [&] {
    PackedPositions p = encode_packed(*m, b, Positions::kAll, torch::kCPU);
    return loss->forward(LossInput{p.hidden, p.targets, m->item_table(), {}});
  };
  const torch::Tensor e0 = table.detach().clone();
  forward().backward();
  torch::Tensor g0 = table.grad().clone();
  torch::Tensor d1 = 0.3 * g0 / g0.norm();
  loss_at(e0 + d1);
  torch::Tensor g1 = torch::autograd::grad({forward()}, {table})[0];
  torch::Tensor d2 = d1 + 0.3 * g1 / g1.norm();
  ASSERT_GT(d2.norm().item<double>(), 0.4);
  d2 = d2 * (0.4 / d2.norm());
  loss_at(e0 + d2);
  forward().backward();
  std::vector<torch::Tensor> want;
  for (auto& p : m->parameters()) want.push_back(p.grad());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-4, 1e-6)) << "parameter " << i;
}
