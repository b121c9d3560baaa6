#pragma once
// A run's training state (OUTPUT.state): everything a stopped run needs to continue bit for
// bit, written atomically with a checksum and read back only by the config that wrote it.
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/config.h"
#include "seqrec/model.h"
#include "seqrec/trainer.h"

namespace seqrec {

/// Where a run stands: the epoch in progress and the next step in it, with everything the
/// loop has accumulated so far.
struct RunPosition {
  int64_t epoch = 1;
  int64_t next_batch = 0;
  double loss_sum = 0;
  double epoch_seconds = 0;    ///< training time of the epoch in progress so far
  double seconds_before = 0;   ///< wall time of the run's earlier processes
  int64_t since_best = 0;
  std::mt19937_64 rng, epoch_rng;  ///< the stream now, and as it was when the epoch drew its batch order
};

/// Writes the state; returns its size in bytes.
int64_t write_state(const std::string& path, const Config& config, Model& model, const Trainer& trainer,
                    const std::vector<std::pair<std::string, torch::Tensor>>& best, const FitResult& result,
                    const RunPosition& at, double seconds_now, torch::Device device);

/// Restores a run from its state; false when there is none. One-line Error when the file
/// cannot be read or another config wrote it.
bool read_state(const std::string& path, const Config& config, Model& model, Trainer& trainer,
                std::vector<std::pair<std::string, torch::Tensor>>* best, FitResult* result, RunPosition* at,
                torch::Device device);

/// Where a state left its run, read without building the model (`bench --dry-run`).
struct StateProgress {
  int64_t epoch = 1, next_batch = 0, best_epoch = 0, resumes = 0;
  double best_valid = 0, seconds = 0;
  std::string metric, epochs;  ///< the run's config: the validation metric, the epoch cap
};

/// One-line Error when the file cannot be read.
StateProgress read_state_progress(const std::string& path);

}  // namespace seqrec
