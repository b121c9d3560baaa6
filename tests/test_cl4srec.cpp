// CL4SRec's pieces: each augmentation against its definition over many draws, InfoNCE
// against an explicit loop (values, and gradients by finite differences), and the trainer:
// weight 0 is plain training; the instance term (each view representation) and ICLRec's
// intent term against slow paths, their gradients against finite differences, and a step as
// their weighted sum. DuoRec's same-target views against a brute-force index, and its loss
// against its parts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "baselines/cl4srec/cl4srec.h"
#include "baselines/duorec/duorec.h"
#include "seqrec/sampler.h"
#include "finite_difference.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::error_of;
using seqrec::testing::expect_parameter_gradients;

namespace {
const std::vector<int32_t> kSeq = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20};  // n = 10

std::vector<int32_t> apply(const std::string& name, const AugmentOptions& o, std::mt19937_64& rng) {
  return augmentations().at(name)(kSeq, o, rng);
}

/// Where `part` starts in kSeq as a contiguous run, or -1.
int64_t start_in_seq(const std::vector<int32_t>& part) {
  for (size_t s = 0; s + part.size() <= kSeq.size(); ++s)
    if (std::equal(part.begin(), part.end(), kSeq.begin() + s)) return static_cast<int64_t>(s);
  return -1;
}
}  // namespace

TEST(Augment, CropKeepsAContiguousWindowThatTheReferenceBoundKeepsOffTheLastItem) {
  std::mt19937_64 rng(1);
  for (AugmentWindow w : {AugmentWindow::kReference, AugmentWindow::kUniform}) {
    std::map<int64_t, int> starts;
    for (int i = 0; i < 4000; ++i) {
      const auto v = apply("crop", AugmentOptions().crop(0.2).window(w), rng);
      ASSERT_EQ(v.size(), 2u);  // floor(0.2 * 10)
      const int64_t s = start_in_seq(v);
      ASSERT_GE(s, 0);
      ++starts[s];
    }
    // [0, n-L-1] = [0, 7] for the reference; [0, n-L] = [0, 8] uniform; each about equally often.
    const int64_t last = w == AugmentWindow::kReference ? 7 : 8;
    EXPECT_EQ(starts.size(), static_cast<size_t>(last + 1));
    EXPECT_EQ(starts.rbegin()->first, last);
    for (const auto& [s, count] : starts) EXPECT_NEAR(count, 4000.0 / (last + 1), 120) << "start " << s;
  }
  // floor(0.2 n) = 0 (n < 5): one item, anywhere.
  const std::vector<int32_t> shorter = {1, 2, 3, 4};
  std::set<int32_t> seen;
  for (int i = 0; i < 400; ++i) {
    const auto v = augmentations().at("crop")(shorter, AugmentOptions(), rng);
    ASSERT_EQ(v.size(), 1u);
    seen.insert(v[0]);
  }
  EXPECT_EQ(seen, std::set<int32_t>({1, 2, 3, 4}));
}

TEST(Augment, MaskSetsExactlyFloorGammaNDistinctUniformPositions) {
  std::mt19937_64 rng(2);
  std::vector<int> masked(kSeq.size());
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const auto v = apply("mask", AugmentOptions().mask(0.7).mask_id(99), rng);
    ASSERT_EQ(v.size(), kSeq.size());
    int k = 0;
    for (size_t p = 0; p < v.size(); ++p) {
      if (v[p] == 99) ++k, ++masked[p];
      else EXPECT_EQ(v[p], kSeq[p]);
    }
    ASSERT_EQ(k, 7);  // floor(0.7 * 10)
  }
  for (size_t p = 0; p < masked.size(); ++p) EXPECT_NEAR(masked[p], 0.7 * draws, 120) << "position " << p;
}

TEST(Augment, ReorderPermutesOneWindowAndLeavesTheRest) {
  std::mt19937_64 rng(3);
  int moved = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto v = apply("reorder", AugmentOptions().reorder(0.3), rng);  // window of 3
    ASSERT_EQ(v.size(), kSeq.size());
    std::vector<size_t> changed;
    for (size_t p = 0; p < v.size(); ++p)
      if (v[p] != kSeq[p]) changed.push_back(p);
    EXPECT_TRUE(std::is_permutation(v.begin(), v.end(), kSeq.begin()));
    if (!changed.empty()) {
      ++moved;
      EXPECT_LE(changed.back() - changed.front(), 2u);  // within one 3-item window
      EXPECT_LT(changed.back(), 9u);                     // the reference bound: never the last item
    }
  }
  EXPECT_NEAR(moved, 2000 * 5.0 / 6.0, 100);  // a 3-item shuffle leaves the order 1 time in 6
}

