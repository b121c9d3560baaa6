// S3Rec's pre-training: its inputs against the reference's sampling rules over many draws,
// its four losses against explicit loops, the bidirectional encoder against a non-causal
// SASRec, the authors' checkpoint names, the attribute file's errors, and a pre-training run
// whose weights start a SASRec run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>

#include "baselines/s3rec/s3rec.h"
#include "seqrec/sampler.h"
#include "finite_difference.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

namespace {
const Dataset& tiny() {
  static Dataset d = make_markov_dataset(30, 10, 5, 14, 3);
  return d;
}
/// Items 1..10 with two or three of attributes 1..6 each (item 10 has none).
std::string attributes_json() {
  std::string j = "{";
  for (int i = 1; i <= 9; ++i)
    j += (i > 1 ? ", " : "") + ("\"" + std::to_string(i) + "\": [" + std::to_string(1 + i % 6) + ", " +
                                 std::to_string(1 + (i * 2) % 6) + (i % 3 ? ", 6" : "") + "]");
  return j + "}";
}
Config s3rec_config(const std::string& attributes, std::initializer_list<std::pair<std::string, std::string>> more = {}) {
  Config c = seqrec::testing::default_config({{"model", "s3rec"}, {"trainer", "s3rec-pretrain"}, {"sasrec.hidden-size", "8"},
                                              {"sasrec.layers", "2"}, {"max-len", "12"}, {"sasrec.dropout", "0"},
                                              {"sasrec.attn-dropout", "0"}, {"examples", "window-prefixes"},
                                              {"s3rec.attributes", attributes}});
  for (const auto& [k, v] : more) c.set(k, v);
  return c;
}
/// An S3Rec model on tiny() with its pre-training strategy set up.
struct Pretraining {
  explicit Pretraining(std::initializer_list<std::pair<std::string, std::string>> more = {})
      : attributes(seqrec::testing::write_file(dir.file("attr.json"), attributes_json())),
        config(s3rec_config(attributes, more)), sampler(tiny()), rng(1) {
    torch::manual_seed(1);
    model = models().create("model", "s3rec", ModelContext{config, tiny()});
    loss = losses().create("loss", "bce", config);
    strategy = trainers().create("trainer", "s3rec-pretrain", config);
    ctx = std::make_unique<TrainContext>(TrainContext{*model, *loss, sampler, config, rng, torch::kCPU, &tiny()});
    strategy->setup(*ctx);
  }
  S3Rec& s3rec() { return dynamic_cast<S3Rec&>(*model); }
  TempDir dir;
  std::string attributes;
  Config config;
  UniformSampler sampler;
  std::mt19937_64 rng;
  std::shared_ptr<Model> model;
  std::unique_ptr<Loss> loss;
  std::unique_ptr<Trainer> strategy;
  std::unique_ptr<TrainContext> ctx;
};
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double bce(double p, double y) { return -(y * std::max(std::log(p), -100.0) + (1 - y) * std::max(std::log(1 - p), -100.0)); }
}  // namespace

