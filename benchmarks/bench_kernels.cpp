// Google Benchmark for seqrec's hot kernels. Each reports GFLOP/s next to the machine's
// measured matmul rate (BM_Matmul) so a kernel's distance from the floor is visible.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "baselines/caser/caser.h"
#include "baselines/frequency/frequency.h"
#include "baselines/genni/genni.h"
#include "baselines/losses/softmax_ce.h"
#include "baselines/sasrec/sasrec.h"
#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "plugin/elecrec/elecrec.h"
#include "seqrec/registry.h"

using namespace seqrec;

namespace {
// Beauty-sized shapes: 12,103 catalogue rows, d = 64.
constexpr int64_t kItems = 12103, kDim = 64;

void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
}  // namespace

/// The machine's matmul rate on the scoring shape: [M, 64] x [64, 12103].
static void BM_Matmul(benchmark::State& state) {
  const int64_t m = state.range(0);
  torch::Tensor a = torch::randn({m, kDim}), b = torch::randn({kItems, kDim});
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b.t()));
  set_flops(state, 2.0 * m * kDim * kItems);
}
BENCHMARK(BM_Matmul)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The same product with the item table stored transposed, [64, 12103] contiguous.
static void BM_MatmulPretransposed(benchmark::State& state) {
  const int64_t m = state.range(0);
  torch::Tensor a = torch::randn({m, kDim}), bt = torch::randn({kItems, kDim}).t().contiguous();
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, bt));
  set_flops(state, 2.0 * m * kDim * kItems);
}
BENCHMARK(BM_MatmulPretransposed)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The two backward GEMM shapes of the softmax loss: G [M, V] x E [V, d] and G^T x H.
static void BM_MatmulBackward(benchmark::State& state) {
  const int64_t m = state.range(0);
  torch::Tensor g = torch::randn({m, kItems}), e = torch::randn({kItems, kDim}), h = torch::randn({m, kDim});
  for (auto _ : state) {
    benchmark::DoNotOptimize(torch::mm(g, e));
    benchmark::DoNotOptimize(torch::mm(g.t(), h));
  }
  set_flops(state, 4.0 * m * kDim * kItems);
}
BENCHMARK(BM_MatmulBackward)->Arg(1536)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Fused full-softmax CE, forward + backward, on one bucketed batch's worth of positions.
static void BM_SoftmaxCE(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool fused = state.range(1) == 1;
  torch::manual_seed(0);
  torch::Tensor h = torch::randn({n, kDim}).requires_grad_(), e = (torch::randn({kItems, kDim}) * 0.1).requires_grad_();
  torch::Tensor t = torch::randint(1, kItems, {n}, torch::kLong);
  for (auto _ : state) {
    torch::Tensor loss = fused ? fused_softmax_ce(h, e, t) : torch::nn::functional::cross_entropy(torch::mm(h, e.t()), t);
    loss.backward();
  }
  set_flops(state, 6.0 * n * kDim * kItems);
}
BENCHMARK(BM_SoftmaxCE)->Args({1536, 1})->Args({1536, 0})->Unit(benchmark::kMillisecond)->UseRealTime();

