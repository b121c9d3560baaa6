// The evaluator against hand-computed metrics and a brute-force slow evaluator, under both
// protocols, tie rules, block sizes and thread counts.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "seqrec/batch.h"
#include "seqrec/evaluator.h"
#include "seqrec/exposure.h"
#include "test_util.h"

using namespace seqrec;

namespace {

/// A fixed-score model: the representation at a position is a row of `reps` looked up by
/// the item there, so scores are known without training.
class TableModel : public Model {
 public:
  TableModel(torch::Tensor reps, torch::Tensor items) : reps_(reps), items_(items) {}
  torch::Tensor encode(const torch::Tensor& seqs, int64_t) override {
    // Representation at every position = reps_[item at that position].
    return reps_.index_select(0, seqs.reshape(-1)).view({seqs.size(0), seqs.size(1), -1});
  }
  torch::Tensor item_table() override { return items_; }
  int64_t max_len() const override { return 50; }
  std::string options_json() const override { return "{}"; }
  std::string kind() const override { return "table"; }

 private:
  torch::Tensor reps_, items_;
};

/// The slow path: per user, the full score vector with the protocol's exclusions applied
/// literally, no blocking.
std::vector<std::vector<double>> brute_force_scores(Model& m, const EvalSet& set, Protocol p) {
  std::vector<std::vector<double>> out;
  torch::Tensor items = m.item_table();
  const int64_t v = items.size(0);
  for (size_t i = 0; i < set.users.size(); ++i) {
    const int64_t len = std::min<int64_t>(50, set.history_len[i]);
    std::vector<int64_t> in(set.history[i] + set.history_len[i] - len, set.history[i] + set.history_len[i]);
    torch::Tensor h = m.encode(torch::tensor(in, torch::kLong).unsqueeze(0), 50 - len)[0][len - 1];
    std::vector<double> s(v);
    for (int64_t j = 0; j < v; ++j) s[j] = (h * items[j]).sum().item<double>();
    const int64_t a = set.answers[i];
    for (int64_t k = 0; k < set.history_len[i]; ++k) {
      const int64_t j = set.history[i][k];
      if (p == Protocol::kReference) s[j] = 0;
      else if (j != a) s[j] = -INFINITY;
    }
    if (p == Protocol::kStrict) s[0] = s[v - 1] = -INFINITY;
    out.push_back(std::move(s));
  }
  return out;
}

/// Ranks by counting competitors.
std::vector<int64_t> brute_force_ranks(Model& m, const EvalSet& set, Protocol p, TieRule ties) {
  std::vector<int64_t> ranks;
  const std::vector<std::vector<double>> scores = brute_force_scores(m, set, p);
  for (size_t i = 0; i < set.users.size(); ++i) {
    const std::vector<double>& s = scores[i];
    const int64_t a = set.answers[i];
    int64_t r = 0;
    for (int64_t j = 0; j < static_cast<int64_t>(s.size()); ++j)
      if (j != a && (ties == TieRule::kOptimistic ? s[j] > s[a] : s[j] >= s[a])) ++r;
    ranks.push_back(r);
  }
  return ranks;
}

/// Top-k lists by sorting every item (ids 1..v-2) by score, then id; -inf never listed.
std::vector<int32_t> brute_force_top(Model& m, const EvalSet& set, Protocol p, int64_t k) {
  std::vector<int32_t> out;
  for (const std::vector<double>& s : brute_force_scores(m, set, p)) {
    std::vector<int32_t> ids;
    for (int32_t j = 1; j + 1 < static_cast<int32_t>(s.size()); ++j)
      if (std::isfinite(s[j])) ids.push_back(j);
    std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return s[a] > s[b]; });
    ids.resize(k, 0);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

struct Fixture {
  Dataset data;
  std::shared_ptr<TableModel> model;
  Fixture(int64_t users, int64_t items, uint64_t seed, bool coarse) {
    data = make_markov_dataset(users, items, 4, 60, seed);
    torch::manual_seed(seed);
    torch::Tensor reps = torch::randn({data.item_size(), 8});
    torch::Tensor table = torch::randn({data.item_size(), 8});
    if (coarse) {  // small integers: many exact ties
      reps = reps.round();
      table = (table * 0.7).round();
    }
    model = std::make_shared<TableModel>(reps, table);
  }
};

}  // namespace

