// The typed options a run reads once from its config, and the value registries (formats,
// metrics) that plugins add to through PluginHost.
#include <gtest/gtest.h>

#include "seqrec/error.h"
#include "seqrec/metric.h"
#include "seqrec/options.h"
#include "seqrec/plugin.h"
#include "test_util.h"

namespace seqrec {
namespace {

using testing::default_config;
using testing::error_of;

TEST(Options, RunOptionsCarryEveryKeyTyped) {
  const Config c = default_config({{"data", "d.txt"},
                                   {"output", "r.json"},
                                   {"batching", "padded"},
                                   {"examples", "window-prefixes"},
                                   {"progress", "none"},
                                   {"split", "temporal"},
                                   {"split.valid-history", "false"},
                                   {"min-rating", "3.5"},
                                   {"eval-every", "3"},
                                   {"ks", "1,7"},
                                   {"seed", "42"}});
  const RunOptions o = run_options_from(c);
  EXPECT_EQ(o.model, "sasrec");
  EXPECT_EQ(o.output, "r.json");
  EXPECT_EQ(o.train.state_path, "r.json.state");
  EXPECT_EQ(o.train.batching, Batching::kPadded);
  EXPECT_EQ(o.train.examples, Examples::kWindowPrefixes);
  EXPECT_EQ(o.train.progress, ProgressSetting::kNone);
  EXPECT_EQ(o.train.eval_every, 3);
  EXPECT_EQ(o.train.seed, 42u);
  EXPECT_EQ(o.eval.seed, 42u);
  EXPECT_EQ(o.eval.ks, (std::vector<int64_t>{1, 7}));
  EXPECT_EQ(o.data.split.kind, "temporal");
  EXPECT_FALSE(o.data.split.with_valid_history);
  ASSERT_TRUE(o.data.min_rating.has_value());
  EXPECT_DOUBLE_EQ(*o.data.min_rating, 3.5);
  EXPECT_EQ(run_options_from(default_config({{"data", "d.txt"}})).train.state_path, "");  // no --output, no state
}

TEST(Options, RefusalsAreOneLine) {
  EXPECT_EQ(error_of([] { run_options_from(default_config()); }), "--data is required");
  EXPECT_EQ(error_of([] { run_options_from(default_config({{"data", "d"}, {"test", "false"}, {"ranks", "r.h5"}})); }),
            "--ranks holds test ranks: it needs --test true");
  EXPECT_EQ(error_of([] { process_options_from(default_config({{"device", "gpu"}})); }),
            "--device must be cpu or cuda[:N]");
  EXPECT_EQ(error_of([] { data_options_from(default_config({{"data", "d"}, {"min-rating", "high"}})); }),
            "--min-rating: 'high' is not a valid float");
  const ProcessOptions p = process_options_from(default_config({{"threads", "3"}, {"dropout-rng", "torch"}}));
  EXPECT_EQ(p.threads, 3);
  EXPECT_EQ(p.dropout_rng, DropoutRng::kTorch);
}

TEST(ValueRegistries, MetricsAndFormatsComeThroughThePluginHost) {
  // The built-ins registered like a plugin's, in order: results list hit, ndcg, mrr.
  ASSERT_GE(metrics().entries().size(), 3u);
  EXPECT_EQ(metrics().entries()[0].first, "hit");
  EXPECT_EQ(metrics().entries()[2].first, "mrr");
  EXPECT_EQ(metrics().find("ndcg")->origin, "builtin");
  EXPECT_EQ(formats().names().substr(0, 28), "csv, inter, lines, movielens");
  Metric twice = metrics().entries()[0].second;
  twice.origin = "/p/plugin.so";
  EXPECT_EQ(error_of([&] { metrics().add("hit", twice); }), "metric 'hit' is registered twice: by builtin and by /p/plugin.so");
  EXPECT_EQ(error_of([&] { metrics().add("top@5", twice); }), "metric name 'top@5': empty or with '@'");
  EXPECT_EQ(error_of([&] { metrics().add("", twice); }), "metric name '': empty or with '@'");
  EXPECT_EQ(metrics().find("top"), nullptr);
}

}  // namespace
}  // namespace seqrec
