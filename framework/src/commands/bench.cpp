// seqrec bench GRID.ini: a grid of datasets x methods x seeds as train runs, resumable
// (experiments/grid.cpp plans and runs it).
#include <ostream>

#include "experiments/plan_text.h"
#include "seqrec/bench.h"
#include "seqrec/command.h"
#include "seqrec/plugin.h"

namespace seqrec {
namespace {

int run_bench_command(const CommandArgs& a, std::ostream& out) {
  const auto [shard, shards] = plan::parse_shard(a.options.str("shard"));
  return run_bench(a.operands.at(0), a.options.flag("dry-run"), shard, shards, out);
}

void register_bench_command(PluginHost& host) {
  Command c;
  c.synopsis = "GRID.ini [--dry-run] [--shard i/n]";
  c.description =
      "  runs a grid of datasets x methods x seeds as train runs, each to a result JSON, its log and its\n"
      "  rank file under the grid's output; resumable: finished runs are skipped, stopped ones resume from\n"
      "  their training state before any run starts anew, runs claimed by a live bench are left to it.\n"
      "grid file ([grid] section, key = value, # comments):\n"
      "  datasets = A, B          dataset names, substituted for {dataset}\n"
      "  methods = m1, m2         method names, substituted for {method}\n"
      "  seeds = 1, 2, 3          (default 1)\n"
      "  config = configs/{dataset}-{method}.ini\n"
      "  output = results/grids/NAME   runs go to {output}/{dataset}/{method}/seed{S}-{hash}.json\n"
      "  set = key=value; ...     overrides for every run (hashed)\n"
      "  threads = N              intra-op threads a run (default 0: one per core)\n"
      "  parallel = N             runs at a time (default 1)\n"
      "  ranks = N                each run as an N-process data-parallel job (default 1)\n"
      "  label = {method}-tuned   the runs' --label (default {method})\n";
  c.options = {
      {"dry-run", KeyType::kBool, "false", "list the runs, which are finished and about the time left; run nothing",
       "bench"},
      {"shard", KeyType::kString, "0/1", "i/n: this process takes runs i, i+n, i+2n, ... of the grid's order", "bench"},
  };
  c.operands = "GRID.ini";
  c.min_operands = c.max_operands = 1;
  c.run = run_bench_command;
  host.commands->add("bench", [c] { return c; },
                     "run a grid of datasets x methods x seeds, resumable (seqrec bench GRID.ini)", host.origin);
}
SEQREC_BUILTIN(register_bench_command);

}  // namespace
}  // namespace seqrec