namespace {
/// InfoNCE by its definition: row i of Z = [z1; z2] against its other view, over every other row.
double slow_info_nce(const torch::Tensor& z1, const torch::Tensor& z2, double t) {
  const torch::Tensor z = torch::cat({z1, z2}, 0);
  const int64_t n = z1.size(0);
  double total = 0;
  for (int64_t i = 0; i < 2 * n; ++i) {
    const int64_t pos = i < n ? i + n : i - n;
    double denom = 0, s_pos = 0;
    for (int64_t j = 0; j < 2 * n; ++j) {
      if (j == i) continue;
      const double s = (z[i] * z[j]).sum().item<double>() / t;
      denom += std::exp(s);
      if (j == pos) s_pos = s;
    }
    total += -s_pos + std::log(denom);
  }
  return total / (2 * n);
}
}  // namespace

TEST(InfoNCE, MatchesTheLoopAndItsGradientMatchesFiniteDifferences) {
  torch::manual_seed(4);
  const auto opts = torch::dtype(torch::kDouble);
  torch::Tensor z1 = torch::randn({5, 3}, opts), z2 = torch::randn({5, 3}, opts);
  for (double t : {1.0, 0.5}) EXPECT_NEAR(info_nce(z1, z2, t, false).item<double>(), slow_info_nce(z1, z2, t), 1e-12);
  auto unit = [](const torch::Tensor& z) { return z / z.norm(2, {1}, true); };
  EXPECT_NEAR(info_nce(z1, z2, 0.2, true).item<double>(), slow_info_nce(unit(z1), unit(z2), 0.2), 1e-12);

  torch::Tensor a = z1.clone().requires_grad_(true), b = z2.clone().requires_grad_(true);
  info_nce(a, b, 0.7, true).backward();
  const double h = 1e-6;
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t k = 0; k < 3; ++k) {
      torch::Tensor up = z1.clone(), down = z1.clone();
      up[i][k] += h;
      down[i][k] -= h;
      const double fd = (info_nce(up, z2, 0.7, true).item<double>() - info_nce(down, z2, 0.7, true).item<double>()) / (2 * h);
      EXPECT_NEAR(a.grad()[i][k].item<double>(), fd, 1e-7) << i << "," << k;
    }
  EXPECT_GT(b.grad().abs().sum().item<double>(), 0);
}

namespace {
const Dataset& tiny() {
  static Dataset d = make_markov_dataset(30, 10, 5, 14, 3);
  return d;
}
Config cl_config(std::initializer_list<std::pair<std::string, std::string>> more) {
  Config c = seqrec::testing::default_config({{"sasrec.hidden-size", "8"}, {"sasrec.layers", "1"}, {"max-len", "12"},
                                              {"sasrec.dropout", "0"}, {"sasrec.attn-dropout", "0"}, {"loss", "bce"}});
  for (const auto& [k, v] : more) c.set(k, v);
  return c;
}
/// A SASRec model on tiny(), its loss, sampler, stream and a trainer set up to train it.
struct TrainerSetUp {
  TrainerSetUp(const std::string& trainer, const Config& c, torch::ScalarType dtype = torch::kFloat)
      : config(c), sampler(tiny()), rng(1) {
    torch::manual_seed(1);
    model = models().create("model", "sasrec", ModelContext{config, tiny()});
    model->to(dtype);
    loss = losses().create("loss", config.str("loss"), config);
    strategy = trainers().create("trainer", trainer, config);
    ctx = std::make_unique<TrainContext>(TrainContext{*model, *loss, sampler, config, rng, torch::kCPU, &tiny()});
    strategy->setup(*ctx);
  }
  Config config;
  UniformSampler sampler;
  std::mt19937_64 rng;
  std::shared_ptr<Model> model;
  std::unique_ptr<Loss> loss;
  std::unique_ptr<Trainer> strategy;
  std::unique_ptr<TrainContext> ctx;
};

/// After one step on the first batch of whole sequences.
struct Stepped : TrainerSetUp {
  Stepped(const std::string& trainer, const Config& c) : TrainerSetUp(trainer, c) {
    TrainBatcher batcher(tiny(), 12, 16, Batching::kPadded);
    std::mt19937_64 brng(2);
    strategy->step(batcher.epoch(brng)[0]);
  }
  ContrastiveTrainer& contrastive() { return dynamic_cast<ContrastiveTrainer&>(*strategy); }
};
}  // namespace

TEST(CL4SRec, WeightZeroIsPlainTraining) {
  // The step draws its negatives before the views, so both steps see the same negatives.
  Config c = cl_config({{"cl.weight", "0"}});
  Stepped plain("plain", c), cl("cl4srec", c);
  auto a = plain.model->parameters(), b = cl.model->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
}

