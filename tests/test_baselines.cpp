// The baselines beyond SASRec: the encoder conformance suite (sasrec, gru4rec, bert4rec,
// fmlprec, bsarec, caser; each trains a step under every loss), the frequency layers against
// a direct DFT, Caser against explicit loops, the negative samplers' distributions,
// adversarial training's gradient, BERT4Rec's cloze.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <functional>
#include <set>

#include "baselines/atsrec/atsrec.h"
#include "baselines/bert4rec/bert4rec.h"
#include "baselines/caser/caser.h"
#include "baselines/frequency/frequency.h"
#include "baselines/genni/genni.h"
#include "baselines/sasrec/sasrec.h"
#include "seqrec/checkpoint.h"
#include "seqrec/error.h"
#include "seqrec/registry.h"
#include "seqrec/sampler.h"
#include "finite_difference.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::expect_finite_difference_gradient;

namespace {

Config small_config(std::initializer_list<std::pair<std::string, std::string>> more = {}) {
  Config c = seqrec::testing::default_config({{"sasrec.hidden-size", "16"}, {"gru4rec.hidden-size", "16"}, {"max-len", "12"},
                                              {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"}, {"gru4rec.dropout", "0"},
                                              {"caser.hidden-size", "16"}, {"caser.dropout", "0"}});
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

/// The model's encoding of seqs, row i being user i's (every encoder takes users; Caser needs them).
torch::Tensor encode(Model& m, const torch::Tensor& seqs, int64_t offset) {
  return m.encode_users(seqs, offset, torch::arange(seqs.size(0)));
}
torch::Tensor encode_last(Model& m, const torch::Tensor& seqs, int64_t offset) {
  return m.encode_last_users(seqs, offset, torch::arange(seqs.size(0)));
}

}  // namespace

TEST_P(EncoderConformance, PaddingAndWidthDoNotChangeRealPositions) {
  auto m = make_encoder(GetParam());
  torch::NoGradGuard g;
  torch::Tensor full = torch::tensor({{0, 0, 0, 0, 0, 0, 0, 3, 4, 5, 6, 7}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 8, 2}}, torch::kLong);
  torch::Tensor cut = full.slice(1, 7, 12);
  torch::Tensor a = encode(*m, full, 0).slice(1, 7, 12), b = encode(*m, cut, 7);
  torch::Tensor real = (cut > 0).unsqueeze(-1).expand_as(a);
  EXPECT_TRUE(torch::allclose(a.masked_select(real), b.masked_select(real), 1e-5, 1e-6)) << GetParam();
}

TEST_P(EncoderConformance, CausalModelsNeverSeeTheFutureBidirectionalOnesDo) {
  auto m = make_encoder(GetParam());
  const bool causal = GetParam() != "bert4rec" && GetParam() != "fmlprec" && GetParam() != "bsarec";
  EXPECT_EQ(m->causal(), causal) << GetParam();
  torch::NoGradGuard g;
  torch::Tensor seqs = torch::tensor({{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}}, torch::kLong);
  torch::Tensor out = encode(*m, seqs, 0);
  for (int64_t t : {5, 8}) {
    torch::Tensor changed = seqs.clone();
    changed.slice(1, t + 1, 12).fill_(10);
    torch::Tensor out2 = encode(*m, changed, 0);
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
    expected = encode(*m, x, 0).select(1, 11);
  } else {
    expected = encode(*m, seqs, 0).select(1, 11);
  }
  EXPECT_TRUE(torch::allclose(encode_last(*m, seqs, 0), expected, 1e-5, 1e-6)) << GetParam();
}

TEST_P(EncoderConformance, EncodeLastTrainsLikeTheLastColumnOfEncode) {
  // Training calls encode_last: its gradients must be those of the full pass's last column,
  // at full width and for a narrower input at an offset (the frequency encoders pad it inside).
  if (GetParam() == "bert4rec") GTEST_SKIP() << "bert4rec's encode_last appends its mask token (tested above)";
  auto m = make_encoder(GetParam());
  m->train();  // the config's dropouts are 0
  const torch::Tensor full = torch::tensor({{0, 0, 0, 0, 0, 0, 4, 7, 9, 2, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2}}, torch::kLong);
  for (const int64_t offset : {0, 7}) {
    const torch::Tensor seqs = full.slice(1, offset);
    torch::Tensor r = torch::randn({2, encode_last(*m, seqs, offset).size(1)});
    auto gradients = [&](const torch::Tensor& out) {
      m->zero_grad();
      (out * r).sum().backward();
      std::vector<torch::Tensor> g;
      for (const auto& p : m->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
      return g;
    };
    const auto last = gradients(encode_last(*m, seqs, offset));
    const auto whole = gradients(encode(*m, seqs, offset).select(1, seqs.size(1) - 1));
    ASSERT_EQ(last.size(), whole.size());
    double largest = 0;
    for (size_t i = 0; i < last.size(); ++i) {
      EXPECT_TRUE(torch::allclose(last[i], whole[i], 1e-4, 1e-6)) << GetParam() << " offset " << offset << " parameter " << i;
      largest = std::max(largest, whole[i].abs().max().item<double>());
    }
    EXPECT_GT(largest, 0) << GetParam();
  }
}

namespace {
/// Trains one step of encoder `name` with `loss_name` (its negatives from `sampler_name`)
/// under `trainer_name`, through the registries as a run builds them (prefix examples where the
/// encoder is not causal or the trainer needs them), and checks that the loss is finite and
/// that every parameter gets a gradient that is not zero and moves.
void expect_a_step_trains_every_parameter(const std::string& name, const std::string& trainer_name,
                                          const std::string& loss_name, const std::string& sampler_name = "uniform") {
  const std::string what = name + " x " + trainer_name + " x " + loss_name + " x " + sampler_name;
  Config c = small_config({{"model", name}, {"trainer", trainer_name}, {"loss", loss_name}, {"lr", "0.01"},
                           {"bce.negatives", "3"}, {"pairwise.negatives", "3"}, {"gbce.negatives", "3"},
                           {"sampled-softmax.negatives", "4"}, {"cl.clusters", "3"}});
  torch::manual_seed(1);
  auto m = models().create("model", name, ModelContext{c, tiny_data()});
  const bool prefixes = !m->causal() || trainer_name == "duorec";
  if (prefixes) c.set("examples", "window-prefixes");
  auto loss = losses().create("loss", loss_name, c);
  auto trainer = trainers().create("trainer", trainer_name, c);
  auto sampler = samplers().create("sampler", sampler_name, c, tiny_data());
  std::mt19937_64 rng(1);
  TrainContext ctx{*m, *loss, *sampler, c, rng, torch::kCPU, &tiny_data()};
  trainer->setup(ctx);
  trainer->begin_epoch(1);
  std::mt19937_64 brng(2);
  const Batch batch = TrainBatcher(tiny_data(), 12, 16, Batching::kSplit,
                                   prefixes ? Examples::kWindowPrefixes : Examples::kSequences).epoch(brng)[0];
  std::vector<torch::Tensor> before;
  for (const auto& p : m->parameters()) before.push_back(p.detach().clone());
  const torch::Tensor value = trainer->step(batch);
  EXPECT_TRUE(std::isfinite(value.item<double>())) << what;
  size_t i = 0;
  for (const auto& p : m->named_parameters()) {
    const torch::Tensor& g = p.value().grad();
    EXPECT_TRUE(g.defined() && g.abs().max().item<double>() > 0) << what << ": " << p.key();
    EXPECT_FALSE(torch::equal(p.value(), before[i++])) << what << ": " << p.key() << " did not move";
  }
}
}  // namespace

TEST_P(EncoderConformance, TrainsAStepUnderEveryRegisteredLoss) {
  const std::string trainer = GetParam() == "bert4rec" ? "cloze" : "plain";
  seqrec::testing::default_config();  // registers the built-in losses
  EXPECT_GE(losses().entries().size(), 13u);
  for (const auto& [loss, entry] : losses().entries()) expect_a_step_trains_every_parameter(GetParam(), trainer, loss);
}

TEST_P(EncoderConformance, TrainsAStepUnderEveryTrainerForAnyEncoder) {
  // The trainers that are not tied to one model (cloze: bert4rec; s3rec-pretrain: s3rec;
  // elecrec: its own generator and discriminator), with each encoder's default loss.
  if (GetParam() == "bert4rec") GTEST_SKIP() << "bert4rec trains by the cloze task alone";
  for (const std::string trainer : {"plain", "atsrec", "cl4srec", "iclrec", "duorec"})
    expect_a_step_trains_every_parameter(GetParam(), trainer, GetParam() == "bsarec" ? "ce" : "bce");
}

TEST_P(EncoderConformance, TrainsAStepUnderEverySamplerOfASampledLoss) {
  const std::string trainer = GetParam() == "bert4rec" ? "cloze" : "plain";
  seqrec::testing::default_config();  // registers the built-in samplers
  EXPECT_GE(samplers().entries().size(), 3u);
  for (const auto& [sampler, entry] : samplers().entries())
    expect_a_step_trains_every_parameter(GetParam(), trainer, "bce", sampler);
}

INSTANTIATE_TEST_SUITE_P(AllEncoders, EncoderConformance, ::testing::Values("sasrec", "sasrec-untied", "gru4rec", "bert4rec", "fmlprec", "bsarec", "caser"));

TEST(Encoders, EveryRegisteredEncoderIsCovered) {
  seqrec::testing::default_config();
  std::set<std::string> covered = {"sasrec", "sasrec-untied", "gru4rec", "bert4rec", "fmlprec", "bsarec", "caser", "pop", "elecrec", "s3rec"};  // pop: no encoder; elecrec: test_elecrec; s3rec: SASRec's encoder (test_s3rec)
  for (const auto& [name, entry] : models().entries()) EXPECT_TRUE(covered.count(name)) << name << " lacks conformance tests";
}

namespace {
/// The rfft bins (ortho) of x [W] at k = 0..W/2, by the DFT's definition.
std::vector<std::complex<double>> direct_rfft(const std::vector<double>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<std::complex<double>> f(n / 2 + 1);
  for (int64_t k = 0; k <= n / 2; ++k)
    for (int64_t t = 0; t < n; ++t) f[k] += x[t] * std::polar(1.0, -2 * M_PI * k * t / n) / std::sqrt(double(n));
  return f;
}
/// The inverse (ortho, length n) of rfft bins, as irfft reads them: the imaginary parts of the
/// DC and (n even) Nyquist bins count for nothing.
std::vector<double> direct_irfft(const std::vector<std::complex<double>>& f, int64_t n) {
  std::vector<double> y(n);
  for (int64_t t = 0; t < n; ++t) {
    double v = f[0].real();
    for (int64_t k = 1; k < static_cast<int64_t>(f.size()); ++k) {
      const double term = (f[k] * std::polar(1.0, 2 * M_PI * k * t / n)).real();
      v += (2 * k == n) ? f[k].real() * (t % 2 ? -1 : 1) : 2 * term;
    }
    y[t] = v / std::sqrt(double(n));
  }
  return y;
}
/// LayerNorm over the last dimension with weight 1, bias 0 and eps 1e-12, of a [B, W, d] tensor.
torch::Tensor plain_layer_norm(const torch::Tensor& x) {
  torch::Tensor mean = x.mean(-1, true), var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / torch::sqrt(var + 1e-12);
}
SASRecOptions frequency_test_options(int64_t w) {
  return SASRecOptions(12).hidden_size(3).layers(2).heads(1).dropout(0).attn_dropout(0).max_len(w);
}
}  // namespace

TEST(FrequencyLayers, FMLPFilterIsTheDirectDFTTimesItsWeight) {
  for (int64_t w : {8, 7}) {  // even: a Nyquist bin whose imaginary part irfft drops; odd: none
    torch::manual_seed(4);
    FilterLayer layer(frequency_test_options(w));
    layer->eval();
    { torch::NoGradGuard g; layer->complex_weight.normal_(); }
    torch::Tensor x = torch::randn({2, w, 3}, torch::kDouble);
    layer->to(torch::kDouble);
    torch::Tensor got = layer->forward(x);
    torch::Tensor mixed = torch::zeros_like(x);
    auto wt = layer->complex_weight.accessor<double, 4>();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t j = 0; j < 3; ++j) {
        std::vector<double> col(w);
        for (int64_t t = 0; t < w; ++t) col[t] = x[b][t][j].item<double>();
        std::vector<std::complex<double>> f = direct_rfft(col);
        for (int64_t k = 0; k < static_cast<int64_t>(f.size()); ++k) f[k] *= std::complex<double>(wt[0][k][j][0], wt[0][k][j][1]);
        std::vector<double> y = direct_irfft(f, w);
        for (int64_t t = 0; t < w; ++t) mixed[b][t][j] = y[t];
      }
    EXPECT_TRUE(torch::allclose(got, plain_layer_norm(mixed + x), 1e-9, 1e-9)) << "width " << w;
  }
}

TEST(FrequencyLayers, BSARecLowPassIsTheClosedFormProjection) {
  // low[t] = sum_s M[t][s] x[s], M[t][s] = (1 + 2 sum_{k=1}^{keep-1} cos(2 pi k (t - s) / W)) / W.
  const int64_t w = 10;
  for (int64_t c : {1, 3, 5}) {
    torch::manual_seed(5);
    FrequencyLayer layer(frequency_test_options(w), c);
    layer->eval();
    layer->to(torch::kDouble);
    { torch::NoGradGuard g; layer->sqrt_beta.normal_(); }
    const int64_t keep = c / 2 + 1;
    torch::Tensor m = torch::zeros({w, w}, torch::kDouble);
    for (int64_t t = 0; t < w; ++t)
      for (int64_t s = 0; s < w; ++s) {
        double v = 1;
        for (int64_t k = 1; k < keep; ++k) v += 2 * std::cos(2 * M_PI * k * (t - s) / w);
        m[t][s] = v / w;
      }
    torch::Tensor x = torch::randn({2, w, 3}, torch::kDouble);
    torch::Tensor low = torch::matmul(m, x);
    torch::Tensor expected = plain_layer_norm(low + layer->sqrt_beta.pow(2) * (x - low) + x);
    EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-9, 1e-9)) << "c " << c;
  }
}