TEST(S3Rec, InputsFollowTheReferenceSamplingRules) {
  const std::vector<int32_t> source = {21, 22, 23, 24, 25, 26, 27, 28};
  const int64_t item_size = 30, mask = 29;
  std::vector<std::vector<int64_t>> samples = {{3}, {4, 5}, {1, 2, 3, 4, 5, 6, 7}};
  std::mt19937_64 rng(5);
  int64_t hidden = 0, chances = 0, mask_negatives = 0;
  std::set<int64_t> lengths;
  for (int draw = 0; draw < 3000; ++draw) {
    const S3RecInputs x = draw_s3rec_inputs(samples, source, item_size, 0.2, rng);
    ASSERT_EQ(x.masked_items.sizes(), torch::IntArrayRef({3, 7}));
    for (int64_t r = 0; r < 3; ++r) {
      const auto& s = samples[r];
      const int64_t n = static_cast<int64_t>(s.size()), c0 = 7 - n;
      const std::set<int64_t> in(s.begin(), s.end());
      for (const torch::Tensor* t : {&x.masked_items, &x.pos_items, &x.neg_items, &x.masked_segment, &x.pos_segment,
                                     &x.neg_segment})
        for (int64_t c = 0; c < c0; ++c) ASSERT_EQ((*t)[r][c].item<int64_t>(), 0) << "left padding";
      for (int64_t t = 0; t < n; ++t) {
        const int64_t m = x.masked_items[r][c0 + t].item<int64_t>(), neg = x.neg_items[r][c0 + t].item<int64_t>();
        ASSERT_EQ(x.pos_items[r][c0 + t].item<int64_t>(), s[t]);
        if (t == n - 1) ASSERT_EQ(m, mask) << "the last position is always masked";
        if (t < n - 1) ++chances, hidden += m == mask;
        if (m == mask) {
          ASSERT_TRUE(neg >= 1 && neg < item_size && !in.count(neg)) << neg;
          mask_negatives += neg == mask;
        } else {
          ASSERT_EQ(m, s[t]);
          ASSERT_EQ(neg, s[t]);
        }
      }
      std::vector<int64_t> mseg, pseg, nseg;
      for (int64_t t = 0; t < n; ++t) {
        mseg.push_back(x.masked_segment[r][c0 + t].item<int64_t>());
        pseg.push_back(x.pos_segment[r][c0 + t].item<int64_t>());
        nseg.push_back(x.neg_segment[r][c0 + t].item<int64_t>());
      }
      if (n == 1) {
        ASSERT_EQ(mseg, s);
        ASSERT_EQ(pseg, s);
        ASSERT_EQ(nseg, s);
        continue;
      }
      // One run [st, st + k), 1 <= k <= n / 2: masked in one, kept alone in the other.
      int64_t st = 0;
      while (pseg[st] == mask) ++st;
      int64_t k = 0;
      while (st + k < n && pseg[st + k] != mask) ++k;
      ASSERT_TRUE(k >= 1 && k <= n / 2) << k;
      lengths.insert(k);
      for (int64_t t = 0; t < n; ++t) {
        const bool seg = t >= st && t < st + k;
        ASSERT_EQ(pseg[t], seg ? s[t] : mask);
        ASSERT_EQ(mseg[t], seg ? mask : s[t]);
        if (!seg) ASSERT_EQ(nseg[t], mask);
      }
      const auto from = std::find(source.begin(), source.end(), nseg[st]);
      ASSERT_NE(from, source.end());
      for (int64_t t = 0; t < k; ++t) ASSERT_EQ(nseg[st + t], *(from + t)) << "a run of the segment source";
    }
  }
  EXPECT_NEAR(static_cast<double>(hidden) / chances, 0.2, 0.01);
  EXPECT_EQ(lengths, (std::set<int64_t>{1, 2, 3}));
  EXPECT_GT(mask_negatives, 0) << "the mask token is a possible negative, as randint(1, item_size - 1) draws it";
}

TEST(S3Rec, SamplesAreEachRowsInputThenItsTarget) {
  Pretraining s;
  std::mt19937_64 brng(2);
  const TrainBatcher batcher(tiny(), 12, 16, Batching::kSplit, Examples::kWindowPrefixes);
  std::multiset<std::vector<int64_t>> want, got;
  for (const auto& x : batcher.examples()) {
    const int32_t* seq = tiny().begin(x.user);
    want.insert(std::vector<int64_t>(seq + x.begin, seq + x.end + 1));
  }
  for (const Batch& b : batcher.epoch(brng))
    for (const Batch* piece : b.pieces())
      for (auto& v : S3RecPretrainer::samples_of(*piece)) got.insert(v);
  EXPECT_EQ(got, want);
  // Every prefix of each user's last 12 training items, from length 1.
  int64_t expected = 0;
  for (int64_t u = 0; u < tiny().num_users(); ++u) expected += std::min<int64_t>(12, train_length(tiny(), u));
  EXPECT_EQ(static_cast<int64_t>(got.size()), expected);
}

TEST(S3Rec, NegativeSegmentsComeFromWholeSequencesOrTheTrainingItems) {
  for (const std::string segments : {"all", "train"}) {
    Pretraining s({{"s3rec.segments", segments}});
    std::vector<int32_t> want;
    for (int64_t u = 0; u < tiny().num_users(); ++u)
      want.insert(want.end(), tiny().begin(u), tiny().begin(u) + (segments == "all" ? tiny().length(u) : train_length(tiny(), u)));
    EXPECT_EQ(dynamic_cast<S3RecPretrainer&>(*s.strategy).segment_source(), want) << segments;
  }
}