TEST(CL4SRec, ViewsComeFromTheWholeTrainingInputLeftPadded) {
  Config c = cl_config({{"cl.augment", "mask"}, {"cl.mask", "0"}, {"cl.mask-id", "mask"}, {"lr", "0"}});
  Stepped s("cl4srec", c);
  // mask 0: both views are the training input itself, s[0..t-2], its last 12 items.
  torch::Tensor v = s.contrastive().views({0, 3});
  ASSERT_EQ(v.sizes(), torch::IntArrayRef({4, 12}));
  for (int64_t r = 0; r < 2; ++r) {
    const int64_t u = r == 0 ? 0 : 3, n = train_length(tiny(), u) - 1, len = std::min<int64_t>(12, n);
    for (int64_t view = 0; view < 2; ++view)
      for (int64_t col = 0; col < 12; ++col) {
        const int64_t want = col < 12 - len ? 0 : tiny().begin(u)[n - len + col - (12 - len)];
        EXPECT_EQ(v[view * 2 + r][col].item<int64_t>(), want) << "user " << u << " view " << view << " col " << col;
      }
  }
  // mask 1 with the mask row: every real item becomes item_size - 1.
  Config all = cl_config({{"cl.augment", "mask"}, {"cl.mask", "1"}, {"cl.mask-id", "mask"}, {"lr", "0"}});
  Stepped masked("cl4srec", all);
  torch::Tensor m = masked.contrastive().views({0});
  EXPECT_EQ(m.gt(0).sum().item<int64_t>(), 2 * std::min<int64_t>(12, train_length(tiny(), 0) - 1));
  EXPECT_TRUE(m.masked_select(m.gt(0)).eq(tiny().item_size() - 1).all().item<bool>());
}