TEST(Metrics, HandComputed) {
  // ranks 0, 1, 4, 30: hit@5 = 3/4; ndcg@5 = (1 + 1/log2(3) + 1/log2(6)) / 4.
  auto m = metrics_from_ranks({0, 1, 4, 30}, {1, 5});
  EXPECT_DOUBLE_EQ(m["hit@1"], 0.25);
  EXPECT_DOUBLE_EQ(m["ndcg@1"], 0.25);
  EXPECT_DOUBLE_EQ(m["hit@5"], 0.75);
  EXPECT_NEAR(m["ndcg@5"], (1 + 1 / std::log2(3.0) + 1 / std::log2(6.0)) / 4, 1e-12);
  EXPECT_NEAR(m["mrr"], (1 + 0.5 + 0.2 + 1.0 / 31) / 4, 1e-12);
  EXPECT_EQ(format_metrics(m, {5}), "HIT@5 0.7500  NDCG@5 0.5044  MRR 0.4331");
}

TEST(Evaluator, MatchesBruteForceUnderBothProtocolsAndTieRules) {
  for (bool coarse : {false, true}) {
    Fixture f(60, 40, 5, coarse);
    EvalSet set = make_eval_set(f.data, Stage::kTest);
    for (Protocol p : {Protocol::kReference, Protocol::kStrict})
      for (TieRule t : {TieRule::kOptimistic, TieRule::kPessimistic}) {
        EvalOptions o;
        o.protocol = p;
        o.ties = t;
        RankingEvaluator ev(o);
        EvalResult r = ev.evaluate(*f.model, f.data, set);
        EXPECT_EQ(r.ranks, brute_force_ranks(*f.model, set, p, t)) << o.label() << " coarse=" << coarse;
        // The other tie rule from the tie counts: its ranks as the slow path gives them, its
        // metrics (exposure too) and label as an evaluation under that rule gives them.
        EvalOptions u = o;
        u.ties = t == TieRule::kOptimistic ? TieRule::kPessimistic : TieRule::kOptimistic;
        const EvalResult other = under_other_ties(r, o), direct = RankingEvaluator(u).evaluate(*f.model, f.data, set);
        EXPECT_EQ(other.ranks, brute_force_ranks(*f.model, set, p, u.ties)) << o.label() << " coarse=" << coarse;
        EXPECT_EQ(other.metrics, direct.metrics) << o.label() << " coarse=" << coarse;
        EXPECT_EQ(other.label, u.label());
        EXPECT_EQ(other.tied, direct.tied);
        // The coarse scores tie often enough for the two rules to part.
        if (coarse) EXPECT_NE(other.ranks, r.ranks) << o.label();
      }
  }
}

TEST(Evaluator, ReferenceAndStrictDifferAsSpecified) {
  // One user, history {1, 2}, answer 3; history items, the padding row and the mask row
  // all outscore the answer.
  Dataset d;
  d.items = {1, 2, 3};
  d.offsets = {0, 3};
  d.num_items = 3;
  // rows: 0 pad, 1, 2, 3 answer, 4 mask. Representation = [1].
  torch::Tensor table = torch::tensor({{-0.5f}, {5.f}, {4.f}, {-1.f}, {3.f}});
  TableModel m(torch::ones({5, 1}), table);
  EvalSet set = make_eval_set(d, Stage::kTest);
  EvalOptions o;
  RankingEvaluator ref(o);
  // Reference: history scores 0 > -1, pad -0.5 > -1, mask 3 > -1: rank 4.
  EXPECT_EQ(ref.evaluate(m, d, set).ranks, std::vector<int64_t>{4});
  o.protocol = Protocol::kStrict;
  RankingEvaluator strict(o);
  EXPECT_EQ(strict.evaluate(m, d, set).ranks, std::vector<int64_t>{0});
  EXPECT_EQ(o.label(), "full/strict/optimistic");
}

