#pragma once
/// Grids of runs (seqrec bench): datasets x methods x seeds as train runs, each a child
/// process, resumable.
#include <sys/types.h>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "seqrec/plan.h"

namespace seqrec {

/// One run of a grid: a method's config on a dataset with a seed.
struct GridRun {
  std::string dataset, method, config;
  int64_t seed = 1;
  std::string hash;    ///< hash of the resolved config: the run's identity
  std::string output;  ///< result JSON (present = finished)
};

/// A grid file (INI, section [grid]):
///   datasets = Beauty, Toys_and_Games
///   methods  = sasrec-cce, elecrec
///   seeds    = 1, 2, 3
///   config   = configs/{dataset}-{method}.ini   (the method's config on that dataset)
///   output   = results/grids/NAME               (runs go to {output}/{dataset}/{method}/)
///   set      = patience=10; epochs=50            (optional overrides for every run)
///   parallel = 1, threads = 0                    (runs at a time; LibTorch threads each)
///   ranks = 1                                    (processes per run: N = seqrec launch -n N)
///   label = {method}-tuned                       (the runs' name in tables; default {method})
///   order = seeds                                (seed 1 of every method first; default
///                                                 methods: every seed of a method, then the next)
struct Grid : Plan {
  std::vector<int64_t> seeds;
  std::string label_pattern = "{method}";
  int64_t parallel = 1, ranks = 1;
  bool seeds_first = false;
};
Grid read_grid(const std::string& path);
/// The grid's runs in order (dataset, method, seed; with order = seeds: dataset, seed, method),
/// each resolved and hashed.
std::vector<GridRun> plan_grid(const Grid& g);

/// Starts this seqrec binary with `args` (e.g. train ...) as a child process, its stdout and
/// stderr appended to `log_path`, OPENBLAS_NUM_THREADS set when `blas_threads` > 0.
pid_t spawn_seqrec(const std::vector<std::string>& args, const std::string& log_path, int64_t blas_threads);

/// Runs a grid's unfinished runs (`shard` of `shards`: runs i with i % shards == shard), or
/// with `dry` lists them; progress on `log`. 0 when every run finished, else 1.
int run_bench(const std::string& grid_path, bool dry, int64_t shard, int64_t shards, std::ostream& log);

}  // namespace seqrec
