// SASRec: causal mask, padding invariance, padded = packed = bucketed, reference init; the
// encoders' dropout.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "baselines/losses/softmax_ce.h"
#include "baselines/sasrec/sasrec.h"
#include "seqrec/batch.h"
#include "seqrec/dropout.h"
#include "seqrec/trainer.h"
#include "test_util.h"

using namespace seqrec;

namespace {
std::shared_ptr<SASRec> small_model(int64_t items = 30, int64_t max_len = 12) {
  torch::manual_seed(3);
  auto m = std::make_shared<SASRec>(SASRecOptions(items).hidden_size(16).heads(2).layers(2).max_len(max_len));
  m->eval();
  return m;
}
}  // namespace

TEST(SASRec, ParameterNamesMatchTheReference) {
  auto m = small_model();
  auto params = m->named_parameters();
  for (const char* name : {"item_embeddings.weight", "position_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias",
                           "item_encoder.layer.0.attention.query.weight", "item_encoder.layer.1.attention.dense.bias",
                           "item_encoder.layer.0.attention.LayerNorm.weight",
                           "item_encoder.layer.1.intermediate.dense_1.weight",
                           "item_encoder.layer.1.intermediate.dense_2.bias",
                           "item_encoder.layer.0.intermediate.LayerNorm.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  EXPECT_EQ(params.size(), 4u + 2 * 16u);
}

TEST(SASRec, UntiedOutputTableIsItsOwnParameter) {
  // tied: scores use the input table itself; untied: a separate [V, d] table, initialised
  // like the others, that a softmax loss trains while the input table learns only through
  // the encoder (its rows absent from the inputs get no gradient).
  torch::manual_seed(0);
  SASRec tied{SASRecOptions(40).hidden_size(8).max_len(10)};
  SASRec untied{SASRecOptions(40).hidden_size(8).max_len(10).tied_output(false)};
  EXPECT_TRUE(tied.item_table().is_same(tied.item_embeddings->weight));
  EXPECT_FALSE(untied.item_table().is_same(untied.item_embeddings->weight));
  EXPECT_EQ(untied.named_parameters().size(), tied.named_parameters().size() + 1);
  EXPECT_TRUE(untied.named_parameters().contains("output_embeddings.weight"));
  EXPECT_EQ(untied.kind(), "sasrec-untied");
  EXPECT_NEAR(untied.item_table().std().item<double>(), 0.02, 0.005);
  untied.eval();
  torch::Tensor seqs = torch::tensor({{0, 0, 3, 5}}, torch::kLong);
  torch::Tensor h = untied.encode(seqs, 6).select(1, 3);
  torch::nn::functional::cross_entropy(torch::mm(h, untied.item_table().t()), torch::tensor({7}, torch::kLong)).backward();
  EXPECT_GT(untied.output_embeddings->weight.grad()[7].abs().sum().item<double>(), 0.0);
  torch::Tensor in_grad = untied.item_embeddings->weight.grad();
  EXPECT_GT(in_grad[3].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(in_grad[7].abs().sum().item<double>(), 0.0) << "item 7 is only an output here";
}

TEST(SASRec, InitialisationFollowsTheReference) {
  torch::manual_seed(0);
  SASRec m{SASRecOptions(5000)};
  torch::Tensor w = m.item_embeddings->weight;
  EXPECT_NEAR(w.std().item<double>(), 0.02, 0.001);
  EXPECT_GT(w[0].abs().sum().item<double>(), 0.0) << "the padding row is re-drawn like the others";
  EXPECT_EQ(m.item_encoder->layer[0]->as<LayerImpl>()->attention->query->bias.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(m.LayerNorm->weight.min().item<double>(), 1.0);
}

TEST(SASRec, ItemInitStdSetsBothItemTablesOnly) {
  // gSASRec's code leaves its item table at PyTorch's N(0, 1); the rest keeps init_std.
  torch::manual_seed(0);
  SASRec m{SASRecOptions(5000).item_init_std(1.0).tied_output(false)};
  EXPECT_NEAR(m.item_embeddings->weight.std().item<double>(), 1.0, 0.02);
  EXPECT_NEAR(m.output_embeddings->weight.std().item<double>(), 1.0, 0.02);
  EXPECT_NEAR(m.position_embeddings->weight.std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(m.item_encoder->layer[0]->as<LayerImpl>()->attention->query->weight.std().item<double>(), 0.02, 0.002);
}

TEST(SASRec, CausalMaskHidesTheFuture) {
  auto m = small_model();
  torch::NoGradGuard g;
  torch::Tensor seqs = torch::tensor({{0, 0, 4, 7, 9, 2, 5, 1, 3, 8, 6, 11}}, torch::kLong);
  torch::Tensor out = m->encode(seqs, 0);
  for (int64_t t = 2; t < 11; ++t) {
    torch::Tensor changed = seqs.clone();
    changed[0][t + 1] = 20;  // change a later item
    torch::Tensor out2 = m->encode(changed, 0);
    // Real positions 2..t are untouched (padded query rows attend uniformly and are ignored).
    EXPECT_TRUE(torch::equal(out2.slice(1, 2, t + 1), out.slice(1, 2, t + 1))) << "position " << t;
    EXPECT_FALSE(torch::allclose(out2.slice(1, t + 1, t + 2), out.slice(1, t + 1, t + 2)));
  }
}

TEST(SASRec, CutWidthEqualsFullWidth) {
  // The same sequences left-padded to max_len, and cut to their longest, with position ids
  // offset: identical outputs at every real position.
  auto m = small_model();
  torch::NoGradGuard g;
  torch::Tensor full = torch::tensor({{0, 0, 0, 0, 0, 0, 0, 3, 4, 5, 6, 7}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 8, 2}}, torch::kLong);
  torch::Tensor cut = full.slice(1, 7, 12);
  torch::Tensor a = m->encode(full, 0).slice(1, 7, 12), b = m->encode(cut, 7);
  torch::Tensor real = (cut > 0).unsqueeze(-1).expand_as(a);
  EXPECT_TRUE(torch::allclose(a.masked_select(real), b.masked_select(real), 1e-5, 1e-6));
}

TEST(SASRec, ARowWithoutItemsEncodesAsMaxLenWideAtAnyWidth) {
  // An empty prefix input's last column attends to every (padding) column, so its output
  // depends on the width: encode_last gives it the max_len-wide one (the reference's), in a
  // piece of any width, beside rows with items, which keep their own.
  auto m = small_model();
  {  // Gradients reach the empty rows' full-width computation: positions 0-8 lie outside the piece.
    torch::Tensor items = torch::tensor({{0, 3, 4}, {0, 0, 0}}, torch::kLong);
    // A random projection: the plain sum of a LayerNorm's output is constant.
    (m->encode_last(items, 9) * torch::randn({2, 16})).sum().backward();
    EXPECT_GT(m->position_embeddings->weight.grad().slice(0, 0, 9).abs().sum().item<double>(), 0);
  }
  torch::NoGradGuard g;
  torch::Tensor want_empty = m->encode(torch::zeros({1, 12}, torch::kLong), 0).select(1, 11);
  torch::Tensor items = torch::tensor({{0, 3, 4}, {0, 0, 0}, {5, 6, 7}, {0, 0, 0}}, torch::kLong);
  torch::Tensor want_items = m->encode(torch::cat({torch::zeros({4, 9}, torch::kLong), items}, 1), 0).select(1, 11);
  EXPECT_FALSE(torch::allclose(m->encode(torch::zeros({1, 3}, torch::kLong), 9).select(1, 2), want_empty, 1e-3, 1e-3))
      << "the width must matter for an empty row, or this test tells nothing";
  torch::Tensor got = m->encode_last(items, 9);
  for (int64_t r : {1, 3}) EXPECT_TRUE(torch::allclose(got[r], want_empty[0], 1e-5, 1e-6)) << r;
  for (int64_t r : {0, 2}) EXPECT_TRUE(torch::allclose(got[r], want_items[r], 1e-5, 1e-6)) << r;
  torch::Tensor one_column = m->encode_last(torch::zeros({2, 1}, torch::kLong), 11);
  EXPECT_TRUE(torch::allclose(one_column, want_empty.expand({2, -1}), 1e-5, 1e-6));
}

TEST(SASRec, EncodeLastEqualsLastColumnOfEncode) {
  auto m = small_model();
  torch::NoGradGuard g;
  torch::Tensor seqs = torch::tensor({{0, 0, 4, 7, 9, 2}, {1, 2, 3, 4, 5, 6}, {0, 0, 0, 0, 0, 8}}, torch::kLong);
  torch::Tensor full = m->encode(seqs, 6).select(1, 5);
  EXPECT_TRUE(torch::allclose(m->encode_last(seqs, 6), full, 1e-5, 1e-6));
}

TEST(SASRec, PaddedPackedAndBucketedBatchesGiveTheSameLoss) {
  // The sum of per-position CE over an epoch does not depend on the batch layout.
  Dataset d = make_markov_dataset(40, 25, 4, 20, 11);
  auto m = small_model(d.item_size(), 12);
  torch::NoGradGuard g;
  auto epoch_sum = [&](Batching b, int64_t batch_size) {
    TrainBatcher batcher(d, 12, batch_size, b);
    std::mt19937_64 rng(1);
    double total = 0;
    int64_t positions = 0, users = 0;
    for (const Batch& batch : batcher.epoch(rng)) {
      if (b == Batching::kPadded) EXPECT_EQ(batch.width(), 12);
      PackedPositions p = encode_packed(*m, batch, Positions::kAll, torch::kCPU);
      torch::Tensor logits = torch::mm(p.hidden, m->item_table().t());
      total += torch::nn::functional::cross_entropy(logits, p.targets,
                                                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                   .item<double>();
      positions += p.targets.size(0);
      for (const Batch* piece : batch.pieces()) users += piece->inputs.size(0);
    }
    EXPECT_EQ(positions, batcher.num_positions());
    EXPECT_EQ(users, batcher.num_examples());
    return total;
  };
  const double padded = epoch_sum(Batching::kPadded, 8);
  EXPECT_NEAR(epoch_sum(Batching::kPacked, 8), padded, 1e-6 * padded);
  EXPECT_NEAR(epoch_sum(Batching::kBucketed, 8), padded, 1e-6 * padded);
  EXPECT_NEAR(epoch_sum(Batching::kBucketed, 3), padded, 1e-6 * padded);
  EXPECT_NEAR(epoch_sum(Batching::kSplit, 8), padded, 1e-6 * padded);
}

TEST(TrainExamples, PrefixRowsPredictOneTargetFromTheItemsBeforeIt) {
  Dataset d = make_markov_dataset(40, 25, 4, 20, 11);
  const int64_t max_len = 6;
  using Row = std::tuple<int64_t, std::vector<int64_t>, int64_t>;  // user, input, target
  for (Examples kind : {Examples::kPrefixes, Examples::kWindowPrefixes}) {
    std::vector<Row> expected;
    for (int64_t u = 0; u < d.num_users(); ++u) {
      const int32_t* s = d.begin(u);
      const int64_t t = train_length(d, u), window = t - std::min(max_len, t);
      for (int64_t e = kind == Examples::kPrefixes ? 1 : window; e < t; ++e) {
        const int64_t from = kind == Examples::kPrefixes ? std::max<int64_t>(0, e - max_len) : window;
        expected.emplace_back(u, std::vector<int64_t>(s + from, s + e), s[e]);
      }
    }
    std::sort(expected.begin(), expected.end());
    for (Batching b : {Batching::kPadded, Batching::kPacked, Batching::kSplit, Batching::kBucketed}) {
      TrainBatcher batcher(d, max_len, 7, b, kind);
      EXPECT_EQ(batcher.num_examples(), static_cast<int64_t>(expected.size()));
      EXPECT_EQ(batcher.num_positions(), batcher.num_examples());
      std::mt19937_64 rng(3);
      std::vector<Row> got;
      for (const Batch& batch : batcher.epoch(rng))
        for (const Batch* piece : batch.pieces()) {
          const int64_t w = piece->width();
          EXPECT_EQ(piece->position_offset, max_len - w);
          if (b == Batching::kPadded) EXPECT_EQ(w, max_len);
          for (int64_t r = 0; r < piece->inputs.size(0); ++r) {
            torch::Tensor in = piece->inputs[r], tg = piece->targets[r];
            EXPECT_EQ((tg > 0).sum().item<int64_t>(), 1);  // the last column's target only
            std::vector<int64_t> items;
            for (int64_t c = 0; c < w; ++c)
              if (in[c].item<int64_t>() > 0) items.push_back(in[c].item<int64_t>());
            EXPECT_EQ((in.slice(0, w - static_cast<int64_t>(items.size())) > 0).all().item<bool>(), true);  // left-padded
            got.emplace_back(piece->users[r], items, tg[w - 1].item<int64_t>());
          }
        }
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, expected) << static_cast<int>(kind) << " " << static_cast<int>(b);
    }
  }
  // The trainer encodes such a batch at its last column only: the same representations and
  // targets as encoding every column and packing the targeted ones.
  auto m = small_model(d.item_size(), max_len);
  torch::NoGradGuard g;
  TrainBatcher batcher(d, max_len, 9, Batching::kSplit, Examples::kPrefixes);
  std::mt19937_64 rng(4);
  for (const Batch& batch : batcher.epoch(rng)) {
    PackedPositions fast = encode_packed(*m, batch, Positions::kAll, torch::kCPU);
    std::vector<torch::Tensor> hidden, targets;
    for (const Batch* piece : batch.pieces()) {
      EXPECT_TRUE(piece->last_only);
      PackedPositions p = pack_positions(m->encode(piece->inputs, piece->position_offset), *piece, Positions::kAll);
      hidden.push_back(p.hidden);
      targets.push_back(p.targets);
    }
    EXPECT_TRUE(torch::allclose(fast.hidden, torch::cat(hidden), 1e-5, 1e-6));
    EXPECT_TRUE(torch::equal(fast.targets, torch::cat(targets)));
  }
}

TEST(Split, SplitBatchesKeepRandomMembership) {
  // Same rng: split batches hold exactly the users of packed batches, in sorted parts.
  Dataset d = make_markov_dataset(100, 30, 4, 40, 2);
  TrainBatcher packed(d, 50, 32, Batching::kPacked), split(d, 50, 32, Batching::kSplit);
  std::mt19937_64 r1(5), r2(5);
  auto a = packed.epoch(r1), b = split.epoch(r2);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    std::vector<int64_t> ua = a[i].users, ub;
    int64_t last_width = 0;
    for (const Batch* p : b[i].pieces()) {
      ub.insert(ub.end(), p->users.begin(), p->users.end());
      EXPECT_GE(p->width(), last_width);
      last_width = p->width();
    }
    std::sort(ua.begin(), ua.end());
    std::sort(ub.begin(), ub.end());
    EXPECT_EQ(ua, ub);
  }
}

TEST(Split, LeaveOneOutAsSpecified) {
  Dataset d;
  d.items = {1, 2, 3, 4, 5, 6, 7};
  d.offsets = {0, 7};
  d.num_items = 7;
  TrainBatcher batcher(d, 4, 8, Batching::kPacked);
  std::mt19937_64 rng(0);
  Batch b = batcher.epoch(rng).at(0);
  // train input s[0..n-4] = 1..4, targets s[1..n-3] = 2..5; last max_len = 4 kept.
  EXPECT_TRUE(torch::equal(b.inputs, torch::tensor({{1, 2, 3, 4}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.targets, torch::tensor({{2, 3, 4, 5}}, torch::kLong)));
  EvalSet valid = make_eval_set(d, Stage::kValid), test = make_eval_set(d, Stage::kTest);
  EXPECT_EQ(valid.answers, std::vector<int64_t>{6});
  EXPECT_EQ(valid.history_len, std::vector<int64_t>{5});
  EXPECT_EQ(test.answers, std::vector<int64_t>{7});
  Batch e = make_eval_batch(test, {0}, 4);
  EXPECT_TRUE(torch::equal(e.inputs, torch::tensor({{3, 4, 5, 6}}, torch::kLong)));
  EXPECT_EQ(e.position_offset, 0);
}

TEST(Dropout, FastMaskKeepsTheStatedShareScaledAndIndependent) {
  // 2^20 entries at p = 0.3: every entry is 0 or 1/0.7; the kept share lies within 5 sigma of
  // 0.7; neighbours (the two halves of one 64-bit draw, and consecutive draws) are uncorrelated.
  torch::manual_seed(11);
  const int64_t n = 1 << 20;
  torch::Tensor m = fast_dropout_mask(torch::empty({n / 64, 64}), 0.3).reshape(-1);
  torch::Tensor kept = (m != 0).to(torch::kDouble);
  EXPECT_TRUE(torch::all((m == 0) | (m == static_cast<float>(1 / 0.7))).item<bool>());
  const double share = kept.mean().item<double>(), sigma = std::sqrt(0.21 / n);
  EXPECT_NEAR(share, 0.7, 5 * sigma);
  for (int64_t lag : {1, 2, 3}) {
    torch::Tensor a = kept.slice(0, 0, n - lag) - share, b = kept.slice(0, lag, n) - share;
    const double corr = (a * b).mean().item<double>() / 0.21;
    EXPECT_LT(std::abs(corr), 5 / std::sqrt(static_cast<double>(n))) << "lag " << lag;
  }
}

TEST(Dropout, FastMaskFollowsTheSeedNotTheThreadCount) {
  const int threads = at::get_num_threads();
  torch::manual_seed(4);
  at::set_num_threads(1);
  torch::Tensor one = fast_dropout_mask(torch::empty({3001, 7}), 0.5);
  torch::manual_seed(4);
  at::set_num_threads(2);
  torch::Tensor two = fast_dropout_mask(torch::empty({3001, 7}), 0.5);
  torch::Tensor next = fast_dropout_mask(torch::empty({3001, 7}), 0.5);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
  EXPECT_FALSE(torch::equal(two, next));
}

TEST(Dropout, FastMaskIsTheSplitMix64StreamOfOneGeneratorDraw) {
  // Entries 2j and 2j + 1 are the low and high halves of SplitMix64 output j, keyed by one draw
  // of LibTorch's generator; an entry is 1/(1-p) where its half is below (1-p) * 2^32, else 0.
  // Recomputed one entry at a time, for even and odd counts (the last output half used), none,
  // and p = 0 (every entry kept).
  for (const double p : {0.4, 0.0}) {
    for (const int64_t n : {35, 2, 1, 0}) {
      torch::manual_seed(21);
      const uint64_t key = at::detail::getDefaultCPUGenerator().get<at::CPUGeneratorImpl>()->random64();
      torch::manual_seed(21);
      torch::Tensor mask = fast_dropout_mask(torch::empty({n}), p);
      ASSERT_EQ(mask.numel(), n);
      const uint64_t below = static_cast<uint64_t>(std::llround((1.0 - p) * 4294967296.0));
      for (int64_t i = 0; i < n; ++i) {
        uint64_t z = key + static_cast<uint64_t>(i / 2) * 0x9E3779B97F4A7C15ULL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        const uint64_t half = i % 2 == 0 ? (z & 0xFFFFFFFFULL) : (z >> 32);
        const float expected = half < below ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f;
        EXPECT_EQ(mask[i].item<float>(), expected) << "p " << p << ", n " << n << ", entry " << i;
      }
    }
  }
}

TEST(Dropout, GradientIsTheMaskAndEvalIsIdentity) {
  torch::nn::Dropout module(0.25);
  torch::Tensor x = (torch::rand({50, 9}) + 0.5).requires_grad_();
  torch::Tensor y = apply_dropout(x, module);
  y.sum().backward();
  torch::Tensor mask = y.detach() / x.detach();
  EXPECT_TRUE(torch::allclose(x.grad(), mask));
  EXPECT_TRUE(torch::all((mask.abs() < 1e-6) | ((mask - 1 / 0.75).abs() < 1e-5)).item<bool>());
  module->eval();
  EXPECT_TRUE(apply_dropout(x, module).is_same(x));
}

TEST(Dropout, TorchSwitchGivesLibTorchsMasks) {
  torch::nn::Dropout module(0.5);
  torch::Tensor x = torch::ones({40, 8});
  set_dropout_rng(DropoutRng::kTorch);
  torch::manual_seed(9);
  torch::Tensor ours = apply_dropout(x, module);
  set_dropout_rng(DropoutRng::kFast);
  torch::manual_seed(9);
  EXPECT_TRUE(torch::equal(ours, module->forward(x)));
  torch::manual_seed(9);
  EXPECT_FALSE(torch::equal(ours, apply_dropout(x, module)));
}

TEST(Precision, Bf16RunsTheEncoderInBfloat16AndTheLossInFloat) {
  Dataset d = make_markov_dataset(40, 25, 4, 20, 11);
  auto m = small_model(d.item_size(), 12);
  TrainBatcher batcher(d, 12, 16, Batching::kPadded);
  std::mt19937_64 rng(1);
  const Batch batch = batcher.epoch(rng)[0];
  torch::NoGradGuard g;
  auto run = [&](const std::string& precision) {
    PrecisionScope scope(precision, torch::kCPU);
    PackedPositions p = encode_packed(*m, batch, Positions::kAll, torch::kCPU);
    return std::make_pair(p.hidden, fused_softmax_ce(p.hidden, m->item_table(), p.targets));
  };
  const auto [h32, fp32] = run("fp32");
  const auto [h16, bf16] = run("bf16");
  // The linear layers ran in bfloat16 (the encoder's output moved), the loss in float and close.
  EXPECT_FALSE(torch::equal(h16, h32));
  EXPECT_EQ(bf16.scalar_type(), torch::kFloat);
  EXPECT_NEAR(bf16.item<double>(), fp32.item<double>(), 0.02 * fp32.item<double>());
  EXPECT_FALSE(at::autocast::is_cpu_enabled()) << "the scope leaves autocast as it found it";
  {
    PrecisionScope scope("bf16", torch::kCPU);
    EXPECT_TRUE(at::autocast::is_cpu_enabled());
    EXPECT_EQ(torch::mm(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(), torch::kBFloat16);
    // The full-softmax loss casts a bfloat16 input up and keeps its gradient path.
    torch::AutoGradMode grad(true);
    torch::Tensor h = torch::randn({6, 4}).to(torch::kBFloat16).requires_grad_();
    torch::Tensor items = torch::randn({9, 4}, torch::requires_grad());
    torch::Tensor loss = fused_softmax_ce(h, items, torch::tensor({1, 2, 3, 4, 5, 6}, torch::kLong));
    EXPECT_EQ(loss.scalar_type(), torch::kFloat);
    loss.backward();
    EXPECT_EQ(h.grad().scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(items.grad().defined());
  }
  EXPECT_EQ(torch::mm(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(), torch::kFloat);
}