TEST(Evaluator, IndependentOfBlockSizesAndThreads) {
  Fixture f(300, 150, 9, false);
  EvalSet set = make_eval_set(f.data, Stage::kValid);
  EvalOptions base;
  base.protocol = Protocol::kStrict;
  std::vector<int64_t> expected = RankingEvaluator(base).evaluate(*f.model, f.data, set).ranks;
  const int threads = at::get_num_threads();
  for (int64_t ub : {1, 7, 64, 100000})
    for (int64_t ib : {0, 1, 13, 64})
      for (int t : {1, 2}) {
        at::set_num_threads(t);
        EvalOptions o = base;
        o.user_block = ub;
        o.item_block = ib;
        EXPECT_EQ(RankingEvaluator(o).evaluate(*f.model, f.data, set).ranks, expected)
            << "user_block " << ub << " item_block " << ib << " threads " << t;
      }
  at::set_num_threads(threads);
}

TEST(Evaluator, SampledCandidatesAreLabelledAndValid) {
  Fixture f(80, 200, 2, false);
  EvalSet set = make_eval_set(f.data, Stage::kTest);
  for (Candidates c : {Candidates::kUniform100, Candidates::kPopularity100}) {
    EvalOptions o;
    o.candidates = c;
    RankingEvaluator ev(o);
    EvalResult r = ev.evaluate(*f.model, f.data, set);
    EXPECT_EQ(r.label, (c == Candidates::kUniform100 ? "uni100" : "pop100") + std::string("/reference/optimistic"));
    for (int64_t rank : r.ranks) {
      EXPECT_GE(rank, 0);
      EXPECT_LE(rank, 100);
    }
    // Same seed, same candidates, same ranks.
    EXPECT_EQ(RankingEvaluator(o).evaluate(*f.model, f.data, set).ranks, r.ranks);
    // The other tie rule from the tie counts, as an evaluation under it gives it.
    EvalOptions u = o;
    u.ties = TieRule::kPessimistic;
    EXPECT_EQ(under_other_ties(r, o).ranks, RankingEvaluator(u).evaluate(*f.model, f.data, set).ranks);
  }
}

TEST(Evaluator, RanksRoundTripThroughHdf5) {
  seqrec::testing::TempDir dir;
  EvalResult r;
  r.users = {3, 1, 2};
  r.ranks = {0, 17, 12000};
  r.label = "full/reference/optimistic";
  save_ranks(r, dir.file("r.h5"));
  EvalResult back = load_ranks(dir.file("r.h5"));
  EXPECT_EQ(back.users, r.users);
  EXPECT_EQ(back.ranks, r.ranks);
  EXPECT_EQ(back.label, r.label);
}

