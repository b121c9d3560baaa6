// Every registered loss: gradient against central finite differences (double precision) and
// value against a slow per-position reference; the fused softmax kernel against ATen's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "baselines/losses/softmax_ce.h"
#include "seqrec/loss.h"
#include "test_util.h"

using namespace seqrec;

namespace {

struct Problem {
  torch::Tensor hidden, items, targets, negatives;
};

Problem make_problem(torch::ScalarType dtype, int64_t n = 6, int64_t v = 9, int64_t d = 4, int64_t negs = 3) {
  torch::manual_seed(7);
  Problem p;
  p.hidden = torch::randn({n, d}, dtype);
  p.items = torch::randn({v, d}, dtype);
  p.targets = torch::randint(1, v, {n}, torch::kLong);
  p.negatives = torch::randint(1, v, {n, negs}, torch::kLong);
  return p;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// Per-position loss written out literally, from the spec's formulas.
double slow_value(const std::string& name, const Problem& p, int64_t negs) {
  auto a = p.hidden.accessor<double, 2>();
  auto e = p.items.accessor<double, 2>();
  const int64_t n = p.hidden.size(0), v = p.items.size(0), d = p.hidden.size(1);
  auto score = [&](int64_t r, int64_t j) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += a[r][k] * e[j][k];
    return s;
  };
  double total = 0;
  for (int64_t r = 0; r < n; ++r) {
    const int64_t y = p.targets[r].item<int64_t>();
    const double sp = score(r, y);
    std::vector<double> sn, w;
    double wz = 0;
    for (int64_t k = 0; k < negs; ++k) sn.push_back(score(r, p.negatives[r][k].item<int64_t>()));
    for (double x : sn) wz += std::exp(x);
    for (double x : sn) w.push_back(std::exp(x) / wz);
    double row = 0;
    if (name == "bce") {
      for (double x : sn) row += -std::log(1 - sigmoid(x) + 1e-24) / negs;
      row += -std::log(sigmoid(sp) + 1e-24);
    } else if (name == "bpr") {
      for (double x : sn) row += -std::log(1e-10 + sigmoid(sp - x)) / negs;
    } else if (name == "bpr_max") {  // lambda = 1
      double mix = 0, reg = 0;
      for (int64_t k = 0; k < negs; ++k) mix += w[k] * sigmoid(sp - sn[k]), reg += w[k] * sn[k] * sn[k];
      row = -std::log(1e-10 + mix) + reg;
    } else if (name == "bpr_max_cce") {
      for (int64_t k = 0; k < negs; ++k) row += -std::log(1e-10 + w[k] * sigmoid(sp - sn[k])) / negs;
    } else if (name == "top1") {
      for (double x : sn) row += (sigmoid(x - sp) + sigmoid(x * x)) / negs;
    } else if (name == "top1_cce") {  // mean over all rows and negatives of each term: per row the same
      for (double x : sn) row += (sigmoid(x - sp) + x * x) / negs;
    } else if (name == "top1_max") {
      for (int64_t k = 0; k < negs; ++k) row += w[k] * (sigmoid(sn[k] - sp) + sigmoid(sn[k] * sn[k]));
    } else if (name == "top1_max_cce") {
      for (int64_t k = 0; k < negs; ++k) row += w[k] * (sigmoid(sn[k] - sp) + sn[k] * sn[k]) / negs;
    } else if (name == "gbce") {  // k = negs, t = 0.75, num_items = v - 2
      const double alpha = std::min(1.0, negs / (v - 2.0 - 1)), t = 0.75;
      const double beta = alpha * (t * (1 - 1 / alpha) + 1 / alpha);
      double sum = beta * std::log(sigmoid(sp));
      for (double x : sn) sum += std::log(1 - sigmoid(x));
      row = -sum / (negs + 1);
    } else {  // ce, cce, advsoft (eps 0.1): softmax over the whole table
      const double shift = name == "advsoft" ? 0.1 * std::sqrt(p.hidden[r].pow(2).sum().item<double>()) : 0.0;
      double z = 0;
      for (int64_t j = 0; j < v; ++j) z += std::exp(score(r, j) - (j == y ? shift : 0.0));
      row = std::log(z) - (sp - shift);
    }
    total += row;
  }
  return total / n;
}

/// sampled_softmax's slow path: the same shared draw (same seed, same call), then the
/// corrected softmax written out per row.
double slow_sampled_softmax(const Problem& p, int64_t negs, uint64_t seed) {
  const int64_t n = p.hidden.size(0), v = p.items.size(0);
  torch::Tensor q = torch::ones({v}, torch::kFloat);
  q[0] = 0;
  q = q / q.sum();
  torch::manual_seed(seed);
  torch::Tensor draw = torch::multinomial(q, negs, true);
  const double log_nq = std::log(static_cast<double>(negs) / (v - 1));
  double total = 0;
  for (int64_t r = 0; r < n; ++r) {
    const int64_t y = p.targets[r].item<int64_t>();
    auto score = [&](int64_t j) { return (p.hidden[r] * p.items[j]).sum().item<double>() - log_nq; };
    double z = std::exp(score(y));
    for (int64_t k = 0; k < negs; ++k)
      if (draw[k].item<int64_t>() != y) z += std::exp(score(draw[k].item<int64_t>()));
    total += std::log(z) - score(y);
  }
  return total / n;
}

const std::vector<std::string> kAllLosses = {"bce",      "ce",           "cce",  "bpr",      "bpr_max",
                                             "bpr_max_cce", "top1",      "top1_cce", "top1_max", "top1_max_cce",
                                             "gbce",     "sampled_softmax", "advsoft"};

Config loss_config() {
  return seqrec::testing::default_config({{"bce.negatives", "3"}, {"pairwise.negatives", "3"}, {"gbce.negatives", "3"},
                                          {"sampled-softmax.negatives", "4"}, {"advsoft.eps", "0.1"}});
}

class LossConformance : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(LossConformance, ValueMatchesSlowPathAndGradientMatchesFiniteDifferences) {
  const std::string name = GetParam();
  Config c = loss_config();
  std::unique_ptr<Loss> loss = losses().create("loss", name, c);
  Problem p = make_problem(torch::kDouble);
  const int64_t negs = loss->num_negatives();
  if (negs == 0) p.negatives = torch::Tensor();
  auto eval = [&](const torch::Tensor& h, const torch::Tensor& e) {
    torch::manual_seed(5);  // the same shared draw for sampled_softmax on every call
    return loss->forward(LossInput{h, p.targets, e, p.negatives});
  };
  const double slow = name == "sampled_softmax" ? slow_sampled_softmax(p, 4, 5) : slow_value(name, p, negs);
  EXPECT_NEAR(eval(p.hidden, p.items).item<double>(), slow, 1e-9);