TEST(FrequencyLayers, GradientsMatchFiniteDifferences) {
  for (auto kind : {FrequencyOptions::Kind::kFMLPRec, FrequencyOptions::Kind::kBSARec}) {
    torch::manual_seed(6);
    FrequencyOptions f;
    f.kind = kind;
    f.alpha = 0.7;
    f.c = 3;
    FrequencyEncoder m(frequency_test_options(6), f);
    m.eval();
    m.to(torch::kDouble);
    torch::Tensor seqs = torch::tensor({{0, 0, 3, 4, 5, 6}, {1, 2, 3, 9, 8, 7}}, torch::kLong);
    torch::Tensor r = torch::randn({2, 6, 3}, torch::kDouble);
    auto objective = [&] { return (m.encode(seqs, 0) * r).sum(); };
    m.zero_grad();
    objective().backward();
    for (const auto& p : m.named_parameters()) {
      const std::string& name = p.key();
      if (name.find("filterlayer.complex_weight") == std::string::npos && name.find("sqrt_beta") == std::string::npos &&
          name.find("attention_layer.query.weight") == std::string::npos && name != "position_embeddings.weight")
        continue;
      expect_finite_difference_gradient(p.value(), objective, m.kind() + " " + name);
    }
  }
}

namespace {
/// One sequence's activations, [W][d], for the slow encoder below.
using Rows = std::vector<std::vector<double>>;

/// The frequency encoders' forward for one left-padded sequence of max_len items, computed row
/// by row from the parameters by name: direct DFTs, explicit sums for every linear map, the
/// attention (BSARec) one query and one key at a time; double, eval mode.
class SlowFrequencyEncoder {
 public:
  SlowFrequencyEncoder(FrequencyEncoder& m, const FrequencyOptions& f, int64_t heads)
      : p_(m.named_parameters()), f_(f), heads_(heads) {}

