#pragma once
/// A run's framework keys as typed values, read and checked once from its Config. The
/// pipeline (experiment.cpp), the epoch loop (trainer.cpp), the process set-up (cli.cpp) and
/// eval read these members, not key names. A component's own keys (sasrec.*, cl.*, ...) stay
/// with the component, which reads them in its factory.
#include <cstdint>
#include <optional>
#include <string>

#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/dropout.h"
#include "seqrec/evaluator.h"
#include "seqrec/progress.h"

namespace seqrec {

/// What load_data reads: the source, how to prepare it, the split.
struct DataOptions {
  std::string data;          ///< a file, or "synthetic:markov"
  std::string cache_dir;     ///< as given ("~" expanded where used)
  std::string dataset_name;  ///< the name in results; "" = the file's
  std::string format;        ///< "auto" (by the file's ending) or a registered format
  int k_core = 0;
  std::optional<double> min_rating;
  SplitOptions split;
};
DataOptions data_options_from(const Config& c);

/// What the epoch loop (fit) reads.
struct TrainOptions {
  int64_t epochs = 0, patience = 0, eval_every = 1, state_every = 1, batch_size = 0;
  double state_minutes = 0;  ///< also write the state mid-epoch after this many minutes (0: never)
  uint64_t seed = 1;
  std::string metric;      ///< the validation metric that picks the best epoch
  std::string valid_ties = "same";  ///< its tie rule: same (the evaluator's), optimistic or pessimistic
  std::string precision;   ///< fp32, bf16, ...
  std::string sampler;     ///< a registered negative sampler
  std::string device;      ///< cpu or cuda[:N]
  Batching batching = Batching::kSplit;
  Examples examples = Examples::kSequences;
  ProgressSetting progress = ProgressSetting::kAuto;
  bool resume = false, test = true;
  std::string state_path;  ///< the training state beside --output; "" without one
};
TrainOptions train_options_from(const Config& c);

/// What one training run reads besides its data, epoch loop and evaluation.
struct RunOptions {
  std::string model, trainer, loss;
  std::string init;                 ///< starting weights; "" = none
  std::string output, save, ranks;  ///< files to write; "" = none
  bool keep_state = false;
  DataOptions data;
  TrainOptions train;
  EvalOptions eval;
};
/// Also refuses, in one line, --ranks without --test.
RunOptions run_options_from(const Config& c);

/// The process-wide settings every run command applies before it runs (apply_runtime).
struct ProcessOptions {
  int64_t threads = 0;  ///< LibTorch intra-op threads; 0 = one per core
  DropoutRng dropout_rng = DropoutRng::kFast;
  ProgressSetting progress = ProgressSetting::kAuto;
  double progress_every = 30;
  uint64_t seed = 1;
  std::string device;
};
/// Also refuses a --device that is neither cpu nor cuda[:N].
ProcessOptions process_options_from(const Config& c);

}  // namespace seqrec