// The fused loss over a large catalogue: 256 rows (one CPU row block) against `items`, whole
// (second argument 0: one [256, items] buffer), by the automatic rule (-1: whole up to 1 GiB on
// a CPU) or in blocks of that many columns (the online log-sum-exp path, one [256, block] block
// at a time; 262,144 was the CPU's automatic choice at 2^20 items before the 1 GiB budget); the
// third argument 1 also draws one item per row from softmax^4.4 (ELECRec's generator).
static void BM_SoftmaxCELargeCatalogue(benchmark::State& state) {
  const int64_t items = state.range(0), block = state.range(1);
  torch::manual_seed(0);
  torch::Tensor h = torch::randn({256, kDim}).requires_grad_(), e = (torch::randn({items, kDim}) * 0.1).requires_grad_();
  torch::Tensor t = torch::randint(1, items, {256}, torch::kLong);
  SoftmaxSampling sampling;
  sampling.power = 4.4;
  sampling.uniforms = torch::rand({256}, torch::kDouble);
  SoftmaxSampling* draws = state.range(2) ? &sampling : nullptr;
  for (auto _ : state) fused_softmax_ce(h, e, t, draws, block == 0 ? items : std::max<int64_t>(block, 0)).backward();
  set_flops(state, 6.0 * 256 * kDim * items);
}
BENCHMARK(BM_SoftmaxCELargeCatalogue)
    ->Args({1 << 20, 0, 0})
    ->Args({1 << 20, -1, 0})
    ->Args({1 << 20, 262144, 0})
    ->Args({1 << 20, 65536, 0})
    ->Args({1 << 20, 65536, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// The evaluator's scoring + ranking kernel: scores a block of users against the catalogue,
/// applies history exclusion and counts the answer's competitors, above it and tied with it.
static void BM_RankBlock(benchmark::State& state) {
  const int64_t m = state.range(0);
  Dataset d = make_markov_dataset(m, kItems - 2, 5, 30, 3);
  EvalSet set = make_eval_set(d, Stage::kTest);
  std::vector<int64_t> idx(set.users.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  torch::Tensor h = torch::randn({static_cast<int64_t>(idx.size()), kDim}), e = torch::randn({kItems, kDim});
  EvalOptions o;
  RankingEvaluator ev(o);
  for (auto _ : state) benchmark::DoNotOptimize(ev.rank_block(h, e, set, idx));
  set_flops(state, 2.0 * idx.size() * kDim * kItems);
  state.counters["users/s"] = benchmark::Counter(static_cast<double>(idx.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RankBlock)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

/// One SASRec forward + backward on a bucketed batch (256 sequences of width W).
static void BM_SASRecStep(benchmark::State& state) {
  const int64_t w = state.range(0);
  torch::manual_seed(0);
  SASRec model{SASRecOptions(kItems)};
  torch::Tensor seqs = torch::randint(1, kItems - 1, {256, w}, torch::kLong);
  for (auto _ : state) {
    torch::Tensor out = model.encode(seqs, 50 - w);
    out.sum().backward();
  }
}
BENCHMARK(BM_SASRecStep)->Arg(8)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The frequency encoders' sequence filters, forward + backward on [256, 50, 64] (Beauty's
/// batch and widths): 0 FMLP-Rec's learned filter, 1 BSARec's low-pass split (c = 5: both by
/// rfft/irfft along the sequence), 2 the low-pass split's closed form, a [50, 50] projection
/// matmul, for scale. GFLOP/s counts the FFTs as 2.5 N log2 N per real transform of length N.
static void BM_FrequencyFilter(benchmark::State& state) {
  const int64_t b = 256, L = 50, kind = state.range(0);
  torch::manual_seed(0);
  SASRecOptions o(kItems);
  o.dropout(0);
  FilterLayer filter(o);
  FrequencyLayer split(o, 5);
  torch::Tensor x = torch::randn({b, L, kDim}, torch::requires_grad());
  torch::Tensor projection = torch::randn({L, L});
  for (auto _ : state) {
    torch::Tensor y = kind == 0 ? filter->forward(x) : kind == 1 ? split->forward(x) : torch::matmul(projection, x);
    y.sum().backward();
  }
  const double transforms = 2.0 * b * kDim * 3;  // rfft + irfft, forward and twice backward
  set_flops(state, kind == 2 ? 3.0 * 2 * L * L * b * kDim : transforms * 2.5 * L * std::log2(double(L)));
}
BENCHMARK(BM_FrequencyFilter)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Caser's forward + backward on a training step's 256 windows of 50 items (Beauty's shapes and
/// the authors' settings: n_h 8 filters of every height 1..50, n_v 4), in the 8 pieces of 32
/// rows a split batch has, the items in each piece's last `range(0)` columns (the rest padding;
/// a Beauty prefix piece is 8 or fewer columns wide for most steps). GFLOP/s: the horizontal
/// filters' multiply-adds over all 50 columns, 3 x 2 x n_h d sum_h h (51 - h) a window, whatever
/// the width (narrow pieces skip the windows of padding, so their rate says what that saves).
static void BM_CaserStep(benchmark::State& state) {
  const int64_t b = 256, pieces = 8, L = 50, w = state.range(0);
  torch::manual_seed(0);
  Caser model(CaserOptions(kItems, 22363));
  torch::Tensor seqs = torch::randint(1, kItems - 1, {b, w}, torch::kLong), users = torch::randint(0, 22363, {b}, torch::kLong);
  for (auto _ : state) {
    for (int64_t p = 0; p < pieces; ++p) {
      const int64_t rows = b / pieces;
      model.encode_last_users(seqs.narrow(0, p * rows, rows), 0, users.narrow(0, p * rows, rows)).sum().backward();
    }
  }
  double taps = 0;
  for (int64_t h = 1; h <= L; ++h) taps += double(h) * double(L + 1 - h);
  set_flops(state, 3.0 * 2 * 8 * kDim * taps * b);
}
BENCHMARK(BM_CaserStep)->Arg(50)->Arg(8)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

/// One ELECRec training step (Beauty settings, full sharing) on a batch of 256 users drawn
/// from a Beauty-sized synthetic catalogue. FLOP counter: the generator's softmax GEMMs
/// (6 N V d for N trained positions), the step's dominant term; the encoders add roughly
/// 3 x 2 x 200 kFLOP per encoded position. Argument: 0 mask (real positions, split batch),
/// 1 include-pieces (padding of each part too, split batch), 2 include (the reference: every
/// position of a padded batch), 3 reference-weight (real positions, split batch).
static void BM_ElecRecStep(benchmark::State& state) {
  static const char* modes[] = {"mask", "include-pieces", "include", "reference-weight"};
  const std::string mode = modes[state.range(0)];
  const bool padded = mode == "include", with_padding = mode == "include" || mode == "include-pieces";
  register_builtins();
  static bool declared = false;
  if (!declared) {
    elecrec::register_elecrec(models(), trainers(), schema(), "bench");
    declared = true;
  }
  Config c(schema());
  c.set("elecrec.sharing", "full");
  c.set("elecrec.sample-ratio", "0.45");
  c.set("elecrec.dis-loss-weight", "0.6");
  c.set("elecrec.gen-loss-padding", mode);
  c.set("batching", padded ? "padded" : "split");
  Dataset d = make_markov_dataset(2000, kItems - 2, 5, 20, 1);
  torch::manual_seed(0);
  elecrec::ElecRecModel m(elecrec::elecrec_options_from(c, d.item_size()));
  UniformSampler sampler(d);
  std::mt19937_64 rng(1);
  auto loss = losses().create("loss", "cce", c);
  TrainContext ctx{m, *loss, sampler, c, rng, torch::kCPU};
  elecrec::ElecRecTrainer t;
  t.setup(ctx);
  TrainBatcher batcher(d, 50, 256, padded ? Batching::kPadded : Batching::kSplit);
  Batch b = batcher.epoch(rng)[0];
  int64_t positions = 0, encoded = 0;
  for (const Batch* p : b.pieces()) {
    encoded += p->inputs.numel();
    positions += with_padding ? p->targets.numel() : (p->targets > 0).sum().item<int64_t>();
  }
  for (auto _ : state) t.step(b);
  set_flops(state, 6.0 * positions * kItems * kDim);
  state.counters["positions"] = static_cast<double>(positions);
  state.counters["encoded"] = static_cast<double>(encoded);
}
BENCHMARK(BM_ElecRecStep)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();

/// --threads=N (default 2): LibTorch's intra-op threads for every benchmark; OpenBLAS's own
/// threads follow OPENBLAS_NUM_THREADS.
int main(int argc, char** argv) {
  int threads = 2;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--threads=", 0) != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    try {
      threads = static_cast<int>(to_integer(a.substr(10), "--threads"));
    } catch (const Error&) {
      threads = 0;
    }
    if (threads < 1) {
      std::fprintf(stderr, "seqrec_bench: %s: expected a positive thread count\n", a.c_str());
      return 2;
    }
  }
  argc = kept;
  at::set_num_threads(threads);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

/// The fused loss's row pass alone (max, exp-sum, scale) over [N, 12103] logits.
static void BM_SoftmaxRows(benchmark::State& state) {
  const int64_t n = state.range(0);
  torch::Tensor logits = torch::randn({n, kItems});
  torch::Tensor targets = torch::randint(1, kItems, {n, 1}, torch::kLong);
  SoftmaxSampling sampling;  // range(1) = 1: also one draw per row (ELECRec's generator), 2: with power 4.4 (Yelp's)
  // Blocks of 32 rows, the loss's kChunkRows (on one core 8 and 16 rows measured 1.4x and 1.15x slower).
  constexpr int64_t kRows = 32;
  sampling.uniforms = torch::rand({n});
  sampling.samples = torch::empty({n}, torch::kLong);
  sampling.power = state.range(1) == 2 ? 4.4 : 1.0;
  SoftmaxSampling* draw = state.range(1) >= 1 ? &sampling : nullptr;
  for (auto _ : state) {
    state.PauseTiming();
    torch::Tensor g = logits.clone();
    state.ResumeTiming();
    at::parallel_for(0, n, kRows, [&](int64_t r0, int64_t r1) {
      for (int64_t c = r0; c < r1; c += kRows) {
        const int64_t c1 = std::min(r1, c + kRows);
        benchmark::DoNotOptimize(softmax_ce_rows(g.slice(0, c, c1), targets.slice(0, c, c1), 1.0 / n, draw, c));
      }
    });
  }
  state.counters["Melem/s"] = benchmark::Counter(1e-6 * n * kItems * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SoftmaxRows)->Args({1536, 0})->Args({1536, 1})->Args({1536, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

/// One encoder dropout on a Beauty step's activations ([2,600 positions, 64]) in training mode,
/// with the mask from range(0): 0 = fast (SplitMix64), 1 = torch (LibTorch's bernoulli_).
static void BM_Dropout(benchmark::State& state) {
  torch::nn::Dropout module(0.5);
  torch::Tensor x = torch::randn({2600, kDim});
  set_dropout_rng(state.range(0) == 0 ? DropoutRng::kFast : DropoutRng::kTorch);
  for (auto _ : state) benchmark::DoNotOptimize(apply_dropout(x, module));
  set_dropout_rng(DropoutRng::kFast);
  state.counters["Melem/s"] = benchmark::Counter(1e-6 * x.numel() * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Dropout)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

/// GenNi's sampler for 2,300 positions (a Beauty batch) at candidate ratio range(0)/1000:
/// its cost must fall about linearly with the ratio. FLOPs: the [N, d] x [d, |C|] scores.
static void BM_GenNiSample(benchmark::State& state) {
  const double ratio = state.range(0) / 1000.0;
  const int64_t n = 2300;
  static Dataset d = make_markov_dataset(2300, kItems - 2, 5, 20, 1);
  GenNiSampler sampler(d, GenNiOptions().ratio(ratio).alpha(1.0));
  torch::Tensor h = torch::randn({n, kDim}), items = torch::randn({kItems, kDim}) * 0.1;
  torch::Tensor targets = torch::randint(1, kItems - 1, {n}, torch::kLong);
  std::vector<int64_t> users(n);
  for (int64_t i = 0; i < n; ++i) users[i] = i;
  std::mt19937_64 rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(sampler.sample(SampleRequest{users, h, items, targets, 1}, rng));
  set_flops(state, 2.0 * n * kDim * ratio * (kItems - 2));
}
BENCHMARK(BM_GenNiSample)->Arg(1000)->Arg(100)->Arg(10)->Unit(benchmark::kMillisecond)->UseRealTime();
