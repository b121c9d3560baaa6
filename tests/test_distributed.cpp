// Data parallelism over c10d/Gloo (distributed.h): the launch variables, how a global batch
// is shared out, and that N ranks take exactly the single-process step and evaluation.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "ranks.h"
#include "seqrec/batch.h"
#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/registry.h"
#include "seqrec/sampler.h"
#include "seqrec/trainer.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::error_of;
using seqrec::testing::on_ranks;

namespace {

std::function<const char*(const char*)> env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

const char* batching_name(Batching b) {
  return b == Batching::kPadded ? "padded" : b == Batching::kPacked ? "packed" : b == Batching::kSplit ? "split" : "bucketed";
}

Config small_config(const std::string& batching) {
  return seqrec::testing::default_config({{"sasrec.hidden-size", "16"}, {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"},
                                          {"max-len", "12"}, {"loss", "ce"}, {"batching", batching}, {"batch-size", "16"},
                                          {"lr", "0.01"}});
}

/// Loss and gradients of one PlainTrainer step on the first global batch of an epoch, from
/// the weights `init`, on this thread's rank (or as one process).
struct Step {
  double loss = 0;
  std::vector<torch::Tensor> grads, weights;
};
Step first_step(const Dataset& d, const Config& c, const std::vector<torch::Tensor>& init) {
  auto model = models().create("model", "sasrec", ModelContext{c, d});
  {
    torch::NoGradGuard g;
    auto p = model->parameters();
    for (size_t i = 0; i < p.size(); ++i) p[i].copy_(init[i]);
  }
  auto loss = losses().create("loss", c.str("loss"), c);
  loss->prepare(d);
  UniformSampler sampler(d);
  std::mt19937_64 rng(1);
  TrainContext ctx{*model, *loss, sampler, c, rng, torch::kCPU};
  PlainTrainer trainer;
  trainer.setup(ctx);
  TrainBatcher batcher(d, 12, c.integer("batch-size"), c.choice("batching", batching_names()));
  batcher.shard(dist::rank(), dist::world());
  std::mt19937_64 order(2);
  Step s;
  s.loss = trainer.step(batcher.epoch(order).at(0)).item<double>();
  for (const auto& p : model->parameters()) {
    s.grads.push_back(p.grad().clone());
    s.weights.push_back(p.detach().clone());
  }
  return s;
}

}  // namespace

TEST(DataParallel, LaunchVariablesOfTorchrunAndSlurm) {
  dist::JobEnv none = dist::job_env(env_of({}));
  EXPECT_EQ(none.world, 1);
  EXPECT_EQ(none.source, "");
  dist::JobEnv t = dist::job_env(env_of(
      {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29411"}}));
  EXPECT_EQ(t.source, "torchrun");
  EXPECT_EQ(t.rank, 3);
  EXPECT_EQ(t.world, 4);
  EXPECT_EQ(t.local_rank, 1);
  EXPECT_EQ(t.master_addr, "node7");
  EXPECT_EQ(t.master_port, 29411);
  dist::JobEnv s = dist::job_env(env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                         {"SLURM_JOB_NODELIST", "gpu[03-05,07],cpu1"}}));
  EXPECT_EQ(s.source, "slurm");
  EXPECT_EQ(s.rank, 5);
  EXPECT_EQ(s.world, 8);
  EXPECT_EQ(s.local_rank, 1);
  EXPECT_EQ(s.master_addr, "gpu03");
  EXPECT_EQ(s.master_port, 29500);
  EXPECT_EQ(dist::first_slurm_host("a1,b2"), "a1");
  EXPECT_EQ(dist::first_slurm_host("n[9]"), "n9");
  EXPECT_EQ(dist::first_slurm_host("solo"), "solo");
  EXPECT_NE(error_of([] { dist::job_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}})); }).find("MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              dist::job_env(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}));
            }).find("rank 2 of a world of 2"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              dist::job_env(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}));
            }).find("RANK=x is not a non-negative integer"),
            std::string::npos);
}