TEST(CL4SRec, UnknownAugmentationIsOneLine) {
  Config c = cl_config({{"cl.augment", "crop,shuffle"}});
  try {
    trainers().create("trainer", "cl4srec", c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--cl.augment: unknown augmentation 'shuffle' (crop, mask, reorder, insert, substitute)");
  }
}

namespace {
/// Four users of tiny(); a user's training input (s[0..t-2]) built by hand, its last 12 items
/// left-padded to 12.
const std::vector<int64_t> kUsers = {0, 3, 5, 8};
torch::Tensor input_by_hand(int64_t u) {
  torch::Tensor row = torch::zeros({1, 12}, torch::kLong);
  const int64_t n = train_length(tiny(), u) - 1, len = std::min<int64_t>(12, n);
  for (int64_t t = 0; t < len; ++t) row[0][12 - len + t] = tiny().begin(u)[n - len + t];
  return row;
}
/// Row r of a views() batch of kUsers, encoded alone with its user: [12, d].
torch::Tensor encode_row(Model& m, const torch::Tensor& views, int64_t r) {
  const int64_t u = kUsers[r % kUsers.size()];
  return m.encode_users(views.slice(0, r, r + 1), 0, torch::tensor({u}, torch::kLong))[0];
}
/// Every parameter's gradient from `objective` against finite differences (the model in double).
void expect_model_gradient(Model& m, const std::function<torch::Tensor()>& objective, const std::string& what) {
  m.zero_grad();
  objective().backward();
  expect_parameter_gradients(m, objective, what);
}
}  // namespace

TEST(CL4SRec, InstanceTermIsInfoNCEOfEachRepresentationAndItsGradientMatchesFiniteDifferences) {
  for (const std::string rep : {"flatten", "mean", "last"}) {
    TrainerSetUp s("cl4srec", cl_config({{"cl.representation", rep}, {"cl.temperature", "0.7"}}), torch::kDouble);
    auto& t = dynamic_cast<ContrastiveTrainer&>(*s.strategy);
    const torch::Tensor pair = t.views(kUsers);
    const int64_t b = static_cast<int64_t>(kUsers.size());
    std::vector<torch::Tensor> z;
    {
      torch::NoGradGuard g;
      for (int64_t r = 0; r < 2 * b; ++r) {
        const torch::Tensor h = encode_row(*s.model, pair, r);
        z.push_back(rep == "flatten" ? h.reshape({-1}) : rep == "mean" ? h.sum(0) / 12 : h[11]);
      }
    }
    const torch::Tensor all = torch::stack(z);
    const double want = slow_info_nce(all.slice(0, 0, b), all.slice(0, b), 0.7);
    EXPECT_NEAR(t.contrastive_loss(pair, kUsers).item<double>(), want, 1e-9) << rep;
    expect_model_gradient(*s.model, [&] { return t.contrastive_loss(pair, kUsers); }, rep);
  }
}

TEST(ICLRec, IntentTermIsEachViewAgainstItsNearestUnitCentroidAndItsGradientMatchesFiniteDifferences) {
  TrainerSetUp s("iclrec", cl_config({{"cl.clusters", "3"}, {"cl.temperature", "0.7"}}), torch::kDouble);
  auto& t = dynamic_cast<ContrastiveTrainer&>(*s.strategy);
  EXPECT_NE(error_of([&] { t.intent_loss(t.views(kUsers), kUsers); }).find("no intents"), std::string::npos);
  t.begin_epoch(1);
  ASSERT_EQ(t.centroids().sizes(), torch::IntArrayRef({3, 8}));
  const torch::Tensor pair = t.views(kUsers);
  const int64_t b = static_cast<int64_t>(kUsers.size());
  torch::Tensor intents = torch::empty({b, 8}, torch::kDouble), z = torch::empty({2 * b, 8}, torch::kDouble);
  std::set<int64_t> picked;
  {
    torch::NoGradGuard g;
    const torch::Tensor c = t.centroids().to(torch::kDouble);
    for (int64_t r = 0; r < b; ++r) {
      // the un-augmented input's mean encoding, and the centroid nearest it
      const torch::Tensor x = s.model->encode_users(input_by_hand(kUsers[r]), 0, torch::tensor({kUsers[r]}))[0].mean(0);
      int64_t best = 0;
      for (int64_t k = 1; k < 3; ++k)
        if ((x - c[k]).pow(2).sum().item<double>() < (x - c[best]).pow(2).sum().item<double>()) best = k;
      picked.insert(best);
      intents[r] = c[best] / c[best].norm();
    }
    for (int64_t r = 0; r < 2 * b; ++r) z[r] = encode_row(*s.model, pair, r).mean(0);
  }
  const double want = (slow_info_nce(z.slice(0, 0, b), intents, 0.7) + slow_info_nce(z.slice(0, b), intents, 0.7)) / 2;
  EXPECT_NEAR(t.intent_loss(pair, kUsers).item<double>(), want, 1e-6);  // the centroids are float
  EXPECT_GT(picked.size(), 1u);  // the users do not all share one intent
  expect_model_gradient(*s.model, [&] { return t.intent_loss(pair, kUsers); }, "intent");
}

TEST(ICLRec, AStepIsTheMainLossPlusBothWeightedTerms) {
  // lr 0: the model stays as it was; the stream replayed gives the step's negatives and views.
  TrainerSetUp s("iclrec",
                 cl_config({{"cl.clusters", "3"}, {"cl.weight", "0.3"}, {"cl.intent-weight", "0.2"}, {"lr", "0"}}));
  auto& t = dynamic_cast<ContrastiveTrainer&>(*s.strategy);
  t.begin_epoch(1);
  std::mt19937_64 brng(2);
  const Batch batch = TrainBatcher(tiny(), 12, 16, Batching::kPadded).epoch(brng)[0];
  const std::mt19937_64 before = s.rng;
  const double got = t.step(batch).item<double>();
  s.rng = before;
  torch::NoGradGuard g;
  const double main = s.loss->forward(make_loss_input(*s.ctx, batch)).item<double>();
  std::vector<int64_t> users;
  for (const Batch* piece : batch.pieces()) users.insert(users.end(), piece->users.begin(), piece->users.end());
  const torch::Tensor pair = t.views(users);
  const double instance = t.contrastive_loss(pair, users).item<double>();
  const double intent = t.intent_loss(pair, users).item<double>();
  EXPECT_GT(instance, 0);
  EXPECT_GT(intent, 0);
  EXPECT_NEAR(got, main + 0.3 * instance + 0.2 * intent, 1e-5);
}

TEST(KMeans, NearestCentroidsMatchTheLoop) {
  torch::manual_seed(5);
  torch::Tensor x = torch::randn({50, 4}), c = torch::randn({6, 4});
  auto [ids, dist] = nearest_centroids(x, c);
  for (int64_t i = 0; i < 50; ++i) {
    int64_t best = 0;
    double best_d = 1e300;
    for (int64_t j = 0; j < 6; ++j) {
      const double d = (x[i] - c[j]).pow(2).sum().item<double>();
      if (d < best_d) best_d = d, best = j;
    }
    EXPECT_EQ(ids[i].item<int64_t>(), best);
    EXPECT_NEAR(dist[i].item<double>(), best_d, 1e-4);
  }
}

TEST(KMeans, FindsTheBestPartitionOfSmallDataAndIsAFixedPointAndSeeded) {
  torch::manual_seed(6);
  // Three loose groups of 4 points: k = 3 against every assignment of 12 points (3^12).
  torch::Tensor x = torch::cat({torch::randn({4, 2}) * 0.8, torch::randn({4, 2}) * 0.8 + 2.5, torch::randn({4, 2}) * 0.8 - 2.5});
  const int64_t n = 12, k = 3;
  std::vector<std::array<double, 2>> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = {x[i][0].item<double>(), x[i][1].item<double>()};
  double best = 1e300;
  for (int64_t code = 0; code < 531441; ++code) {
    double sum[3][2] = {}, sq[3] = {}, count[3] = {};
    for (int64_t i = 0, c = code; i < n; ++i, c /= 3) {
      const int64_t j = c % 3;
      sum[j][0] += p[i][0], sum[j][1] += p[i][1], count[j] += 1;
      sq[j] += p[i][0] * p[i][0] + p[i][1] * p[i][1];
    }
    if (count[0] == 0 || count[1] == 0 || count[2] == 0) continue;
    double sse = 0;  // sum of |x|^2 minus |sum|^2 / count, per cluster
    for (int64_t j = 0; j < k; ++j) sse += sq[j] - (sum[j][0] * sum[j][0] + sum[j][1] * sum[j][1]) / count[j];
    best = std::min(best, sse);
  }
  KMeansResult r = kmeans(x, KMeansOptions().clusters(3).iterations(30).restarts(10).seed(3));
  EXPECT_NEAR(r.error, best, 1e-4);
  for (int64_t j = 0; j < k; ++j) {
    torch::Tensor mine = r.assignment.eq(j);
    ASSERT_GT(mine.sum().item<int64_t>(), 0);
    EXPECT_TRUE(torch::allclose(r.centroids[j], x.index({mine}).mean(0), 1e-5, 1e-5)) << "centroid " << j;
  }
  KMeansResult again = kmeans(x, KMeansOptions().clusters(3).iterations(30).restarts(10).seed(3));
  EXPECT_TRUE(torch::equal(r.centroids, again.centroids));
  // A start with a centroid far from every row: its cluster is empty, split from another.
  torch::Tensor start = torch::tensor({{0.0f, 0.0f}, {2.5f, 2.5f}, {100.0f, 100.0f}});
  KMeansResult split = kmeans(x, KMeansOptions().clusters(3).iterations(30).seed(3), start);
  std::set<int64_t> used;
  for (int64_t i = 0; i < n; ++i) used.insert(split.assignment[i].item<int64_t>());
  EXPECT_EQ(used.size(), 3u);
  EXPECT_THROW(kmeans(x, KMeansOptions().clusters(13)), Error);
}

TEST(KMeans, EmptyClustersAreSplitAsFaissSplitsThem) {
  // One step from 4 centroids: the first keeps its one row (probability (1 - 1) / (n - k) = 0,
  // so a scan must pass it), the second takes the other 11, the last two attract none. faiss's
  // split_clusters, step by step: for each empty cluster in order, scan clusters 0, 1, 2, ...
  // cyclically, drawing from one generator seeded 1234 (a draw over its max, as float) until a
  // draw falls under (size - 1) / (n - k); copy that centroid, even coordinates x (1 + 1/1024)
  // and odd x (1 - 1/1024), the donor the other way round; the two share the donor's count.
  // Here the second empty cluster takes the first one's copy, which no rule "by size" or "the
  // first big one" would give.
  std::vector<float> rows = {10, 10, 0, 0, 1, 0, 0, 1, -1, 0, 0, -1, 1, 1, -1, -1, 2, 0, 0, 2, -2, 0, 0, -2};
  torch::Tensor x = torch::tensor(rows).reshape({12, 2});
  torch::Tensor start = torch::tensor({10.0f, 10.0f, 0.0f, 0.0f, 100.0f, 100.0f, -100.0f, 100.0f}).reshape({4, 2});
  KMeansResult r = kmeans(x, KMeansOptions().clusters(4).iterations(1), start);
  std::vector<std::array<float, 2>> c = {{10, 10}, {0, 0}, {0, 0}, {0, 0}};
  std::vector<float> size = {1, 11, 0, 0};
  std::mt19937 rng(1234);
  std::vector<int64_t> donors;
  for (int64_t ci = 0; ci < 4; ++ci) {
    if (size[ci] != 0) continue;
    int64_t cj = 0;
    while (!(rng() / static_cast<float>(rng.max()) < static_cast<float>((size[cj] - 1.0) / static_cast<float>(12 - 4))))
      cj = (cj + 1) % 4;
    donors.push_back(cj);
    for (int t = 0; t < 2; ++t) {
      c[ci][t] = c[cj][t] * static_cast<float>(t == 0 ? 1 + 1 / 1024. : 1 - 1 / 1024.);
      c[cj][t] = c[cj][t] * static_cast<float>(t == 0 ? 1 - 1 / 1024. : 1 + 1 / 1024.);
    }
    size[ci] = size[cj] / 2;
    size[cj] -= size[ci];
  }
  EXPECT_EQ(donors, (std::vector<int64_t>{1, 2}));
  for (int64_t j = 0; j < 4; ++j)
    for (int64_t t = 0; t < 2; ++t) EXPECT_FLOAT_EQ(r.centroids[j][t].item<float>(), c[j][t]) << j << "," << t;
}

TEST(KMeans, ChainedRunsFromGivenCentroidsAreLloydForRestartsTimesIterations) {
  // faiss's Clustering holding centroids (ICLRec's epochs after the first): each of its runs
  // goes on from where the last ended; with the error falling run by run, the last is kept,
  // so the result is restarts x iterations Lloyd steps from the start. The slow path: Lloyd
  // by explicit loops, in double.
  torch::manual_seed(11);
  const int64_t n = 240, k = 6;
  torch::Tensor x = torch::randn({n, 2}) * 1.5 + torch::randint(0, 3, {n, 2}).to(torch::kFloat) * 2.0;
  torch::Tensor start = x.slice(0, 0, k).clone();
  std::vector<std::array<double, 2>> c(k);
  for (int64_t j = 0; j < k; ++j) c[j] = {start[j][0].item<double>(), start[j][1].item<double>()};
  for (int step = 0; step < 3 * 5; ++step) {
    std::vector<std::array<double, 3>> acc(k, {0, 0, 0});
    for (int64_t i = 0; i < n; ++i) {
      const double a = x[i][0].item<double>(), b = x[i][1].item<double>();
      int64_t near = 0;
      for (int64_t j = 1; j < k; ++j)
        if ((a - c[j][0]) * (a - c[j][0]) + (b - c[j][1]) * (b - c[j][1]) <
            (a - c[near][0]) * (a - c[near][0]) + (b - c[near][1]) * (b - c[near][1]))
          near = j;
      acc[near][0] += a, acc[near][1] += b, acc[near][2] += 1;
    }
    for (int64_t j = 0; j < k; ++j) {
      ASSERT_GT(acc[j][2], 0) << "the data must keep every cluster (no split)";
      c[j] = {acc[j][0] / acc[j][2], acc[j][1] / acc[j][2]};
    }
  }
  const KMeansOptions o = KMeansOptions().clusters(k).iterations(3).restarts(5).seed(2);
  KMeansResult chained = kmeans(x, KMeansOptions(o).chain_restarts(true), start);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t d = 0; d < 2; ++d) EXPECT_NEAR(chained.centroids[j][d].item<double>(), c[j][d], 1e-4) << j << "," << d;
  KMeansResult once = kmeans(x, o, start);
  EXPECT_GT(once.error, chained.error + 1e-3) << "three steps must not have converged, or the test tells nothing";
}

