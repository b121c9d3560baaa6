// The device path: on a CUDA build with a GPU, the fused softmax CE (whole and item-blocked),
// the evaluator and a training step must agree with the CPU, and the NCCL backend must run
// its collectives (one rank: a lent machine has one GPU). Without a GPU every test here
// skips (CI is CPU-only; scripts/gpu_check.sh runs them on a lent GPU machine).
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>

#include "baselines/losses/softmax_ce.h"
#include "ranks.h"
#include "seqrec/batch.h"
#include "seqrec/distributed.h"
#include "seqrec/evaluator.h"
#include "seqrec/experiment.h"
#include "seqrec/registry.h"
#include "seqrec/sampler.h"
#include "seqrec/trainer.h"
#include "test_util.h"

using namespace seqrec;

namespace {
#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or machine"

const torch::Device kCuda("cuda");

Config small_config() {
  return seqrec::testing::default_config({{"sasrec.hidden-size", "16"}, {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"},
                                          {"max-len", "12"}, {"loss", "ce"}, {"batching", "padded"}, {"batch-size", "32"}});
}
}  // namespace

TEST(Cuda, FusedSoftmaxCEMatchesTheCpuWholeAndBlocked) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(1);
  const torch::Tensor h = torch::randn({300, 32}), items = torch::randn({5001, 32}) * 0.3;
  const torch::Tensor y = torch::randint(1, 5001, {300}, torch::kLong);
  auto loss_and_grads = [&](torch::Device d, int64_t block) {
    // Leaves of their own: on the CPU .to() returns the tensor itself, and a gradient asked of it
    // would make the next device's copy a non-leaf, whose .grad() is undefined.
    torch::Tensor hd = h.to(d).detach().requires_grad_(), id = items.to(d).detach().requires_grad_();
    torch::Tensor loss = fused_softmax_ce(hd, id, y.to(d), nullptr, block);
    loss.backward();
    return std::make_tuple(loss.item<double>(), hd.grad().cpu(), id.grad().cpu());
  };
  const auto [cpu_loss, cpu_gh, cpu_gi] = loss_and_grads(torch::kCPU, 0);
  for (int64_t block : {int64_t{0}, int64_t{1000}}) {
    const auto [loss, gh, gi] = loss_and_grads(kCuda, block);
    EXPECT_NEAR(loss, cpu_loss, 1e-4 * std::abs(cpu_loss)) << "block " << block;
    EXPECT_TRUE(torch::allclose(gh, cpu_gh, 1e-3, 1e-6)) << "block " << block;
    EXPECT_TRUE(torch::allclose(gi, cpu_gi, 1e-3, 1e-6)) << "block " << block;
  }
}

TEST(Cuda, EvaluatorRanksMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  Dataset d = make_markov_dataset(200, 300, 4, 20, 2);
  Config c = small_config();
  torch::manual_seed(3);
  auto model = models().create("model", "sasrec", ModelContext{c, d});
  model->eval();
  const EvalSet set = make_eval_set(d, Stage::kTest);
  EvalOptions o;
  const EvalResult cpu = RankingEvaluator(o).evaluate(*model, d, set);
  model->to(kCuda);
  const EvalResult gpu = RankingEvaluator(o).evaluate(*model, d, set);
  // Scores differ in the last bits across devices: a rank may move by a near-tie, rarely.
  int64_t moved = 0;
  for (size_t i = 0; i < cpu.ranks.size(); ++i) moved += cpu.ranks[i] != gpu.ranks[i];
  EXPECT_LE(moved, static_cast<int64_t>(cpu.ranks.size()) / 100) << moved << " of " << cpu.ranks.size() << " ranks moved";
  EXPECT_NEAR(gpu.metrics.at("ndcg@10"), cpu.metrics.at("ndcg@10"), 0.01);
}