  Rows encode(const std::vector<int64_t>& seq) const {
    const int64_t w = static_cast<int64_t>(seq.size());
    Rows x(w);
    for (int64_t t = 0; t < w; ++t)
      for (int64_t j = 0; j < d(); ++j)
        x[t].push_back(at("item_embeddings.weight", seq[t], j) + at("position_embeddings.weight", t, j));
    x = layer_norm(x, "LayerNorm");
    for (int64_t i = 0;; ++i) {
      const std::string block = "layer." + std::to_string(i) + ".";
      if (!p_.contains(block + "intermediate.LayerNorm.weight")) break;
      Rows mixed;
      if (f_.kind == FrequencyOptions::Kind::kFMLPRec) {
        mixed = layer_norm(add(filtered(x, block + "filterlayer.complex_weight"), x), block + "filterlayer.LayerNorm");
      } else {
        const Rows low = filtered(x, "");
        Rows high_scaled = add(x, low, -1);
        for (auto& row : high_scaled)
          for (int64_t j = 0; j < d(); ++j) row[j] *= std::pow(at(block + "filter_layer.sqrt_beta", 0, j), 2);
        const Rows freq = layer_norm(add(add(low, high_scaled), x), block + "filter_layer.LayerNorm");
        const Rows att = attention(x, seq, block + "attention_layer.");
        mixed = add(scaled(freq, f_.alpha), scaled(att, 1 - f_.alpha));
      }
      Rows hidden = linear(mixed, block + "intermediate.dense_1");
      for (auto& row : hidden)
        for (double& v : row) v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      x = layer_norm(add(linear(hidden, block + "intermediate.dense_2"), mixed), block + "intermediate.LayerNorm");
    }
    return x;
  }