TEST(S3Rec, BidirectionalEncoderIsANonCausalSASRec) {
  Pretraining s;
  S3Rec& m = s.s3rec();
  m.eval();
  const SASRecOptions o = SASRecOptions(tiny().item_size()).hidden_size(8).layers(2).max_len(12).dropout(0).attn_dropout(0);
  SASRec plain(SASRecOptions(o).causal(false)), causal(o);
  for (SASRec* to : {&plain, &causal}) {
    torch::NoGradGuard g;
    auto params = to->named_parameters();
    for (const auto& p : m.named_parameters())
      if (params.contains(p.key())) params[p.key()].copy_(p.value());
  }
  const torch::Tensor seqs = torch::tensor({0, 0, 3, 4, 11, 5, 6, 1, 11, 2, 7, 8, 0, 0, 0, 0, 0, 0, 0, 9, 11, 1, 2, 3},
                                           torch::kLong).view({2, 12});
  torch::NoGradGuard g;
  const torch::Tensor h = m.encode_bidirectional(seqs, 0);
  EXPECT_TRUE(torch::allclose(h, plain.encode(seqs, 0), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(m.encode_bidirectional(seqs, 0, true), h.select(1, 11), 1e-5, 1e-6));
  // Position 5 sees position 6, which a causal encoder does not.
  torch::Tensor changed = seqs.clone();
  changed[0][6] = 9;
  EXPECT_FALSE(torch::allclose(m.encode_bidirectional(changed, 0)[0][5], h[0][5], 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(m.encode(changed, 0)[0][5], m.encode(seqs, 0)[0][5], 1e-5, 1e-6));
  // encode() is SASRec's, causal: what fine-tuning and the evaluator run.
  EXPECT_TRUE(torch::allclose(m.encode(seqs, 0), causal.encode(seqs, 0), 1e-5, 1e-6));
  // Cut to its 5 real columns, the second row encodes as it does 12 wide.
  const torch::Tensor cut = m.encode_bidirectional(seqs.slice(1, 7).slice(0, 1, 2), 7);
  EXPECT_TRUE(torch::allclose(cut[0], h[1].slice(0, 7), 1e-5, 1e-6));
}

TEST(S3Rec, LossesAreTheReferenceSumsOverTheBatch) {
  Pretraining s;
  S3Rec& m = s.s3rec();
  m.eval();
  std::mt19937_64 rng(3);
  const std::vector<int32_t> source(tiny().items.begin(), tiny().items.end());
  const S3RecInputs x = draw_s3rec_inputs({{3}, {4, 5, 6}, {1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 1, 2}}, source,
                                          tiny().item_size(), 0.3, rng);
  const int64_t offset = 12 - x.masked_items.size(1);
  torch::NoGradGuard g;
  const S3RecLosses l = s3rec_losses(m, x, offset);
  // The slow path, in double: each position and attribute by hand.
  const torch::Tensor h = m.encode_bidirectional(x.masked_items, offset).to(torch::kDouble);
  const torch::Tensor attrs = m.attribute_embeddings->weight.to(torch::kDouble), items = m.item_embeddings->weight.to(torch::kDouble);
  const torch::Tensor table = m.item_attributes();
  auto linear = [](torch::nn::Linear& f, const torch::Tensor& v) {
    return f->weight.to(torch::kDouble).matmul(v) + f->bias.to(torch::kDouble);
  };
  double aap = 0, map = 0, mip = 0, sp = 0;
  int64_t masked_positions = 0;
  for (int64_t r = 0; r < x.masked_items.size(0); ++r)
    for (int64_t c = 0; c < x.masked_items.size(1); ++c) {
      const int64_t in = x.masked_items[r][c].item<int64_t>(), item = x.pos_items[r][c].item<int64_t>();
      if (in == 0) continue;
      const bool hidden = in == m.mask_id();
      masked_positions += hidden;
      const torch::Tensor q = linear(hidden ? m.map_norm : m.aap_norm, h[r][c]);
      double sum = 0;
      for (int64_t a = 0; a < attrs.size(0); ++a)
        sum += bce(sigmoid(attrs[a].dot(q).item<double>()), table[item][a].item<double>());
      (hidden ? map : aap) += sum;
      if (!hidden) continue;
      const torch::Tensor p = linear(m.mip_norm, h[r][c]);
      const int64_t neg = x.neg_items[r][c].item<int64_t>();
      mip += bce(sigmoid(sigmoid(p.dot(items[item]).item<double>()) - sigmoid(p.dot(items[neg]).item<double>())), 1);
    }
  auto last = [&](const torch::Tensor& seqs) { return m.encode_bidirectional(seqs, offset).to(torch::kDouble).select(1, -1); };
  const torch::Tensor ctx = last(x.masked_segment), pos = last(x.pos_segment), neg = last(x.neg_segment);
  for (int64_t r = 0; r < ctx.size(0); ++r) {
    const torch::Tensor q = linear(m.sp_norm, ctx[r]);
    sp += bce(sigmoid(sigmoid(q.dot(pos[r]).item<double>()) - sigmoid(q.dot(neg[r]).item<double>())), 1);
  }
  EXPECT_GE(masked_positions, 4);
  EXPECT_NEAR(l.aap.item<double>(), aap, 1e-4 * aap);
  EXPECT_NEAR(l.map.item<double>(), map, 1e-4 * map);
  EXPECT_NEAR(l.mip.item<double>(), mip, 1e-4 * mip);
  EXPECT_NEAR(l.sp.item<double>(), sp, 1e-4 * sp);
}

TEST(S3Rec, EachLossesGradientMatchesFiniteDifferences) {
  Pretraining s;
  S3Rec& m = s.s3rec();
  m.eval();
  m.to(torch::kDouble);
  std::mt19937_64 rng(3);
  const std::vector<int32_t> source(tiny().items.begin(), tiny().items.end());
  const S3RecInputs x = draw_s3rec_inputs({{3}, {4, 5, 6}, {1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 1, 2}}, source,
                                          tiny().item_size(), 0.3, rng);
  const int64_t offset = 12 - x.masked_items.size(1);
  using Part = torch::Tensor S3RecLosses::*;
  const std::vector<std::pair<std::string, Part>> parts = {
      {"aap", &S3RecLosses::aap}, {"mip", &S3RecLosses::mip}, {"map", &S3RecLosses::map}, {"sp", &S3RecLosses::sp}};
  for (const auto& [name, part] : parts) {
    auto objective = [&, part = part] { return s3rec_losses(m, x, offset).*part; };
    m.zero_grad();
    objective().backward();
    const int64_t reached = seqrec::testing::expect_parameter_gradients(m, objective, name, /*reached_only=*/true);
    EXPECT_GE(reached, 10) << name;  // the encoder's layers and the objective's own
  }
}

TEST(S3Rec, AStepIsTheWeightedSumAndPretrainingLowersIt) {
  Pretraining s({{"s3rec.aap-weight", "0.3"}, {"s3rec.sp-weight", "0.7"}, {"lr", "0.02"}});
  auto& pre = dynamic_cast<S3RecPretrainer&>(*s.strategy);
  std::mt19937_64 brng(2);
  const Batch batch = TrainBatcher(tiny(), 12, 32, Batching::kSplit, Examples::kWindowPrefixes).epoch(brng)[0];
  const std::mt19937_64 start = s.rng;
  const double first = pre.step(batch).item<double>();
  const S3RecLosses& l = pre.last_losses();
  EXPECT_NEAR(first, 0.3 * l.aap.item<double>() + l.mip.item<double>() + l.map.item<double>() + 0.7 * l.sp.item<double>(),
              1e-4 * first);
  double last = first;
  for (int i = 0; i < 30; ++i) {
    s.rng = start;  // the same masks and negatives every step
    last = pre.step(batch).item<double>();
  }
  EXPECT_LT(last, 0.8 * first);
}

TEST(S3Rec, StateDictHasTheAuthorsNames) {
  Pretraining s;
  std::set<std::string> got, want = {"item_embeddings.weight", "attribute_embeddings.weight", "position_embeddings.weight",
                                     "LayerNorm.weight", "LayerNorm.bias"};
  for (const char* head : {"aap_norm", "mip_norm", "map_norm", "sp_norm"})
    for (const char* p : {".weight", ".bias"}) want.insert(std::string(head) + p);
  for (int i = 0; i < 2; ++i)
    for (const std::string part : {"attention.query", "attention.key", "attention.value", "attention.dense",
                                   "attention.LayerNorm", "intermediate.dense_1", "intermediate.dense_2",
                                   "intermediate.LayerNorm"})
      for (const char* p : {".weight", ".bias"})
        want.insert("item_encoder.layer." + std::to_string(i) + "." + part + p);
  for (const auto& p : s.model->named_parameters()) got.insert(p.key());
  EXPECT_EQ(got, want);
  // Attribute ids run 1..6: seven rows, the first never a label.
  EXPECT_EQ(s.s3rec().attribute_embeddings->weight.size(0), 7);
  EXPECT_EQ(s.s3rec().item_attributes().select(1, 0).sum().item<double>(), 0);
}

TEST(S3Rec, AttributeFilesAndMissingPiecesAreOneLine) {
  TempDir dir;
  const Dataset& d = tiny();
  const torch::Tensor t = read_item_attributes(seqrec::testing::write_file(dir.file("a.json"), "{\"2\": [3, 1], \"99\": [4]}"), d);
  EXPECT_EQ(t.sizes(), torch::IntArrayRef({d.item_size(), 5}));  // attribute 4 of an unknown item still sizes it
  EXPECT_EQ(t.sum().item<double>(), 2);
  EXPECT_EQ(t[2][3].item<double>(), 1);
  EXPECT_EQ(t[2][1].item<double>(), 1);
  auto error_of = [&](const std::string& text) {
    const std::string f = seqrec::testing::write_file(dir.file("bad.json"), text);
    try {
      read_item_attributes(f, d);
    } catch (const Error& e) {
      return std::string(e.what()).substr(f.size());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("[1, 2]"), ": expected an object of item id -> list of attribute ids");
  EXPECT_EQ(error_of("{\"1\": 4}"), ": item 1: expected a list of attribute ids");
  EXPECT_EQ(error_of("{\"1\": [-2]}"), ": item 1: attribute ids must be integers >= 0");
  EXPECT_EQ(error_of("{\"77\": [1]}"), ": no item of " + d.name + " has attributes there");
  EXPECT_EQ(error_of("{\"1\": [1]").rfind(": not JSON: ", 0), 0u);
  EXPECT_THROW(read_item_attributes(dir.file("missing.json"), d), Error);
  Config c = s3rec_config("");
  try {
    models().create("model", "s3rec", ModelContext{c, d});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--model s3rec needs --s3rec.attributes (an item2attributes JSON: item id -> attribute ids)");
  }
  Config sasrec = seqrec::testing::default_config({{"sasrec.hidden-size", "8"}, {"max-len", "12"}});
  auto model = models().create("model", "sasrec", ModelContext{sasrec, d});
  auto loss = losses().create("loss", "bce", sasrec);
  auto strategy = trainers().create("trainer", "s3rec-pretrain", sasrec);
  UniformSampler sampler(d);
  std::mt19937_64 rng(1);
  TrainContext ctx{*model, *loss, sampler, sasrec, rng, torch::kCPU, &d};
  try {
    strategy->setup(ctx);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--trainer s3rec-pretrain trains S3Rec's heads: use --model s3rec (not sasrec)");
  }
}

TEST(S3Rec, TheEpochLineAveragesEachLossPerSampleAndAResumeKeepsIt) {
  Pretraining s;
  auto& pre = dynamic_cast<S3RecPretrainer&>(*s.strategy);
  std::mt19937_64 brng(2);
  const std::vector<Batch> batches = TrainBatcher(tiny(), 12, 16, Batching::kSplit, Examples::kWindowPrefixes).epoch(brng);
  pre.begin_epoch(1);
  EXPECT_EQ(pre.epoch_note(), "");
  double sums[4] = {0, 0, 0, 0};
  int64_t samples = 0;
  for (size_t b = 0; b < 2; ++b) {
    pre.step(batches[b]);
    const S3RecLosses& l = pre.last_losses();
    const torch::Tensor* parts[] = {&l.aap, &l.mip, &l.map, &l.sp};
    for (int i = 0; i < 4; ++i) sums[i] += parts[i]->item<double>();
    for (const Batch* piece : batches[b].pieces()) samples += piece->inputs.size(0);
  }
  std::ostringstream want;
  want << std::fixed << std::setprecision(4) << "per sample: aap " << sums[0] / samples << " mip " << sums[1] / samples
       << " map " << sums[2] / samples << " sp " << sums[3] / samples;
  EXPECT_EQ(pre.epoch_note(), want.str());
  torch::serialize::OutputArchive out;
  pre.save_state(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  Pretraining again;
  auto& resumed = dynamic_cast<S3RecPretrainer&>(*again.strategy);
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read);
  resumed.load_state(in);
  EXPECT_EQ(resumed.epoch_note(), want.str());
  resumed.begin_epoch(2);
  EXPECT_EQ(resumed.epoch_note(), "");
}