TEST(ItemSimilarity, ItemCfIufMatchesItsDefinitionOnATinyLog) {
  // Three users; training inputs s[0..n-4] (leave-one-out keeps the last three items out).
  Dataset d;
  const std::vector<std::vector<int32_t>> seqs = {{2, 1, 3, 9, 9, 9}, {1, 2, 2, 9, 9, 9}, {2, 3, 4, 1, 9, 9, 9}};
  for (const auto& s : seqs) {
    d.items.insert(d.items.end(), s.begin(), s.end());
    d.offsets.push_back(static_cast<int64_t>(d.items.size()));
  }
  d.num_items = 9;
  ItemSimilarity sim(d);
  // Item sets {1,2,3} (w = 1/ln 4), {1,2} (1/ln 3), {1,2,3,4} (1/ln 5); N: 1:3, 2:3, 3:2, 4:1.
  const double w3 = 1 / std::log(4.0), w2 = 1 / std::log(3.0), w4 = 1 / std::log(5.0);
  auto [top1, s1] = sim.offline(1);
  EXPECT_EQ(top1, 2);
  EXPECT_NEAR(s1, (w3 + w2 + w4) / 3.0, 1e-12);
  // 3-1 and 3-2 tie at (w3 + w4) / sqrt(6): the pair met first, 3-2 (user 1 holds 2 before 1),
  // as the reference's insertion-ordered dicts under a stable sort (not the smaller id).
  auto [top3, s3] = sim.offline(3);
  EXPECT_EQ(top3, 2);
  EXPECT_NEAR(s3, (w3 + w4) / std::sqrt(6.0), 1e-12);
  auto [top4, s4] = sim.offline(4);  // 4-3 beats 4-1 and 4-2 by N(3) = 2
  EXPECT_EQ(top4, 3);
  EXPECT_NEAR(s4, w4 / std::sqrt(2.0), 1e-12);
  EXPECT_EQ(sim.offline(9).first, 0);  // never in a training input
  std::mt19937_64 rng(1);
  std::set<int32_t> drawn;
  for (int i = 0; i < 200; ++i) drawn.insert(sim.most_similar(9, rng));
  EXPECT_EQ(drawn, std::set<int32_t>({1, 2, 3, 4}));
  // Online: an item table where item 4's nearest row by dot product is 2, scoring above 4's
  // offline neighbour (3) once both are normalised; item 1's offline neighbour scores the
  // offline maximum, 1 normalised, which no online score exceeds.
  EXPECT_EQ(sim.most_similar(4, rng), 3);
  torch::Tensor e = torch::zeros({11, 2});
  e[2] = torch::tensor({5.0f, 0.0f});
  e[4] = torch::tensor({5.0f, 0.1f});
  sim.set_online(e);
  EXPECT_EQ(sim.most_similar(4, rng), 2);
  EXPECT_EQ(sim.most_similar(1, rng), 2);
}

