#pragma once
/// seqrec tune: the same search budget for every method, selection on validation only.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "seqrec/plan.h"

namespace seqrec {

/// One key's search space: choice a, b, c | uniform lo hi | loguniform lo hi.
struct SearchDimension {
  enum class Kind { kChoice, kUniform, kLogUniform } kind = Kind::kChoice;
  std::vector<std::string> choices;
  double lo = 0, hi = 0;
  /// A value drawn from the dimension, as configuration text.
  std::string draw(std::mt19937_64& rng) const;
};
/// Parses "choice 1, 4, 16", "uniform 0.1 0.5" or "loguniform 1e-4 1e-2"; an Error naming `what`.
SearchDimension parse_dimension(const std::string& text, const std::string& what);

/// A tune file: datasets x methods like a grid, one budget for every method, a search space
/// per method ([space METHOD] sections of key = dimension lines).
struct TuneSpec : Plan {
  int64_t trials = 12, max_epochs = 60, rungs = 3, eta = 3;
  uint64_t seed = 1;
  std::map<std::string, std::map<std::string, SearchDimension>> spaces;  ///< method -> key -> dimension
  std::map<std::string, std::map<std::string, std::string>> space_text;  ///< as written, for the summary
};
TuneSpec read_tune_file(const std::string& path);

/// Epochs of rung r (0-based) of `rungs`: max_epochs / eta^(rungs - 1 - r), at least 1.
int64_t rung_epochs(int64_t max_epochs, int64_t eta, int64_t rungs, int64_t r);

/// Successive halving over trials 0..n-1: every trial runs at rung 0; each later rung runs the
/// best ceil(k / eta) of the k trials of the rung before, by the scores `run(rung, trials)`
/// returns for them, in their order (higher is better; ties keep the lower trial id).
/// Returns the trials run at each rung.
using RungRunner = std::function<std::vector<double>(int64_t rung, const std::vector<int64_t>& trials)>;
std::vector<std::vector<int64_t>> successive_halving(int64_t n, int64_t rungs, int64_t eta, const RungRunner& run);

/// Tunes every method of the tune file (`shard` of `shards`), progress on `log`; resumable.
/// 128 + the signal when a stop signal ended it (the trials in flight keep their states).
int run_tune(const std::string& path, int64_t shard, int64_t shards, std::ostream& log);

}  // namespace seqrec
