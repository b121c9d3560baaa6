#include "seqrec/options.h"

#include "seqrec/error.h"
#include "seqrec/trainer.h"

namespace seqrec {

DataOptions data_options_from(const Config& c) {
  DataOptions o;
  o.data = c.str("data");
  if (o.data.empty()) throw Error("--data is required");
  o.cache_dir = c.str("cache-dir");
  o.dataset_name = c.str("dataset-name");
  o.format = c.str("format");
  o.k_core = static_cast<int>(c.integer("k-core"));
  if (!c.str("min-rating").empty()) o.min_rating = to_real(c.str("min-rating"), "--min-rating");
  o.split = {c.str("split"), c.str("split.valid-from"), c.str("split.test-from"), c.flag("split.valid-history")};
  return o;
}

TrainOptions train_options_from(const Config& c) {
  TrainOptions o;
  o.epochs = c.integer("epochs");
  o.patience = c.integer("patience");
  o.eval_every = c.integer("eval-every");
  o.state_every = c.integer("state-every");
  o.state_minutes = c.real("state-minutes");
  o.batch_size = c.integer("batch-size");
  o.seed = static_cast<uint64_t>(c.integer("seed"));
  o.metric = c.str("metric");
  o.valid_ties = c.str("valid-ties");
  o.precision = c.str("precision");
  o.sampler = c.str("sampler");
  o.device = c.str("device");
  o.batching = c.choice("batching", batching_names());
  o.examples = c.choice("examples", examples_names());
  o.progress = c.choice("progress", progress_setting_names());
  o.resume = c.flag("resume");
  o.test = c.flag("test");
  o.state_path = state_path_of(c);
  return o;
}

RunOptions run_options_from(const Config& c) {
  RunOptions o;
  o.model = c.str("model");
  o.trainer = c.str("trainer");
  o.loss = c.str("loss");
  o.init = c.str("init");
  o.output = c.str("output");
  o.save = c.str("save");
  o.ranks = c.str("ranks");
  o.keep_state = c.flag("keep-state");
  o.data = data_options_from(c);
  o.train = train_options_from(c);
  o.eval = eval_options_from(c);
  if (!o.train.test && !o.ranks.empty()) throw Error("--ranks holds test ranks: it needs --test true");
  return o;
}

ProcessOptions process_options_from(const Config& c) {
  ProcessOptions o;
  o.threads = c.integer("threads");
  o.dropout_rng = c.choice("dropout-rng", dropout_rng_names());
  o.progress = c.choice("progress", progress_setting_names());
  o.progress_every = c.real("progress-every");
  o.seed = static_cast<uint64_t>(c.integer("seed"));
  o.device = c.str("device");
  if (o.device != "cpu" && o.device.rfind("cuda", 0) != 0) throw Error("--device must be cpu or cuda[:N]");
  return o;
}

}  // namespace seqrec