TEST(ItemSimilarity, OfflineNeighboursAreTheReferencesOnALogFullOfTies) {
  // The reference's way, step by step: per item, its neighbours in the order first met
  // (users in order, each user's distinct items in order of first occurrence) with their
  // summed weights, then a stable sort by score, descending; the first is the neighbour.
  Dataset d = make_markov_dataset(60, 300, 5, 9, 3);  // sparse: most pairs met once, many ties
  ItemSimilarity sim(d);
  std::vector<std::vector<std::pair<int32_t, double>>> c(d.item_size());
  std::vector<double> n(d.item_size(), 0.0);
  for (int64_t u = 0; u < d.num_users(); ++u) {
    std::vector<int32_t> items;
    for (const int32_t* s = d.begin(u); s != d.begin(u) + train_length(d, u) - 1; ++s)
      if (std::find(items.begin(), items.end(), *s) == items.end()) items.push_back(*s);
    for (int32_t i : items) {
      n[i] += 1;
      for (int32_t j : items) {
        if (i == j) continue;
        auto at = std::find_if(c[i].begin(), c[i].end(), [&](const auto& p) { return p.first == j; });
        if (at == c[i].end()) at = c[i].insert(c[i].end(), {j, 0.0});
        at->second += 1.0 / std::log(1.0 + static_cast<double>(items.size()));
      }
    }
  }
  int ties_not_to_the_smaller_id = 0;
  for (int32_t i = 1; i < static_cast<int32_t>(d.item_size()); ++i) {
    if (c[i].empty()) continue;
    std::vector<std::pair<int32_t, double>> scored;
    for (const auto& [j, w] : c[i]) scored.push_back({j, w / std::sqrt(n[i] * n[j])});
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    EXPECT_EQ(sim.offline(i).first, scored[0].first) << "item " << i;
    EXPECT_EQ(sim.offline(i).second, scored[0].second) << "item " << i;
    int32_t smallest = scored[0].first;
    for (const auto& [j, s] : scored)
      if (s == scored[0].second) smallest = std::min(smallest, j);
    ties_not_to_the_smaller_id += smallest != scored[0].first;
  }
  EXPECT_GT(ties_not_to_the_smaller_id, 0) << "the log must hold ties the smaller id would settle otherwise";
}