 private:
  int64_t d() const { return p_["LayerNorm.weight"].size(0); }
  /// Element [i][j] of the parameter seen as rows of its last dimension (i = 0 for vectors).
  double at(const std::string& name, int64_t i, int64_t j) const {
    const torch::Tensor& t = p_[name];
    return t.reshape({-1, t.size(-1)})[i][j].item<double>();
  }
  static Rows add(const Rows& a, const Rows& b, double sign = 1) {
    Rows out = a;
    for (size_t t = 0; t < a.size(); ++t)
      for (size_t j = 0; j < a[t].size(); ++j) out[t][j] += sign * b[t][j];
    return out;
  }
  static Rows scaled(Rows a, double s) {
    for (auto& row : a)
      for (double& v : row) v *= s;
    return a;
  }
  Rows linear(const Rows& x, const std::string& name) const {
    const torch::Tensor& weight = p_[name + ".weight"];
    Rows out(x.size(), std::vector<double>(weight.size(0)));
    for (size_t t = 0; t < x.size(); ++t)
      for (int64_t o = 0; o < weight.size(0); ++o) {
        double v = at(name + ".bias", 0, o);
        for (int64_t i = 0; i < weight.size(1); ++i) v += at(name + ".weight", o, i) * x[t][i];
        out[t][o] = v;
      }
    return out;
  }
  Rows layer_norm(const Rows& x, const std::string& name) const {
    Rows out = x;
    for (auto& row : out) {
      double mean = 0, var = 0;
      for (double v : row) mean += v / row.size();
      for (double v : row) var += (v - mean) * (v - mean) / row.size();
      for (size_t j = 0; j < row.size(); ++j)
        row[j] = (row[j] - mean) / std::sqrt(var + 1e-12) * at(name + ".weight", 0, j) + at(name + ".bias", 0, j);
    }
    return out;
  }
  /// Each channel's column through the direct DFT, times FMLP-Rec's complex weight `weight`
  /// per bin; without a weight, BSARec's low pass (the lowest c / 2 + 1 bins kept).
  Rows filtered(const Rows& x, const std::string& weight) const {
    const int64_t w = static_cast<int64_t>(x.size());
    Rows out = x;
    for (int64_t j = 0; j < d(); ++j) {
      std::vector<double> col(w);
      for (int64_t t = 0; t < w; ++t) col[t] = x[t][j];
      std::vector<std::complex<double>> bins = direct_rfft(col);
      for (int64_t k = 0; k < static_cast<int64_t>(bins.size()); ++k) {
        if (weight.empty()) {
          if (k >= f_.c / 2 + 1) bins[k] = 0;
        } else {
          const torch::Tensor& cw = p_[weight];
          bins[k] *= std::complex<double>(cw[0][k][j][0].item<double>(), cw[0][k][j][1].item<double>());
        }
      }
      const std::vector<double> y = direct_irfft(bins, w);
      for (int64_t t = 0; t < w; ++t) out[t][j] = y[t];
    }
    return out;
  }
  /// SASRec's attention sublayer: each query t over keys u <= t that hold an item (-10000
  /// added to the others' scores), per head, then dense, the residual and LayerNorm.
  Rows attention(const Rows& x, const std::vector<int64_t>& seq, const std::string& prefix) const {
    const Rows q = linear(x, prefix + "query"), k = linear(x, prefix + "key"), v = linear(x, prefix + "value");
    const int64_t w = static_cast<int64_t>(x.size()), dh = d() / heads_;
    Rows ctx(w, std::vector<double>(d()));
    for (int64_t h = 0; h < heads_; ++h)
      for (int64_t t = 0; t < w; ++t) {
        std::vector<double> score(w);
        double top = -1e300, total = 0;
        for (int64_t u = 0; u < w; ++u) {
          for (int64_t c = h * dh; c < (h + 1) * dh; ++c) score[u] += q[t][c] * k[u][c];
          score[u] = score[u] / std::sqrt(double(dh)) + (u > t || seq[u] == 0 ? -10000.0 : 0.0);
          top = std::max(top, score[u]);
        }
        for (double& s : score) total += (s = std::exp(s - top));
        for (int64_t u = 0; u < w; ++u)
          for (int64_t c = h * dh; c < (h + 1) * dh; ++c) ctx[t][c] += score[u] / total * v[u][c];
      }
    return layer_norm(add(linear(ctx, prefix + "dense"), x), prefix + "LayerNorm");
  }

