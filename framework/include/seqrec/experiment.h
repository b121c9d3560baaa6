#pragma once
/// The one experiment pipeline: what `seqrec train` runs (and `bench`, through it), what
/// `demo` runs per method, and what tests call directly.
#include <memory>
#include <ostream>
#include <string>

#include "seqrec/cache.h"
#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/evaluator.h"
#include "seqrec/model.h"
#include "seqrec/options.h"
#include "seqrec/run_result.h"

namespace seqrec {

/// A dataset as a run sees it: the data, its cache entry and the source it was read from.
struct LoadedData {
  Dataset data;
  CacheInfo cache;
  std::string path;
  DatasetStats stats;  ///< computed once, at load
  SplitSummary split;  ///< the --split made at load (data.split)
  DatasetInfo info() const;
};
/// Reads --data (a file in --format, or "synthetic:markov", generated once into the cache
/// directory) through the cache, and makes the --split.
LoadedData load_data(const DataOptions& o);

/// The protocol a result records; its label is the evaluator's, prefixed "temporal/" under
/// the temporal split, so `table` never mixes the splits in a column.
ProtocolInfo protocol_info(const EvalOptions& e, const SplitSummary& split);
/// The commit and machine of this process (with the --device it runs on), for results.
Provenance provenance(const std::string& device);
/// What every result records of its run, train or eval: the schema version, the data, the
/// protocol, the config and its hash, the provenance, and a data-parallel job's size.
RunResult result_of_run(const Config& c, const LoadedData& l, const EvalOptions& eo);

/// What one training run gives: its result, its test ranks and the trained model (best
/// weights restored).
struct Experiment {
  RunOptions options;  ///< the run's keys, read once
  RunResult result;
  EvalResult test;
  std::shared_ptr<Model> model;
};

/// Loads the data, builds the model, trainer and (when the trainer uses one) loss the
/// config names, fits with early stopping (a model with nothing to train is validated once),
/// tests under both history protocols and assembles the result. Progress goes to `log`.
/// Writes nothing (a resumable run's training state aside).
Experiment run_experiment(const Config& c, std::ostream& log);

/// Writes what the config asks for: the rank file (--ranks) and the checkpoint (--save)
/// first, the result (--output) last, since the result marks a run finished for bench and
/// table; then removes the training state unless --keep-state.
void write_experiment(Experiment& e, std::ostream& log);

}  // namespace seqrec