TEST(DataParallel, RanksShareEachGlobalBatchExactlyOnce) {
  Dataset d = make_markov_dataset(50, 20, 4, 20, 3);
  for (Batching layout : {Batching::kPadded, Batching::kPacked, Batching::kSplit, Batching::kBucketed}) {
    TrainBatcher whole(d, 12, 16, layout);
    std::mt19937_64 rng(5);
    std::vector<Batch> global = whole.epoch(rng);
    std::vector<std::multiset<int64_t>> shared(global.size());
    for (int r = 0; r < 3; ++r) {
      TrainBatcher part(d, 12, 16, layout);
      part.shard(r, 3);
      std::mt19937_64 same(5);
      std::vector<Batch> mine = part.epoch(same);
      for (size_t b = 0; b < mine.size(); ++b)
        for (const Batch* piece : mine[b].pieces()) shared[b].insert(piece->users.begin(), piece->users.end());
    }
    // A global batch with fewer users than ranks is left out on every rank; the others are
    // shared out exactly (in the same order, but for bucketed batches, whose order is drawn
    // after the batches are made).
    std::vector<std::multiset<int64_t>> expected;
    for (const Batch& g : global) {
      std::multiset<int64_t> users;
      for (const Batch* piece : g.pieces()) users.insert(piece->users.begin(), piece->users.end());
      if (users.size() >= 3) expected.push_back(users);
    }
    ASSERT_LT(expected.size(), global.size()) << "the test needs a batch too small to share";
    shared.resize(expected.size());
    if (layout == Batching::kBucketed) {
      std::sort(shared.begin(), shared.end());
      std::sort(expected.begin(), expected.end());
    }
    EXPECT_EQ(shared, expected) << batching_name(layout);
  }
}

TEST(DataParallel, TwoRanksTakeTheSingleProcessStep) {
  Dataset d = make_markov_dataset(60, 30, 4, 20, 5);
  for (const char* batching : {"split", "padded", "packed"}) {
    for (const char* loss : {"ce", "cce"}) {
      Config c = small_config(batching);
      c.set("loss", loss);
      torch::manual_seed(4);
      std::vector<torch::Tensor> init;
      for (const auto& p : models().create("model", "sasrec", ModelContext{c, d})->parameters()) init.push_back(p.detach().clone());
      const Step one = first_step(d, c, init);
      std::vector<Step> ranks(2);
      on_ranks(2, [&](int r) { ranks[r] = first_step(d, c, init); });
      for (int r = 0; r < 2; ++r) {
        EXPECT_NEAR(ranks[r].loss, one.loss, 1e-5) << batching << " " << loss << " rank " << r;
        for (size_t i = 0; i < one.grads.size(); ++i) {
          EXPECT_TRUE(torch::allclose(ranks[r].grads[i], one.grads[i], 1e-4, 1e-5)) << batching << " " << loss << " grad " << i;
          EXPECT_TRUE(torch::allclose(ranks[r].weights[i], one.weights[i], 1e-4, 1e-5)) << batching << " " << loss << " weight " << i;
        }
      }
      // The ranks hold the same weights after the step, bit for bit.
      for (size_t i = 0; i < one.weights.size(); ++i) EXPECT_TRUE(torch::equal(ranks[0].weights[i], ranks[1].weights[i]));
    }
  }
}

TEST(DataParallel, ShardedEvaluationEqualsTheSingleProcessOne) {
  Dataset d = make_markov_dataset(70, 160, 4, 20, 6);
  Config c = small_config("split");
  torch::manual_seed(8);
  auto model = models().create("model", "sasrec", ModelContext{c, d});
  model->eval();
  for (const char* candidates : {"full", "uni100"}) {
    EvalOptions o;
    o.candidates = std::string(candidates) == "full" ? Candidates::kFull : Candidates::kUniform100;
    o.user_block = 7;
    for (Stage stage : {Stage::kValid, Stage::kTest}) {
      const EvalSet set = make_eval_set(d, stage);
      const EvalResult one = RankingEvaluator(o).evaluate(*model, d, set);
      std::vector<EvalResult> ranks(3);
      std::mutex m;  // the model's forward is not shared across threads otherwise
      on_ranks(3, [&](int r) {
        auto copy = models().create("model", "sasrec", ModelContext{c, d});
        {
          std::lock_guard<std::mutex> lock(m);
          torch::NoGradGuard g;
          auto src = model->parameters(), dst = copy->parameters();
          for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
        }
        ranks[r] = RankingEvaluator(o).evaluate(*copy, d, set);
      });
      for (int r = 0; r < 3; ++r) {
        EXPECT_EQ(ranks[r].users, one.users);
        EXPECT_EQ(ranks[r].ranks, one.ranks) << candidates << " rank " << r;
        EXPECT_EQ(ranks[r].tied, one.tied) << candidates << " rank " << r;
        EXPECT_EQ(ranks[r].top.items, one.top.items);
        EXPECT_EQ(ranks[r].metrics, one.metrics);
      }
    }
  }
}