  torch::OrderedDict<std::string, torch::Tensor> p_;
  FrequencyOptions f_;
  int64_t heads_;
};
}  // namespace

TEST(FrequencyEncoders, EncodeMatchesTheSlowPathRowByRow) {
  // Every weight drawn at random (LayerNorms and biases too), so that a swapped or skipped
  // part shows; a narrower input is left-padded to max_len, as the reference pads.
  const int64_t w = 7;
  const SASRecOptions o = SASRecOptions(12).hidden_size(4).layers(2).heads(2).dropout(0).attn_dropout(0).max_len(w);
  for (auto kind : {FrequencyOptions::Kind::kFMLPRec, FrequencyOptions::Kind::kBSARec}) {
    FrequencyOptions f;
    f.kind = kind;
    f.alpha = 0.6;
    f.c = 5;
    torch::manual_seed(8);
    FrequencyEncoder m(o, f);
    m.eval();
    m.to(torch::kDouble);
    {
      torch::NoGradGuard g;
      for (auto& p : m.parameters()) p.normal_(0, 0.5);
    }
    const SlowFrequencyEncoder slow(m, f, o.heads());
    const std::vector<std::vector<int64_t>> rows = {{3, 1, 4, 1, 5, 9, 2}, {0, 0, 0, 6, 5, 3, 5}};
    torch::Tensor got = m.encode(torch::tensor({3, 1, 4, 1, 5, 9, 2, 0, 0, 0, 6, 5, 3, 5}).view({2, w}), 0);
    torch::Tensor narrow = m.encode(torch::tensor({0, 6, 5, 3, 5}).view({1, 5}), w - 5);
    for (size_t b = 0; b < rows.size(); ++b) {
      const Rows want = slow.encode(rows[b]);
      for (int64_t t = 0; t < w; ++t)
        for (int64_t j = 0; j < o.hidden_size(); ++j) {
          EXPECT_NEAR(got[b][t][j].item<double>(), want[t][j], 1e-9) << m.kind() << " row " << b << " column " << t;
          if (b == 1 && t >= 2)
            EXPECT_NEAR(narrow[0][t - 2][j].item<double>(), want[t][j], 1e-9) << m.kind() << " narrow";
        }
    }
  }
}

TEST(FrequencyEncoders, EveryBlockStartsFromOneDrawOfTheFilterWeights) {
  // LibTorch seeds its default generator at random in every process: a fixed seed keeps the
  // std check on the filter's 30 draws (0.02 +- 0.006, about 2.3 standard errors) from failing
  // one run in fifty.
  torch::manual_seed(0);
  FrequencyOptions f;
  f.kind = FrequencyOptions::Kind::kBSARec;
  FrequencyEncoder bsarec(frequency_test_options(8), f);
  FrequencyEncoder fmlp(frequency_test_options(8), FrequencyOptions{});
  auto p = bsarec.named_parameters(), q = fmlp.named_parameters();
  EXPECT_TRUE(torch::equal(p["layer.0.filter_layer.sqrt_beta"], p["layer.1.filter_layer.sqrt_beta"]));
  EXPECT_FALSE(torch::equal(p["layer.0.attention_layer.query.weight"], p["layer.1.attention_layer.query.weight"]));
  EXPECT_TRUE(torch::equal(q["layer.0.filterlayer.complex_weight"], q["layer.1.filterlayer.complex_weight"]));
  EXPECT_NEAR(q["layer.0.filterlayer.complex_weight"].std().item<double>(), 0.02, 0.006);
  EXPECT_THROW(fmlp.encode(torch::ones({1, 4}, torch::kLong), 0), Error);  // ends before position max_len - 1
}