TEST(Evaluator, ANonFiniteAnswerScoreRanksLast) {
  // A diverged model's NaN scores compare false with everything, which would rank the answer
  // first (a perfect HIT@1); it ranks last, under both protocols and both tie rules, and the
  // other users' ranks do not move.
  Dataset d = make_markov_dataset(40, 120, 5, 12, 2);
  EvalSet set = make_eval_set(d, Stage::kTest);
  std::vector<int64_t> idx(set.users.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  torch::manual_seed(4);
  torch::Tensor h = torch::randn({static_cast<int64_t>(idx.size()), 8}), items = torch::randn({d.item_size(), 8});
  torch::Tensor broken = h.clone();
  broken[0].fill_(std::numeric_limits<float>::quiet_NaN());
  for (Protocol p : {Protocol::kReference, Protocol::kStrict})
    for (TieRule t : {TieRule::kOptimistic, TieRule::kPessimistic}) {
      EvalOptions o;
      o.protocol = p;
      o.ties = t;
      const auto sound = RankingEvaluator(o).rank_block(h, items, set, idx);
      const auto rank = RankingEvaluator(o).rank_block(broken, items, set, idx);
      EXPECT_EQ(rank.ranks[0], d.item_size() - 1) << o.label();
      EXPECT_EQ(rank.tied[0], 0) << o.label();  // last under the other rule too
      EXPECT_EQ(std::vector<int64_t>(rank.ranks.begin() + 1, rank.ranks.end()),
                std::vector<int64_t>(sound.ranks.begin() + 1, sound.ranks.end()));
    }
}

TEST(Exposure, HandComputed) {
  // Items 1..4 with training counts 5, 3, 1, 0 (N = 9); three users' top-2 lists, the last
  // one short (a 0 fills it).
  TopLists lists{2, {1, 2, 1, 3, 1, 0}};
  auto m = exposure_metrics(lists, {1, 2}, {0, 5, 3, 1, 0, 0}, 4);
  auto info = [](double count) { return -std::log2((count + 1) / (9.0 + 4)); };
  // @1: item 1 three times. Exposure sorted [0, 0, 0, 3]: Gini = (2*4 - 4 - 1) * 3 / (4 * 3).
  EXPECT_DOUBLE_EQ(m["coverage@1"], 0.25);
  EXPECT_DOUBLE_EQ(m["gini@1"], 0.75);
  EXPECT_DOUBLE_EQ(m["avgpop@1"], 5);
  EXPECT_DOUBLE_EQ(m["novelty@1"], info(5));
  // @2: exposure [3, 1, 1, 0] -> sorted [0, 1, 1, 3]: (-3*0 - 1*1 + 1*1 + 3*3) / (4 * 5) = 0.45.
  EXPECT_DOUBLE_EQ(m["coverage@2"], 0.75);
  EXPECT_DOUBLE_EQ(m["gini@2"], 0.45);
  EXPECT_DOUBLE_EQ(m["avgpop@2"], (4.0 + 3.0 + 5.0) / 3);
  EXPECT_NEAR(m["novelty@2"], ((info(5) + info(3)) / 2 + (info(5) + info(1)) / 2 + info(5)) / 3, 1e-12);
  // Equal exposure is Gini 0; one item taking every slot of a 4-item catalogue is (n-1)/n.
  EXPECT_DOUBLE_EQ(exposure_metrics({1, {1, 2, 3, 4}}, {1}, {0, 1, 1, 1, 1, 0}, 4)["gini@1"], 0);
  EXPECT_EQ(exposure_metric_names({5}), (std::vector<std::string>{"coverage@5", "gini@5", "avgpop@5", "novelty@5"}));
  EXPECT_TRUE(is_exposure_metric("gini@10"));
  EXPECT_FALSE(is_exposure_metric("ndcg@10"));
  EXPECT_FALSE(is_exposure_metric("gini"));
}

TEST(Exposure, TopListsMatchBruteForceUnderBlockingAndTies) {
  for (bool coarse : {false, true}) {
    Fixture f(60, 40, 7, coarse);
    EvalSet set = make_eval_set(f.data, Stage::kTest);
    for (Protocol p : {Protocol::kReference, Protocol::kStrict}) {
      const std::vector<int32_t> expected = brute_force_top(*f.model, set, p, 20);
      for (int64_t ib : {0, 1, 7}) {
        EvalOptions o;
        o.protocol = p;
        o.item_block = ib;
        o.user_block = 5;
        EvalResult r = RankingEvaluator(o).evaluate(*f.model, f.data, set);
        EXPECT_EQ(r.top.k, 20);
        EXPECT_EQ(r.top.items, expected) << protocol_name(p) << " coarse " << coarse << " item_block " << ib;
        EXPECT_EQ(r.metrics.at("coverage@10"),
                  exposure_metrics(r.top, {10}, training_popularity(f.data), f.data.num_items).at("coverage@10"));
      }
    }
  }
  // Validation and sampled candidates keep no lists.
  Fixture f(30, 200, 3, false);
  EXPECT_EQ(RankingEvaluator({}).evaluate(*f.model, f.data, make_eval_set(f.data, Stage::kValid)).top.k, 0);
  EvalOptions sampled;
  sampled.candidates = Candidates::kUniform100;
  EvalResult r = RankingEvaluator(sampled).evaluate(*f.model, f.data, make_eval_set(f.data, Stage::kTest));
  EXPECT_EQ(r.top.k, 0);
  EXPECT_FALSE(r.metrics.count("gini@10"));
}

TEST(Sequentiality, ShuffledHistoriesArePermutationsWithinTheWindowAndSeeded) {
  Dataset d = make_markov_dataset(50, 80, 3, 40, 6);
  const EvalSet set = make_eval_set(d, Stage::kTest);
  const int64_t window = 10;
  for (bool keep_last : {false, true}) {
    const EvalSet a = shuffle_histories(set, window, 3, keep_last), b = shuffle_histories(set, window, 3, keep_last);
    const EvalSet c = shuffle_histories(set, window, 4, keep_last);
    int64_t moved = 0, differs = 0;
    for (size_t i = 0; i < set.users.size(); ++i) {
      const int64_t n = set.history_len[i], cut = n - std::min(window, n);
      std::vector<int32_t> orig(set.history[i], set.history[i] + n), mine(a.history[i], a.history[i] + n);
      EXPECT_EQ(a.answers[i], set.answers[i]);
      EXPECT_EQ(std::vector<int32_t>(b.history[i], b.history[i] + n), mine) << "same seed, same order";
      differs += std::vector<int32_t>(c.history[i], c.history[i] + n) != mine;
      // Outside the window nothing moves; inside, the same items; keep_last pins the last.
      EXPECT_TRUE(std::equal(orig.begin(), orig.begin() + cut, mine.begin()));
      std::vector<int32_t> x(orig.begin() + cut, orig.end()), y(mine.begin() + cut, mine.end());
      moved += x != y;
      std::sort(x.begin(), x.end());
      std::sort(y.begin(), y.end());
      EXPECT_EQ(x, y);
      if (keep_last) EXPECT_EQ(mine.back(), orig.back());
    }
    EXPECT_GT(moved, static_cast<int64_t>(set.users.size()) / 2);
    EXPECT_GT(differs, 0) << "another seed, another order";
  }
  // The shuffled set owns its histories: the original is untouched and copies stay valid.
  EvalSet copy;
  {
    copy = shuffle_histories(set, window, 3, false);
  }
  for (size_t i = 0; i < set.users.size(); ++i)
    EXPECT_TRUE(std::equal(set.history[i], set.history[i] + set.history_len[i], d.begin(set.users[i])));
  EXPECT_EQ(copy.history.size(), set.users.size());
}

TEST(Sequentiality, TheEvaluatorShufflesAndLabelsIt) {
  // A model that only looks at the last item: keep-last shuffling leaves its ranks alone, full
  // shuffling moves them; exclusions (the history's set) are the same either way.
  Fixture f(80, 60, 8, false);
  EvalSet set = make_eval_set(f.data, Stage::kTest);
  EvalOptions o;
  const EvalResult original = RankingEvaluator(o).evaluate(*f.model, f.data, set);
  o.shuffled_history = true;
  o.keep_last = true;
  EXPECT_EQ(o.label(), "full/reference/optimistic/shuffled-keep-last");
  EXPECT_EQ(RankingEvaluator(o).evaluate(*f.model, f.data, set).ranks, original.ranks);
  o.keep_last = false;
  const EvalResult shuffled = RankingEvaluator(o).evaluate(*f.model, f.data, set);
  EXPECT_NE(shuffled.ranks, original.ranks);
  EXPECT_EQ(shuffled.label, "full/reference/optimistic/shuffled");
  EXPECT_EQ(RankingEvaluator(o).evaluate(*f.model, f.data, set).ranks, shuffled.ranks);
}

TEST(ItemBlock, TheAutomaticRuleKeepsARowBlocksScoresUnderItsBudget) {
  // 256 rows of floats are 1 KiB a column: all columns up to the budget, then the columns
  // that fit (at least 1,024); a requested block is taken as it is.
  EXPECT_EQ(item_block_for(0, 256, 262144, 4), 262144);                 // exactly 256 MiB
  EXPECT_EQ(item_block_for(0, 256, 262145, 4), 262144);
  EXPECT_EQ(item_block_for(0, 256, 1 << 20, 4, 1LL << 30), 1 << 20);    // the losses' CPU budget
  EXPECT_EQ(item_block_for(0, 256, (1 << 20) + 1, 4, 1LL << 30), 1 << 20);
  EXPECT_EQ(item_block_for(0, 1 << 20, 5000, 4), 1024);                 // never below 1,024
  EXPECT_EQ(item_block_for(0, 1 << 20, 1000, 4), 1000);                 // nor past the catalogue
  EXPECT_EQ(item_block_for(77, 256, 1 << 20, 4), 77);
}