TEST(Augment, InsertAndSubstituteUseTheMostSimilarItem) {
  Dataset d = make_markov_dataset(40, 12, 6, 12, 7);
  ItemSimilarity sim(d);
  std::mt19937_64 rng(8);
  const std::vector<int32_t> seq = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  AugmentOptions o = AugmentOptions().insert(0.4).substitute(0.2).similar(&sim);
  for (int i = 0; i < 50; ++i) {
    const auto in = augmentations().at("insert")(seq, o, rng);
    ASSERT_EQ(in.size(), 14u);  // floor(0.4 * 10) inserted
    // `in` is `seq` with, before some items, each one's most similar item, at most once each.
    std::function<bool(size_t, size_t)> explains = [&](size_t p, size_t k) -> bool {
      if (k == seq.size()) return p == in.size();
      if (p < in.size() && in[p] == seq[k] && explains(p + 1, k + 1)) return true;
      return p + 1 < in.size() && in[p] == sim.offline(seq[k]).first && in[p + 1] == seq[k] && explains(p + 2, k + 1);
    };
    EXPECT_TRUE(explains(0, 0));
    const auto sub = augmentations().at("substitute")(seq, o, rng);
    int changed = 0;
    for (size_t p = 0; p < seq.size(); ++p)
      if (sub[p] != seq[p]) {
        ++changed;
        EXPECT_EQ(sub[p], sim.offline(seq[p]).first);
      }
    EXPECT_EQ(changed, 2);  // floor(0.2 * 10) positions, never to the item itself
  }
  EXPECT_THROW(augmentations().at("insert")(seq, AugmentOptions(), rng), Error);
}

namespace {
/// A DuoRec trainer on tiny()'s window-prefix examples (no dropout, lr 0) and one epoch's
/// split batches.
Config duorec_config(std::initializer_list<std::pair<std::string, std::string>> more) {
  Config c = cl_config({{"loss", "ce"}, {"examples", "window-prefixes"}, {"lr", "0"}});
  for (const auto& [k, v] : more) c.set(k, v);
  return c;
}
struct DuoRecRun : TrainerSetUp {
  explicit DuoRecRun(std::initializer_list<std::pair<std::string, std::string>> more,
                     torch::ScalarType dtype = torch::kFloat)
      : TrainerSetUp("duorec", duorec_config(more), dtype) {
    std::mt19937_64 brng(2);
    batches = TrainBatcher(tiny(), 12, 16, Batching::kSplit, Examples::kWindowPrefixes).epoch(brng);
  }
  DuoRecTrainer& duorec() { return dynamic_cast<DuoRecTrainer&>(*strategy); }
  std::vector<Batch> batches;
};

/// A left-padded row's items.
std::vector<int64_t> items_of(const torch::Tensor& row) {
  std::vector<int64_t> out;
  for (int64_t c = 0; c < row.size(0); ++c)
    if (row[c].item<int64_t>() != 0) out.push_back(row[c].item<int64_t>());
  return out;
}
}  // namespace

TEST(DuoRec, SameTargetViewsAreOtherExamplesWithTheRowsTarget) {
  DuoRecRun run({});
  std::map<int64_t, std::set<std::vector<int64_t>>> inputs_of;  // target -> its examples' inputs
  const TrainBatcher all(tiny(), 12, 1, Batching::kPadded, Examples::kWindowPrefixes);
  for (const auto& x : all.examples()) {
    const int32_t* s = tiny().begin(x.user);
    inputs_of[s[x.end]].insert(std::vector<int64_t>(s + x.begin, s + x.end));
  }
  int64_t rows = 0, varied = 0;
  for (size_t b = 0; b < 4; ++b) {
    std::vector<int64_t> users;
    const torch::Tensor drawn = run.duorec().same_target_inputs(run.batches[b], &users);
    int64_t row = 0;
    for (const Batch* piece : run.batches[b].pieces())
      for (int64_t r = 0; r < piece->inputs.size(0); ++r, ++row) {
        const int64_t target = piece->targets[r][piece->width() - 1].item<int64_t>();
        const std::vector<int64_t> mine = items_of(piece->inputs[r]), other = items_of(drawn[row]);
        EXPECT_TRUE(inputs_of[target].count(other)) << "row " << row << ": not an input of target " << target;
        if (inputs_of[target].size() > 1) {
          EXPECT_NE(other, mine) << "row " << row;
          ++varied;
        }
        // The drawn example's user has that input followed by the target.
        const int32_t* s = tiny().begin(users[row]);
        const int64_t n = train_length(tiny(), users[row]), len = static_cast<int64_t>(other.size());
        bool found = false;
        for (int64_t e = len; e < n && !found; ++e)
          found = s[e] == target && std::equal(other.begin(), other.end(), s + e - len);
        EXPECT_TRUE(found) << "row " << row;
      }
    rows += row;
  }
  EXPECT_EQ(rows, 64);
  EXPECT_GT(varied, 0);
}