namespace {
CaserOptions caser_test_options(CaserUserRows rows = CaserUserRows::kPadding) {
  return CaserOptions(/*item_size=*/12, /*num_users=*/3).hidden_size(5).max_len(6).horizontal(2).vertical(3).dropout(0).user_rows(rows);
}

/// Caser over one window, each filter's taps summed one by one (double).
torch::Tensor caser_by_loops(Caser& m, const std::vector<int64_t>& window, int64_t user_row) {
  auto p = m.named_parameters();
  auto E = p["item_embeddings.weight"].accessor<double, 2>();
  const int64_t L = static_cast<int64_t>(window.size()), d = E.size(1);
  std::vector<double> features;
  auto wv = p["conv_v.weight"].accessor<double, 4>();
  auto bv = p["conv_v.bias"].accessor<double, 1>();
  for (int64_t c = 0; c < wv.size(0); ++c)
    for (int64_t j = 0; j < d; ++j) {
      double sum = bv[c];
      for (int64_t t = 0; t < L; ++t) sum += wv[c][0][t][0] * E[window[t]][j];
      features.push_back(sum);
    }
  for (int64_t h = 1; h <= L; ++h) {
    const std::string name = "conv_h." + std::to_string(h - 1);
    auto w = p[name + ".weight"].accessor<double, 4>();
    auto b = p[name + ".bias"].accessor<double, 1>();
    for (int64_t f = 0; f < w.size(0); ++f) {
      double best = 0;  // max over time of ReLU outputs
      for (int64_t t = 0; t + h <= L; ++t) {
        double sum = b[f];
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < d; ++j) sum += w[f][0][i][j] * E[window[t + i]][j];
        best = std::max(best, sum);
      }
      features.push_back(best);
    }
  }
  torch::Tensor z = torch::relu(torch::mv(p["fc1.weight"], torch::tensor(features, torch::kDouble)) + p["fc1.bias"]);
  return torch::relu(torch::mv(p["fc2.weight"], torch::cat({z, p["user_embeddings.weight"][user_row]})) + p["fc2.bias"]);
}
}  // namespace

namespace {
/// A model's state dict as a reference implementation names it: each name through the first
/// (pattern, replacement) whose pattern matches it whole, the item table without its last
/// (mask) row.
StateDict as_authors_name_it(Model& m, const std::vector<std::pair<std::string, std::string>>& renames) {
  StateDict out = state_dict_of(m);
  rename_tensors(out, renames);
  for (auto& [name, t] : out.tensors) t = name == "item_embeddings.weight" ? t.slice(0, 0, t.size(0) - 1).clone() : t.clone();
  return out;
}

/// The names of a reference implementation's dict with `layers` blocks: `top` as they are, and
/// `block`{i}`leaf` for every leaf.
std::set<std::string> authors_names(const std::vector<std::string>& top, const std::string& block,
                                    const std::vector<std::string>& leaves, int layers) {
  std::set<std::string> names(top.begin(), top.end());
  for (int i = 0; i < layers; ++i)
    for (const auto& leaf : leaves) names.insert(block + std::to_string(i) + leaf);
  return names;
}

std::set<std::string> names_of(const StateDict& sd) {
  std::set<std::string> names;
  for (const auto& [name, t] : sd.tensors) names.insert(name);
  return names;
}

/// `theirs` (whose names must be `names`) is known to one importer alone, `importer`, which
/// reads `keys` off it; loaded into `fresh` (nothing left over but `unused`), every tensor
/// equals `ours`', the item table's new last row zero.
void expect_imports_as(StateDict theirs, const std::set<std::string>& names, const std::string& importer,
                       const std::map<std::string, std::string>& keys, Model& ours, Model& fresh,
                       const std::vector<std::string>& unused = {}) {
  EXPECT_EQ(names_of(theirs), names);
  std::vector<std::string> knowing;
  for (const auto& [name, entry] : importers().entries()) {
    StateDict copy = theirs;
    if (!entry.make(copy).empty()) knowing.push_back(name);
  }
  EXPECT_EQ(knowing, std::vector<std::string>{importer});
  const ForeignImport imported = import_foreign(theirs);
  EXPECT_EQ(imported.importer, importer);
  EXPECT_EQ(imported.keys, keys);
  EXPECT_EQ(load_state_dict(fresh, theirs), unused);
  auto a = ours.named_parameters(), b = fresh.named_parameters();
  for (const auto& p : a) {
    torch::Tensor x = p.value(), y = b[p.key()];
    if (p.key() == "item_embeddings.weight") {
      EXPECT_TRUE(torch::equal(y[y.size(0) - 1], torch::zeros({y.size(1)}, y.options())));  // the mask row theirs lacks
      x = x.slice(0, 0, x.size(0) - 1), y = y.slice(0, 0, y.size(0) - 1);
    }
    EXPECT_TRUE(torch::equal(x, y)) << p.key();
  }
}

const std::vector<std::string> kEmbeddings = {"item_embeddings.weight", "position_embeddings.weight", "LayerNorm.weight",
                                              "LayerNorm.bias"};
std::vector<std::string> weight_and_bias(const std::string& prefix, const std::vector<std::string>& modules) {
  std::vector<std::string> out;
  for (const auto& m : modules)
    for (const char* p : {".weight", ".bias"}) out.push_back(prefix + m + p);
  return out;
}
std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
}  // namespace

// The names in each test are those of the authors' own files (RUCAIBox/FMLP-Rec's released
// Beauty weights; yehjin-shin/BSARec's BSARec, Caser and DuoRec checkpoints).
TEST(Importers, FMLPRecsOwnStateDictsImportAsFmlprec) {
  register_builtins();
  torch::manual_seed(3);
  FrequencyEncoder ours(frequency_test_options(8), FrequencyOptions{}), fresh(frequency_test_options(8), FrequencyOptions{});
  StateDict theirs = as_authors_name_it(ours, {{R"(layer\.(.*))", "item_encoder.layer.$1"}});
  const auto names = authors_names(kEmbeddings, "item_encoder.layer.",
                                   std::vector<std::string>{".filterlayer.complex_weight"} +
                                       weight_and_bias(".filterlayer.", {"LayerNorm"}) +
                                       weight_and_bias(".intermediate.", {"dense_1", "dense_2", "LayerNorm"}),
                                   2);
  expect_imports_as(theirs, names, "fmlprec-reference",
                    {{"model", "fmlprec"}, {"sasrec.hidden-size", "3"}, {"sasrec.layers", "2"}, {"max-len", "8"}}, ours, fresh);
  torch::Tensor seqs = torch::randint(1, 11, {4, 8}, torch::kLong);
  ours.eval(), fresh.eval();
  EXPECT_TRUE(torch::equal(fresh.encode(seqs, 0), ours.encode(seqs, 0)));
}

