// The temporal split against a brute-force one on generated timestamped data, and
// leave-one-out through the same interface.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "seqrec/batch.h"
#include "seqrec/dataset.h"
#include "seqrec/error.h"

using namespace seqrec;

namespace {

/// Users with random lengths and times on a shared timeline (integer times, so many ties,
/// some exactly at the cuts).
Dataset timed_data(uint64_t seed) {
  std::mt19937_64 rng(seed);
  InteractionTable t;
  for (int u = 0; u < 300; ++u) {
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i)
      t.add("u" + std::to_string(u), "i" + std::to_string(rng() % 60), static_cast<double>(rng() % 1000));
  }
  return t.build("timed.csv", 0);
}

struct Expected {
  std::vector<std::vector<int32_t>> train;  // per user: training items
  std::vector<int64_t> valid_users, valid_answers, valid_history, test_users, test_answers, test_history;
  int64_t valid_no_history = 0, test_no_history = 0;
};

/// The split written from its definition, one user at a time, from (time, item) pairs.
Expected brute_force(const Dataset& d, double valid_cut, double test_cut, bool with_valid) {
  Expected e;
  for (int64_t u = 0; u < d.num_users(); ++u) {
    std::vector<std::pair<double, int32_t>> ev;
    for (int64_t i = 0; i < d.length(u); ++i) ev.emplace_back(d.timestamps[d.offsets[u] + i], d.begin(u)[i]);
    std::vector<int32_t> train, before_test;
    std::optional<int32_t> valid, test;
    for (const auto& [t, item] : ev) {
      if (t < valid_cut) train.push_back(item);
      if (t >= valid_cut && t < test_cut && !valid) valid = item;
      if (t >= test_cut && !test) test = item;
      if (t < test_cut) before_test.push_back(item);
    }
    e.train.push_back(train);
    if (valid) {
      if (train.empty()) ++e.valid_no_history;
      else e.valid_users.push_back(u), e.valid_answers.push_back(*valid), e.valid_history.push_back(train.size());
    }
    if (test) {
      const size_t h = with_valid ? before_test.size() : train.size();
      if (h == 0) ++e.test_no_history;
      else e.test_users.push_back(u), e.test_answers.push_back(*test), e.test_history.push_back(h);
    }
  }
  return e;
}

}  // namespace

TEST(Split, TemporalMatchesBruteForce) {
  for (bool with_valid : {true, false}) {
    Dataset d = timed_data(3);
    std::vector<double> times = d.timestamps;
    std::sort(times.begin(), times.end());
    const SplitSummary s = make_split(d, {"temporal", "q0.7", "850", with_valid});
    EXPECT_EQ(s.valid_cut, times[static_cast<size_t>(0.7 * times.size())]);
    EXPECT_EQ(s.test_cut, 850);
    const Expected e = brute_force(d, s.valid_cut, s.test_cut, with_valid);
    // Training sees exactly the interactions before the validation cut.
    std::vector<double> counts(d.item_size(), 0);
    int64_t train_users = 0;
    for (int64_t u = 0; u < d.num_users(); ++u) {
      EXPECT_EQ(train_length(d, u), static_cast<int64_t>(e.train[u].size()));
      for (int32_t i : e.train[u]) counts[i] += 1;
      train_users += e.train[u].size() >= 2;
      for (int64_t i = 0; i < train_length(d, u); ++i) EXPECT_LT(d.timestamps[d.offsets[u] + i], s.valid_cut);
    }
    EXPECT_EQ(training_popularity(d), counts);
    EXPECT_EQ(s.train_users, train_users);
    TrainBatcher batcher(d, 50, 16, Batching::kPacked);
    EXPECT_EQ(batcher.num_examples(), train_users);
    std::mt19937_64 rng(1);
    int64_t positions = 0;
    for (const Batch& b : batcher.epoch(rng)) positions += (b.targets > 0).sum().item<int64_t>();
    EXPECT_EQ(positions, batcher.num_positions());
    // Exact validation and test examples.
    for (Stage stage : {Stage::kValid, Stage::kTest}) {
      const EvalSet set = make_eval_set(d, stage);
      const bool v = stage == Stage::kValid;
      EXPECT_EQ(set.users, v ? e.valid_users : e.test_users);
      EXPECT_EQ(set.answers, v ? e.valid_answers : e.test_answers);
      EXPECT_EQ(set.history_len, v ? e.valid_history : e.test_history);
      for (size_t i = 0; i < set.users.size(); ++i) EXPECT_EQ(set.history[i], d.begin(set.users[i]));
    }
    EXPECT_EQ(s.valid_users, static_cast<int64_t>(e.valid_users.size()));
    EXPECT_EQ(s.test_users, static_cast<int64_t>(e.test_users.size()));
    EXPECT_EQ(s.valid_no_history, e.valid_no_history);
    EXPECT_EQ(s.test_no_history, e.test_no_history);
    EXPECT_GT(e.valid_no_history + e.test_no_history, 0) << "the data should exercise users left out";
    EXPECT_NE(format_split(s).find("split temporal: validation from "), std::string::npos);
  }
}

TEST(Split, LeaveOneOutIsTheEmptySplit) {
  Dataset d = make_markov_dataset(40, 30, 2, 9, 4);
  const SplitSummary s = make_split(d, {});
  EXPECT_TRUE(d.split.empty());
  const EvalSet test = make_eval_set(d, Stage::kTest), valid = make_eval_set(d, Stage::kValid);
  int64_t trained = 0;
  for (int64_t u = 0; u < d.num_users(); ++u) {
    const int64_t n = d.length(u);
    EXPECT_EQ(train_length(d, u), std::max<int64_t>(0, n - 2));
    trained += n >= 4;
  }
  for (size_t i = 0; i < test.users.size(); ++i) {
    EXPECT_EQ(test.history_len[i], d.length(test.users[i]) - 1);
    EXPECT_EQ(test.answers[i], d.begin(test.users[i])[test.history_len[i]]);
  }
  for (size_t i = 0; i < valid.users.size(); ++i) EXPECT_EQ(valid.history_len[i], d.length(valid.users[i]) - 2);
  EXPECT_EQ(s.train_users, trained);
  EXPECT_EQ(s.test_users, static_cast<int64_t>(test.users.size()));
  EXPECT_EQ(format_split(s).rfind("split leave-one-out: ", 0), 0u);
}

TEST(Split, TemporalErrorsAreOneLine) {
  Dataset d = make_markov_dataset(10, 30, 4, 9, 4);
  auto error = [&](Dataset x, SplitOptions o) {
    try {
      make_split(x, o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(d, {"temporal"}).find("--split temporal needs timestamps, and markov"), std::string::npos)
      << error(d, {"temporal"});
  Dataset timed = timed_data(1);
  EXPECT_EQ(error(timed, {"temporal", "q0.9", "q0.8"}), "--split.test-from (q0.8) falls before --split.valid-from (q0.9)");
  EXPECT_EQ(error(timed, {"temporal", "q1.5", "q0.9"}), "--split.valid-from q1.5: a quantile must lie strictly between 0 and 1");
  EXPECT_NE(error(timed, {"temporal", "soon", "q0.9"}).find("--split.valid-from"), std::string::npos);
  EXPECT_EQ(error(timed, {"random"}), "--split random: expected loo or temporal");
}