TEST(DuoRec, EachContrastIsTheMainLossPlusItsWeightedInfoNCE) {
  for (const std::string contrast : {"us_x", "us", "un", "su"}) {
    DuoRecRun run({{"duorec.contrast", contrast}, {"duorec.weight", "0.3"}, {"duorec.same-target-weight", "0.2"}});
    const Batch& batch = run.batches[0];
    const std::mt19937_64 before = run.rng;
    const double got = run.strategy->step(batch).item<double>();  // lr 0: the model stays as it was
    run.rng = before;
    std::vector<int64_t> users;
    const torch::Tensor inputs = run.duorec().same_target_inputs(batch, &users);
    torch::NoGradGuard g;
    LossInput in = make_loss_input(*run.ctx, batch);
    const torch::Tensor h = in.hidden;  // no dropout: the dropout view is h itself
    const torch::Tensor same = run.model->encode_last_users(inputs, 0, torch::tensor(users, torch::kLong));
    double want = run.loss->forward(in).item<double>();
    auto nce = [](const torch::Tensor& a, const torch::Tensor& b) { return info_nce(a, b, 1.0, false).item<double>(); };
    if (contrast == "us_x") want += 0.2 * nce(h, same);
    if (contrast == "us") want += 0.3 * nce(h, h) + 0.2 * nce(h, same);
    if (contrast == "un") want += 0.3 * nce(h, h);
    if (contrast == "su") want += 0.2 * nce(h, same);
    EXPECT_NEAR(got, want, 1e-5) << contrast;
  }
}

TEST(DuoRec, TheDropoutViewIsASecondDraw) {
  // Dropout 0.5: the step's loss is the main loss plus InfoNCE of the batch's encoding against
  // the same inputs encoded again, with dropout drawn anew.
  DuoRecRun run({{"duorec.contrast", "un"}, {"duorec.weight", "0.3"}, {"sasrec.dropout", "0.5"}});
  const Batch& batch = run.batches[0];
  const std::mt19937_64 before = run.rng;
  torch::manual_seed(9);
  const double got = run.strategy->step(batch).item<double>();
  run.rng = before;
  torch::manual_seed(9);
  torch::NoGradGuard g;
  const LossInput in = make_loss_input(*run.ctx, batch);
  const torch::Tensor view = encode_packed(*run.model, batch, Positions::kLast, torch::kCPU).hidden;
  ASSERT_EQ(view.sizes(), in.hidden.sizes());
  EXPECT_GT((view - in.hidden).abs().max().item<double>(), 0.1);
  const double main = run.loss->forward(in).item<double>();
  EXPECT_NEAR(got, main + 0.3 * info_nce(in.hidden, view, 1.0, false).item<double>(), 1e-5);
  EXPECT_GT(std::abs(got - main - 0.3 * info_nce(in.hidden, in.hidden, 1.0, false).item<double>()), 1e-3);
}

TEST(DuoRec, AStepsGradientMatchesFiniteDifferencesOfItsParts) {
  // In double, no dropout, lr 0: the step's gradients against finite differences of the main
  // loss plus both weighted InfoNCE terms, its negatives and same-target draws replayed.
  DuoRecRun run({{"duorec.contrast", "us"}, {"duorec.weight", "0.3"}, {"duorec.same-target-weight", "0.2"}},
                torch::kDouble);
  const Batch& batch = run.batches[0];
  const std::mt19937_64 before = run.rng;
  run.strategy->step(batch);
  auto objective = [&] {
    run.rng = before;
    const LossInput in = make_loss_input(*run.ctx, batch);
    std::vector<int64_t> users;
    const torch::Tensor inputs = run.duorec().same_target_inputs(batch, &users);
    const torch::Tensor same = run.model->encode_last_users(inputs, 0, torch::tensor(users, torch::kLong));
    return run.loss->forward(in) + 0.3 * info_nce(in.hidden, in.hidden, 1.0, false) +
           0.2 * info_nce(in.hidden, same, 1.0, false);
  };
  expect_parameter_gradients(*run.model, objective, "duorec");
}

TEST(DuoRec, RefusesWholeSequencesInOneLine) {
  try {
    DuoRecRun run({{"examples", "sequences"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--trainer duorec contrasts examples by their target: use --examples window-prefixes (its authors') or prefixes");
  }
}