TEST(Importers, BSARecsRepositoryDictsImportAsBsarecSasrecAndCaser) {
  // yehjin-shin/BSARec's models: blocks under item_encoder.blocks.{i}, with .layer (BSARec's
  // filter and attention layers, or SASRec's attention) and .feed_forward; no mask row.
  register_builtins();
  const auto feed_forward = weight_and_bias(".feed_forward.", {"dense_1", "dense_2", "LayerNorm"});
  FrequencyOptions b;
  b.kind = FrequencyOptions::Kind::kBSARec;
  torch::manual_seed(5);
  FrequencyEncoder bsarec(frequency_test_options(8), b), bsarec_fresh(frequency_test_options(8), b);
  StateDict theirs = as_authors_name_it(bsarec, {{R"(layer\.(\d+)\.filter_layer\.sqrt_beta)", "item_encoder.blocks.$1.layer.filter_layer.beta"},
                                                 {R"(layer\.(\d+)\.intermediate\.(.*))", "item_encoder.blocks.$1.feed_forward.$2"},
                                                 {R"(layer\.(\d+)\.(.*))", "item_encoder.blocks.$1.layer.$2"}});
  expect_imports_as(theirs,
                    authors_names(kEmbeddings, "item_encoder.blocks.",
                                  std::vector<std::string>{".layer.filter_layer.beta"} +
                                      weight_and_bias(".layer.filter_layer.", {"LayerNorm"}) +
                                      weight_and_bias(".layer.attention_layer.", {"query", "key", "value", "dense", "LayerNorm"}) +
                                      feed_forward,
                                  2),
                    "bsarec-reference", {{"model", "bsarec"}, {"sasrec.hidden-size", "3"}, {"sasrec.layers", "2"}, {"max-len", "8"}},
                    bsarec, bsarec_fresh);

  SASRec sasrec{SASRecOptions(12).hidden_size(4).max_len(8)}, sasrec_fresh{SASRecOptions(12).hidden_size(4).max_len(8)};
  theirs = as_authors_name_it(sasrec, {{R"(item_encoder\.layer\.(\d+)\.attention\.(.*))", "item_encoder.blocks.$1.layer.$2"},
                                       {R"(item_encoder\.layer\.(\d+)\.intermediate\.(.*))", "item_encoder.blocks.$1.feed_forward.$2"}});
  expect_imports_as(theirs,
                    authors_names(kEmbeddings, "item_encoder.blocks.",
                                  weight_and_bias(".layer.", {"query", "key", "value", "dense", "LayerNorm"}) + feed_forward, 2),
                    "sasrec-bsarec-repository",
                    {{"model", "sasrec"}, {"sasrec.hidden-size", "4"}, {"sasrec.layers", "2"}, {"max-len", "8"}}, sasrec, sasrec_fresh);

  Caser caser(caser_test_options()), caser_fresh(caser_test_options());
  theirs = as_authors_name_it(caser, {});
  theirs.tensors.emplace_back("position_embeddings.weight", torch::zeros({6, 5}));  // theirs has one, unused
  std::vector<std::string> top = {"item_embeddings.weight", "position_embeddings.weight", "user_embeddings.weight"};
  top = top + weight_and_bias("", {"conv_v", "fc1", "fc2"});
  expect_imports_as(theirs, authors_names(top, "conv_h.", {".weight", ".bias"}, 6), "caser-reference",
                    {{"model", "caser"}, {"caser.hidden-size", "5"}, {"caser.vertical", "3"}, {"caser.horizontal", "2"},
                     {"max-len", "6"}, {"caser.user-rows", "padding"}},
                    caser, caser_fresh, {"position_embeddings.weight"});
}

TEST(Importers, ADictNoImporterKnowsIsLeftAloneAndSASRecsKeepsItsNames) {
  register_builtins();
  SASRec sasrec{SASRecOptions(12).hidden_size(4).max_len(8)};
  StateDict reference = state_dict_of(sasrec);  // S3Rec's, ICLRec's names
  const StateDict before = reference;
  EXPECT_EQ(import_foreign(reference).importer, "sasrec-reference");
  ASSERT_EQ(reference.tensors.size(), before.tensors.size());
  for (size_t i = 0; i < before.tensors.size(); ++i) {
    EXPECT_EQ(reference.tensors[i].first, before.tensors[i].first);
    EXPECT_TRUE(reference.tensors[i].second.is_same(before.tensors[i].second)) << before.tensors[i].first;
  }
  StateDict other;
  other.tensors.emplace_back("w", torch::ones({2}));
  EXPECT_TRUE(import_foreign(other).keys.empty());
  EXPECT_EQ(other.tensors[0].first, "w");
}

