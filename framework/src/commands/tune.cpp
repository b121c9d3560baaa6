// seqrec tune TUNE.ini: the same search budget for every method, successive halving on
// validation only (experiments/tune.cpp).
#include <ostream>

#include "experiments/plan_text.h"
#include "seqrec/command.h"
#include "seqrec/plugin.h"
#include "seqrec/tune.h"

namespace seqrec {
namespace {

int run_tune_command(const CommandArgs& a, std::ostream& out) {
  const auto [shard, shards] = plan::parse_shard(a.options.str("shard"));
  return run_tune(a.operands.at(0), shard, shards, out);
}

void register_tune_command(PluginHost& host) {
  Command c;
  c.synopsis = "TUNE.ini [--shard i/n]";
  c.description =
      "  the same search budget for every method: random trials, successive halving on validation only\n"
      "  (the test set is never evaluated); resumable like bench; writes every trial, each method's\n"
      "  chosen config (an ordinary config file) and summary.md under the output.\n"
      "tune file:\n"
      "  [tune]  datasets, methods, config, output, set (as in a bench grid), trials (default 12),\n"
      "          max-epochs (default 60), rungs (default 3), eta (default 3), seed (default 1),\n"
      "          threads (default 0: one per core)\n"
      "  [space METHOD]  KEY = choice a, b, ... | uniform LO HI | loguniform LO HI   (any train key)\n";
  c.options = {
      {"shard", KeyType::kString, "0/1", "i/n: this process takes the trials i, i+n, ... of each rung first", "tune"},
  };
  c.operands = "TUNE.ini";
  c.min_operands = c.max_operands = 1;
  c.run = run_tune_command;
  host.commands->add("tune", [c] { return c; },
                     "the same search budget for every method, successive halving on validation (seqrec tune TUNE.ini)",
                     host.origin);
}
SEQREC_BUILTIN(register_tune_command);

}  // namespace
}  // namespace seqrec