TEST(Cuda, ATrainingStepMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  Dataset d = make_markov_dataset(64, 50, 4, 20, 5);
  Config c = small_config();
  torch::manual_seed(4);
  auto reference = models().create("model", "sasrec", ModelContext{c, d});
  auto step = [&](torch::Device dev) {
    auto model = models().create("model", "sasrec", ModelContext{c, d});
    {
      torch::NoGradGuard g;
      auto src = reference->parameters(), dst = model->parameters();
      for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
    }
    model->to(dev);
    auto loss = losses().create("loss", "ce", c);
    loss->prepare(d);
    UniformSampler sampler(d);
    std::mt19937_64 rng(1);
    TrainContext ctx{*model, *loss, sampler, c, rng, dev};
    PlainTrainer trainer;
    trainer.setup(ctx);
    TrainBatcher batcher(d, 12, 32, Batching::kPadded);
    std::mt19937_64 order(2);
    const double value = trainer.step(batcher.epoch(order).at(0)).item<double>();
    std::vector<torch::Tensor> weights;
    for (const auto& p : model->parameters()) weights.push_back(p.detach().cpu());
    return std::make_pair(value, weights);
  };
  const auto [cpu_loss, cpu_w] = step(torch::kCPU);
  const auto [gpu_loss, gpu_w] = step(kCuda);
  EXPECT_NEAR(gpu_loss, cpu_loss, 1e-4 * std::abs(cpu_loss));
  for (size_t i = 0; i < cpu_w.size(); ++i) EXPECT_TRUE(torch::allclose(gpu_w[i], cpu_w[i], 1e-3, 1e-5)) << "parameter " << i;
}

TEST(Cuda, AnEpochsLossIsReadOnceAndMatchesTheCpu) {
  // On a GPU the steps' losses are summed on the device and read at the epoch's end (no
  // progress lines here); the epoch's mean loss matches the CPU's, which reads every step.
  SKIP_WITHOUT_CUDA();
  seqrec::testing::TempDir dir;
  write_lines(make_markov_dataset(200, 50, 4, 20, 5), dir.file("m.txt"));
  auto epoch_loss = [&](const std::string& device) {
    Config c = small_config();
    c.set("data", dir.file("m.txt"));
    c.set("cache-dir", dir.file("cache"));
    c.set("epochs", "1");
    c.set("progress", "none");
    c.set("device", device);
    torch::manual_seed(7);
    std::ostringstream log;
    return run_experiment(c, log).result.curve.at(0).loss;
  };
  const double cpu = epoch_loss("cpu"), gpu = epoch_loss("cuda");
  EXPECT_TRUE(std::isfinite(gpu));
  EXPECT_NEAR(gpu, cpu, 1e-3 * std::abs(cpu));
}

TEST(Cuda, NcclGroupOfOneReducesDeviceAndHostTensors) {
  // A smoke test of the NCCL backend: a lent machine has one GPU and NCCL takes one rank per
  // GPU, so one rank it is. Its collectives are the identity; they must run on the GPU and
  // give host tensors (the evaluator's ranks) back through their copies there.
  SKIP_WITHOUT_CUDA();
  const std::vector<std::string> built = dist::backends();
  if (std::find(built.begin(), built.end(), "nccl") == built.end()) GTEST_SKIP() << "this build has no NCCL";
  seqrec::testing::on_ranks(1, [](int) {
    EXPECT_EQ(dist::backend(), "nccl");
    EXPECT_EQ(dist::sum({1.5, 2.0}), (std::vector<double>{1.5, 2.0}));
    const torch::Tensor a = torch::arange(5, torch::kFloat), t = torch::arange(6, torch::kFloat).view({2, 3}).t();
    const torch::Tensor ranks = torch::arange(7, torch::kLong);
    std::vector<torch::Tensor> ts{a.to(kCuda), ranks.clone(), t.to(kCuda).t().contiguous().t()};
    dist::all_reduce_sum(ts);
    EXPECT_TRUE(ts[0].is_cuda() && !ts[1].is_cuda());
    EXPECT_TRUE(torch::equal(ts[0].cpu(), a));
    EXPECT_TRUE(torch::equal(ts[1], ranks));
    EXPECT_TRUE(torch::equal(ts[2].cpu(), t));
    torch::Tensor b = torch::arange(3, torch::kInt);
    dist::broadcast({b});
    EXPECT_TRUE(torch::equal(b, torch::arange(3, torch::kInt)));
  }, "nccl");
}