TEST(Caser, ForwardMatchesExplicitLoopsUnderBothUserRows) {
  const std::vector<std::vector<int64_t>> windows = {{0, 0, 3, 4, 5, 6}, {1, 2, 3, 9, 8, 7}, {0, 0, 0, 0, 0, 11}};
  const std::vector<int64_t> users = {0, 2, 1};
  for (CaserUserRows rows : {CaserUserRows::kPadding, CaserUserRows::kOwn}) {
    torch::manual_seed(3);
    Caser m(caser_test_options(rows));
    m.eval();
    m.to(torch::kDouble);
    torch::NoGradGuard g;
    torch::Tensor seqs = torch::zeros({3, 6}, torch::kLong);
    for (int64_t r = 0; r < 3; ++r) seqs[r] = torch::tensor(windows[r], torch::kLong);
    torch::Tensor out = m.encode_last_users(seqs, 0, torch::tensor(users, torch::kLong));
    for (int64_t r = 0; r < 3; ++r) {
      const int64_t row = users[r] + (rows == CaserUserRows::kOwn ? 1 : 0);
      EXPECT_TRUE(torch::allclose(out[r], caser_by_loops(m, windows[r], row), 1e-12, 1e-12)) << "row " << r;
    }
  }
}

TEST(Caser, NarrowInputsGiveTheValuesAndGradientsOfTheirFullWindows) {
  // A piece narrower than L skips the windows wholly in the padding: tap by tap for widths 1-3
  // (L = 6) and 1-4 (L = 8), by convolutions over the last w + h columns for the wider ones. The
  // same rows padded to L take the convolutions over every window. Both must agree, and match
  // the loops.
  for (int64_t L : {6, 8}) {
    torch::manual_seed(5);
    Caser m(caser_test_options().max_len(L));
    m.eval();
    m.to(torch::kDouble);
    const torch::Tensor users = torch::tensor({0, 2, 1}, torch::kLong);
    for (int64_t w = 1; w < L; ++w) {
      torch::Tensor narrow = torch::randint(1, 12, {3, w}, torch::kLong);
      narrow[2][0] = 0;  // a row shorter than the piece
      const torch::Tensor full = torch::cat({torch::zeros({3, L - w}, torch::kLong), narrow}, 1);
      const torch::Tensor r = torch::randn({3, 5}, torch::kDouble);
      auto grads_of = [&](const torch::Tensor& seqs) {
        m.zero_grad();
        torch::Tensor out = m.encode_last_users(seqs, 0, users);
        ((out * r).sum()).backward();
        std::vector<torch::Tensor> g = {out.detach()};
        for (const auto& p : m.parameters()) g.push_back(p.grad().clone());
        return g;
      };
      const std::vector<torch::Tensor> a = grads_of(narrow), b = grads_of(full);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-12, 1e-12)) << "L " << L << ", width " << w << ", tensor " << i;
      torch::NoGradGuard g;
      for (int64_t row = 0; row < 3; ++row) {
        std::vector<int64_t> window(full[row].data_ptr<int64_t>(), full[row].data_ptr<int64_t>() + L);
        EXPECT_TRUE(torch::allclose(a[0][row], caser_by_loops(m, window, users[row].item<int64_t>()), 1e-12, 1e-12))
            << "L " << L << ", width " << w;
      }
    }
  }
}

TEST(Caser, GradientsMatchFiniteDifferences) {
  torch::manual_seed(4);
  Caser m(caser_test_options());
  m.eval();
  m.to(torch::kDouble);
  torch::Tensor seqs = torch::tensor({{0, 0, 3, 4, 5, 6}, {1, 2, 3, 9, 8, 7}}, torch::kLong), users = torch::tensor({1, 2}, torch::kLong);
  torch::Tensor r = torch::randn({2, 5}, torch::kDouble);
  auto objective = [&] { return (m.encode_last_users(seqs, 0, users) * r).sum() + m.penalty(); };
  m.zero_grad();
  objective().backward();
  for (const std::string name : {"conv_h.0.weight", "conv_h.5.weight", "conv_h.2.bias", "conv_v.weight", "fc1.weight",
                                 "user_embeddings.weight", "item_embeddings.weight"}) {
    expect_finite_difference_gradient(m.named_parameters()[name], objective, name);
  }
}

TEST(Caser, PenaltyIsRegTimesTheUnsquaredNormOfEveryWeight) {
  Caser m(caser_test_options());
  double norms = 0;
  int64_t weights = 0;
  for (const auto& p : m.named_parameters()) {
    if (p.key().size() < 6 || p.key().compare(p.key().size() - 6, 6, "weight") != 0) continue;
    norms += std::sqrt((p.value() * p.value()).sum().item<double>());
    ++weights;
  }
  EXPECT_EQ(weights, 5 + 6);  // user, item, vertical, fc1, fc2; a filter of each height 1..6
  // float32 sums against double ones: a relative 1e-6 (a wrong formula is off by far more)
  EXPECT_NEAR(m.penalty().item<double>(), 1e-4 * norms, 1e-6 * 1e-4 * norms);
  // The penalty reaches the padding row the inputs never train, as the reference's does.
  m.penalty().backward();
  EXPECT_GT(m.item_embeddings->weight.grad()[0].abs().sum().item<double>(), 0);
  EXPECT_FALSE(Caser(caser_test_options().reg(0)).penalty().defined());
}

TEST(Caser, NamesWhatItNeedsWithoutUsers) {
  Caser m(caser_test_options());
  try {
    m.encode_last(torch::ones({1, 6}, torch::kLong), 0);
    FAIL() << "encoded without users";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "caser: its user embedding needs the users of its inputs (Model::encode_last_users)");
  }
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