TEST(DataParallel, CollectivesAreTheIdentityWithoutAGroup) {
  EXPECT_FALSE(dist::active());
  EXPECT_EQ(dist::sum({1.5, 2.0}), (std::vector<double>{1.5, 2.0}));
  torch::Tensor t = torch::ones({3});
  dist::all_reduce_sum({t});
  EXPECT_TRUE(torch::equal(t, torch::ones({3})));
  on_ranks(3, [](int r) {
    EXPECT_EQ(dist::sum({static_cast<double>(r), 1.0}), (std::vector<double>{3.0, 3.0}));
    EXPECT_EQ(dist::any(r == 2), true);
    EXPECT_EQ(dist::any(false), false);
    // Buckets: mixed dtypes and sizes over several collectives give every tensor's sum.
    // A transposed (non-contiguous) tensor is reduced through a copy and written back.
    std::vector<torch::Tensor> ts{torch::full({5}, r + 1.0), torch::full({2, 2}, r + 1, torch::kLong),
                                  torch::full({4}, 2.0 * r, torch::kDouble), torch::full({3}, 1.0),
                                  (torch::arange(6, torch::kFloat) * (r + 1)).view({2, 3}).t()};
    dist::all_reduce_sum(ts, /*bucket_bytes=*/24);
    EXPECT_TRUE(torch::equal(ts[0], torch::full({5}, 6.0)));
    EXPECT_TRUE(torch::equal(ts[1], torch::full({2, 2}, 6, torch::kLong)));
    EXPECT_TRUE(torch::equal(ts[2], torch::full({4}, 6.0, torch::kDouble)));
    EXPECT_TRUE(torch::equal(ts[3], torch::full({3}, 3.0)));
    EXPECT_TRUE(torch::equal(ts[4], (torch::arange(6, torch::kFloat) * 6).view({2, 3}).t()));
    torch::Tensor b = torch::full({2}, static_cast<float>(r)), bt = (torch::arange(4, torch::kDouble) + r).view({2, 2}).t();
    dist::broadcast({b, bt}, 1);
    EXPECT_TRUE(torch::equal(b, torch::full({2}, 1.0f)));
    EXPECT_TRUE(torch::equal(bt, (torch::arange(4, torch::kDouble) + 1).view({2, 2}).t()));
  });
}

TEST(DataParallel, BackendsThisBuildLacksStopWithOneLine) {
  int port = 0;
  auto store = dist::local_store(1, 5, &port);
  const std::vector<std::string> built = dist::backends();
  EXPECT_NE(std::find(built.begin(), built.end(), "gloo"), built.end()) << "CI builds with libgloo-dev";
  if (std::find(built.begin(), built.end(), "nccl") == built.end())
    EXPECT_EQ(error_of([&] { dist::Scope s(store, 0, 1, "nccl", 5); }),
              "--dist.backend nccl: this seqrec was built without NCCL (it needs a CUDA LibTorch and nccl.h); use gloo");
  EXPECT_EQ(error_of([&] { dist::Scope s(store, 0, 1, "mpi", 5); }), "--dist.backend mpi: gloo or nccl");
  EXPECT_EQ(dist::backend(), "") << "a refused group leaves none behind";
  if (!torch::cuda::is_available()) {
    const std::string e = error_of([] { dist::use_local_gpu(0); });
    EXPECT_TRUE(e == "--device cuda: this LibTorch build has no CUDA" || e == "--device cuda: no CUDA device on this host") << e;
  }
}