  torch::Tensor h = p.hidden.clone().requires_grad_(), e = p.items.clone().requires_grad_();
  eval(h, e).backward();
  const double eps = 1e-6;
  for (auto [param, grad] : {std::pair{p.hidden, h.grad()}, std::pair{p.items, e.grad()}}) {
    auto flat = param.view(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double orig = flat[i].item<double>();
      flat[i] = orig + eps;
      const double up = eval(p.hidden, p.items).item<double>();
      flat[i] = orig - eps;
      const double down = eval(p.hidden, p.items).item<double>();
      flat[i] = orig;
      EXPECT_NEAR(grad.view(-1)[i].item<double>(), (up - down) / (2 * eps), 1e-6) << name << " element " << i;
    }
  }
}

TEST_P(LossConformance, IgnoresWhatItDoesNotSee) {
  // A loss sees only the packed positions: extra item-table rows that are neither targets
  // nor negatives change only the softmax losses, and never by a padding target.
  const std::string name = GetParam();
  Config c = loss_config();
  std::unique_ptr<Loss> loss = losses().create("loss", name, c);
  Problem p = make_problem(torch::kDouble);
  if (loss->num_negatives() == 0) p.negatives = torch::Tensor();
  torch::manual_seed(5);
  torch::Tensor v1 = loss->forward(LossInput{p.hidden, p.targets, p.items, p.negatives});
  // Duplicating the positions leaves the mean unchanged.
  torch::manual_seed(5);
  torch::Tensor v2 = loss->forward(LossInput{torch::cat({p.hidden, p.hidden}), torch::cat({p.targets, p.targets}), p.items,
                                             p.negatives.defined() ? torch::cat({p.negatives, p.negatives}) : p.negatives});
  EXPECT_NEAR(v1.item<double>(), v2.item<double>(), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(AllLosses, LossConformance, ::testing::ValuesIn(kAllLosses));

TEST(Losses, EveryRegisteredLossIsCovered) {
  seqrec::testing::default_config();
  std::set<std::string> covered(kAllLosses.begin(), kAllLosses.end());
  covered.insert("label_smoothing_ce");  // the test plugin's, covered in test_elecrec.cpp
  for (const auto& [name, entry] : losses().entries()) EXPECT_TRUE(covered.count(name)) << name << " lacks conformance tests";
}

TEST(Losses, PositionsRequested) {
  Config c = seqrec::testing::default_config();
  EXPECT_EQ(losses().create("loss", "ce", c)->positions(), Positions::kLast);
  EXPECT_EQ(losses().create("loss", "cce", c)->positions(), Positions::kAll);
  EXPECT_EQ(losses().create("loss", "bce", c)->num_negatives(), 1);
  EXPECT_EQ(losses().create("loss", "top1_max", c)->positions(), Positions::kLast);  // the GRU4Rec papers'
  EXPECT_EQ(losses().create("loss", "gbce", c)->num_negatives(), 256);
  Config all = seqrec::testing::default_config({{"pairwise.positions", "all"}});
  EXPECT_EQ(losses().create("loss", "bpr", all)->positions(), Positions::kAll);
}

TEST(Losses, GBCEWithTZeroIsBCEOverKNegatives) {
  // t = 0 gives beta = 1: the mean of k+1 binary cross-entropies.
  Config c = seqrec::testing::default_config({{"gbce.negatives", "3"}, {"gbce.t", "0"}});
  Problem p = make_problem(torch::kDouble);
  double v = losses().create("loss", "gbce", c)->forward(LossInput{p.hidden, p.targets, p.items, p.negatives}).item<double>();
  double ref = 0;
  for (int64_t r = 0; r < p.hidden.size(0); ++r) {
    double row = -std::log(sigmoid((p.hidden[r] * p.items[p.targets[r]]).sum().item<double>()));
    for (int64_t k = 0; k < 3; ++k) row += -std::log(1 - sigmoid((p.hidden[r] * p.items[p.negatives[r][k]]).sum().item<double>()));
    ref += row / 4;
  }
  EXPECT_NEAR(v, ref / p.hidden.size(0), 1e-10);
}

TEST(Losses, BCEWithLogitsIsTheGuardedFormUntilSigmoidRoundsToOne) {
  // BSARec's ports use BCEWithLogitsLoss: log(1 + e^-s+) + mean log(1 + e^s-). In float, where
  // sigmoid(s-) rounds to 1 (s- = 30), the guarded form stops at -log(1e-24) with no gradient;
  // the logits form goes on (30 and gradient 1); elsewhere the two agree.
  auto loss_and_grad = [](const char* form, float neg) {
    Config c = seqrec::testing::default_config({{"bce.form", form}});
    torch::Tensor hidden = torch::tensor({{1.0f, 0.0f}, {0.5f, -0.25f}}).requires_grad_();
    torch::Tensor items = torch::tensor({{0.0f, 0.0f}, {2.0f, 1.0f}, {neg, 0.5f}, {-1.0f, 3.0f}});
    LossInput in{hidden, torch::tensor({1, 3}), items, torch::tensor({{2}, {1}})};
    torch::Tensor v = losses().create("loss", "bce", c)->forward(in);
    v.backward();
    return std::make_pair(v.item<double>(), hidden.grad()[0][0].item<double>());
  };
  auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  // Moderate scores (s- = 1.5): both forms give the slow path's value.
  const double row0 = softplus(-2.0) + softplus(1.5);
  const double row1 = softplus(-(0.5 * -1 - 0.25 * 3)) + softplus(0.5 * 2 - 0.25 * 1);
  for (const char* form : {"guarded", "logits"})
    EXPECT_NEAR(loss_and_grad(form, 1.5f).first, (row0 + row1) / 2, 1e-6) << form;
  // A saturated negative (s- = 30 for row 0).
  auto [guarded, g_grad] = loss_and_grad("guarded", 30.0f);
  auto [logits, l_grad] = loss_and_grad("logits", 30.0f);
  EXPECT_NEAR(guarded, (softplus(-2.0) - std::log(1e-24) + row1) / 2, 1e-4);
  EXPECT_NEAR(logits, (softplus(-2.0) + 30 + row1) / 2, 1e-4);
  // d/dh00 of row 0 / 2: -sigmoid(-2) * 2 (the positive) + sigmoid(30) * 30 (the negative, logits only).
  EXPECT_NEAR(g_grad, -0.5 * 2 / (1 + std::exp(2.0)), 1e-5);
  EXPECT_NEAR(l_grad, -0.5 * 2 / (1 + std::exp(2.0)) + 0.5 * 30, 1e-4);
}

TEST(Losses, BadSettingsAreClearErrors) {
  try {
    losses().create("loss", "gbce", seqrec::testing::default_config({{"gbce.t", "1.5"}}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--gbce.t must lie in [0, 1]");
  }
  EXPECT_THROW(losses().create("loss", "bpr", seqrec::testing::default_config({{"pairwise.negatives", "0"}})), Error);
}

TEST(FusedSoftmaxCE, MatchesATenValueAndGradients) {
  for (int64_t n : {1, 5, 77, 600}) {  // 600 rows: blocks of 256, 256 and 88 on CPU
    torch::manual_seed(n);
    torch::Tensor h = torch::randn({n, 16}) * 2, e = torch::randn({1003, 16});
    torch::Tensor t = torch::randint(0, 1003, {n}, torch::kLong);
    torch::Tensor h1 = h.clone().requires_grad_(), e1 = e.clone().requires_grad_();
    torch::Tensor h2 = h.clone().requires_grad_(), e2 = e.clone().requires_grad_();
    torch::Tensor fused = fused_softmax_ce(h1, e1, t);
    torch::Tensor aten = torch::nn::functional::cross_entropy(torch::mm(h2, e2.t()), t);
    (fused * 3).backward();
    (aten * 3).backward();
    EXPECT_NEAR(fused.item<double>(), aten.item<double>(), 1e-5);
    EXPECT_TRUE(torch::allclose(h1.grad(), h2.grad(), 1e-4, 1e-6)) << "n=" << n;
    EXPECT_TRUE(torch::allclose(e1.grad(), e2.grad(), 1e-4, 1e-6)) << "n=" << n;
  }
  // Only the table trainable (hidden a constant): its gradient alone, still exact.
  torch::Tensor h = torch::randn({300, 16}), e = torch::randn({50, 16});
  torch::Tensor t = torch::randint(0, 50, {300}, torch::kLong);
  torch::Tensor e1 = e.clone().requires_grad_(), e2 = e.clone().requires_grad_();
  fused_softmax_ce(h, e1, t).backward();
  torch::nn::functional::cross_entropy(torch::mm(h, e2.t()), t).backward();
  EXPECT_TRUE(torch::allclose(e1.grad(), e2.grad(), 1e-4, 1e-6));
}

TEST(FusedSoftmaxCE, OneChunkEqualsRowChunks) {
  // Off the CPU a whole block is one chunk; on it, 32-row chunks. softmax_ce_rows must give
  // the same losses, in-place gradients and draws either way (cumsum sampling path, which is
  // the one a GPU takes, and the float block walk).
  const int64_t n = 100, v = 301;
  torch::manual_seed(21);
  torch::Tensor logits = torch::randn({n, v}) * 3;
  torch::Tensor t = torch::randint(0, v, {n, 1}, torch::kLong);
  torch::Tensor u = torch::rand({n}, torch::kDouble);
  for (double power : {1.0, 4.4}) {
    SoftmaxSampling whole, chunked;
    whole.power = chunked.power = power;
    whole.uniforms = chunked.uniforms = u;
    whole.samples = torch::empty({n}, torch::kLong);
    chunked.samples = torch::empty({n}, torch::kLong);
    torch::Tensor g1 = logits.clone(), g2 = logits.clone();
    torch::Tensor l1 = softmax_ce_rows(g1, t, 1.0 / n, &whole, 0);
    std::vector<torch::Tensor> parts;
    for (int64_t r0 = 0; r0 < n; r0 += 32) {
      const int64_t r1 = std::min(n, r0 + 32);
      parts.push_back(softmax_ce_rows(g2.slice(0, r0, r1), t.slice(0, r0, r1), 1.0 / n, &chunked, r0));
    }
    EXPECT_TRUE(torch::allclose(l1, torch::cat(parts), 1e-6, 1e-6)) << "power " << power;
    EXPECT_TRUE(torch::allclose(g1, g2, 1e-6, 1e-8)) << "power " << power;
    EXPECT_TRUE(torch::equal(whole.samples, chunked.samples)) << "power " << power;
  }
}

TEST(FusedSoftmaxCE, DoubleGradientMatchesFiniteDifferences) {
  torch::manual_seed(3);
  torch::Tensor h = torch::randn({4, 3}, torch::kDouble), e = torch::randn({7, 3}, torch::kDouble);
  torch::Tensor t = torch::tensor({0, 3, 6, 3}, torch::kLong);  // target 0 allowed (ELECRec's padding quirk)
  torch::Tensor hg = h.clone().requires_grad_();
  fused_softmax_ce(hg, e, t).backward();
  for (int64_t i = 0; i < h.numel(); ++i) {
    torch::Tensor up = h.clone(), down = h.clone();
    up.view(-1)[i] += 1e-6;
    down.view(-1)[i] -= 1e-6;
    const double fd = (fused_softmax_ce(up, e, t).item<double>() - fused_softmax_ce(down, e, t).item<double>()) / 2e-6;
    EXPECT_NEAR(hg.grad().view(-1)[i].item<double>(), fd, 1e-7);
  }
}

namespace {
/// Pearson chi-square statistic of observed counts against expected probabilities.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& probs, int64_t n) {
  double x = 0;
  for (size_t j = 0; j < counts.size(); ++j) {
    const double e = probs[j] * n;
    x += (counts[j] - e) * (counts[j] - e) / e;
  }
  return x;
}
}  // namespace

TEST(FusedSoftmaxCE, SamplesFollowSoftmaxToThePower) {
  // 20,000 rows share one logit vector over 12 items; draws over items 1..11 (all but
  // padding), and over a candidate subset, must follow softmax(power * logits) restricted.
  // 99.9% chi-square quantiles: 10 dof 29.59, 4 dof 18.47.
  const int64_t n = 20000, v = 12;
  torch::manual_seed(11);
  torch::Tensor e = torch::randn({v, 4}, torch::kDouble), hrow = torch::randn({1, 4}, torch::kDouble);
  torch::Tensor h = hrow.expand({n, 4}).contiguous();
  torch::Tensor logits = torch::mm(hrow, e.t())[0];
  // float without a subset takes the block-walk path (either power), the rest the cumsum path.
  for (auto dtype : {torch::kDouble, torch::kFloat})
  for (double power : {1.0, 4.4}) {
    for (bool subset : {false, true}) {
      SoftmaxSampling s;
      s.power = power;
      if (subset) s.candidates = torch::tensor({2, 3, 5, 8, 11}, torch::kLong);
      s.uniforms = torch::rand({n}, torch::kDouble);
      fused_softmax_ce(h.to(dtype), e.to(dtype), torch::zeros({n}, torch::kLong), &s);
      std::vector<int64_t> ids = subset ? std::vector<int64_t>{2, 3, 5, 8, 11} : std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
      std::vector<double> p;
      double z = 0;
      for (int64_t j : ids) z += std::exp(power * logits[j].item<double>());
      for (int64_t j : ids) p.push_back(std::exp(power * logits[j].item<double>()) / z);
      std::vector<int64_t> counts(ids.size(), 0);
      auto acc = s.samples.accessor<int64_t, 1>();
      for (int64_t r = 0; r < n; ++r) {
        auto it = std::find(ids.begin(), ids.end(), acc[r]);
        ASSERT_NE(it, ids.end()) << "drew " << acc[r] << " outside the candidates";
        ++counts[it - ids.begin()];
      }
      EXPECT_LT(chi_square(counts, p, n), subset ? 18.47 : 29.59) << "power " << power << " subset " << subset << " dtype " << dtype;
    }
  }
}

TEST(FusedSoftmaxCE, FloatDrawsAreTheInverseCdfOfEachRow) {
  // The float block walk against an inverse CDF of softmax(power * logits) recomputed in
  // double from the same logits and uniforms, over rows long enough to span many blocks and a
  // tail (v = 1000 = 1 + 62 blocks of 16 + 7). Rows whose u lands within 1e-4 of a CDF step
  // may round either way.
  const int64_t n = 500, v = 1000;
  torch::manual_seed(5);
  torch::Tensor h = torch::randn({n, 8}), e = torch::randn({v, 8});
  torch::Tensor logits = torch::mm(h, e.t()).to(torch::kDouble);
  for (double power : {1.0, 4.4}) {
    SoftmaxSampling s;
    s.power = power;
    s.uniforms = torch::rand({n});
    fused_softmax_ce(h, e, torch::randint(0, v, {n}, torch::kLong), &s);
    int64_t checked = 0;
    for (int64_t r = 0; r < n; ++r) {
      torch::Tensor cdf = torch::softmax(power * logits[r].slice(0, 1, v), 0).cumsum(0);
      const double u = s.uniforms[r].item<double>();
      const int64_t want =
          1 +
          torch::searchsorted(cdf, torch::tensor({u}, torch::kDouble), false, true).clamp_max(v - 2)[0].item<int64_t>();
      if ((cdf - u).abs().min().item<double>() < 1e-4) continue;
      EXPECT_EQ(s.samples[r].item<int64_t>(), want) << "power " << power << " row " << r << " u " << u;
      ++checked;
    }
    EXPECT_GT(checked, 450) << "power " << power;
  }
}

TEST(FusedSoftmaxCE, ItemBlocksEqualTheWholeCatalogue) {
  // The item-blocked path (online log-sum-exp, second pass) gives the loss and both gradients
  // of the unblocked one, and the same inverse-CDF draws from the same uniforms (a draw may
  // move only where float sums differ at a boundary), for blocks that do and do not divide V.
  torch::manual_seed(21);
  const int64_t n = 300, v = 1003;
  torch::Tensor h = torch::randn({n, 16}) * 2, e = torch::randn({v, 16});
  torch::Tensor t = torch::randint(0, v, {n}, torch::kLong);
  torch::Tensor u = torch::rand({n}, torch::kDouble);
  auto run = [&](int64_t block, double power) {
    torch::Tensor h1 = h.clone().requires_grad_(), e1 = e.clone().requires_grad_();
    SoftmaxSampling s;
    s.power = power;
    s.uniforms = u;
    torch::Tensor loss = fused_softmax_ce(h1, e1, t, &s, block);
    (loss * 3).backward();
    return std::make_tuple(loss.item<double>(), h1.grad(), e1.grad(), s.samples);
  };
  for (double power : {1.0, 4.4}) {
    const auto [loss, gh, ge, draws] = run(0, power);
    for (int64_t block : {1, 100, 1000, 1002}) {
      const auto [l, bh, be, bd] = run(block, power);
      EXPECT_NEAR(l, loss, 1e-5) << block;
      EXPECT_TRUE(torch::allclose(bh, gh, 1e-4, 1e-6)) << block;
      EXPECT_TRUE(torch::allclose(be, ge, 1e-4, 1e-6)) << block;
      EXPECT_GE((bd == draws).sum().item<int64_t>(), n - 2) << "block " << block << " power " << power;
      EXPECT_TRUE(((bd >= 1) & (bd < v)).all().item<bool>());
    }
  }
}
