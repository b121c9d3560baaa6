// seqrec train: a model trained with early stopping, then tested; its result JSON, log lines
// and rank file.
#include <filesystem>
#include <fstream>
#include <ostream>

#include "seqrec/command.h"
#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/experiment.h"
#include "seqrec/files.h"
#include "seqrec/plugin.h"
#include "seqrec/trainer.h"

namespace seqrec {
namespace {

/// Holds `OUTPUT.lock` while a run writes OUTPUT, so two runs with one --output cannot both
/// write it; released on every way out.
class OutputLock {
 public:
  explicit OutputLock(const std::string& output) {
    if (output.empty()) return;
    const std::filesystem::path parent = std::filesystem::path(output).parent_path();
    if (!parent.empty()) create_directories(parent.string());
    if (!claim_lock(output + ".lock"))
      throw Error(output + ": another seqrec process is writing this result (lock " + output +
                  ".lock); wait for it, or remove the lock if that process is gone");
    lock_ = output + ".lock";
  }
  ~OutputLock() {
    std::error_code ec;
    if (!lock_.empty()) std::filesystem::remove(lock_, ec);
  }

 private:
  std::string lock_;
};

int run_train(const CommandArgs& a, std::ostream& out) {
  const Config& c = a.options;
  check_needs(c);  // before the lock: a config that cannot run claims nothing
  // Data parallel: rank 0 logs and writes for the job; the others only compute.
  const bool writer = dist::rank() == 0;
  OutputLock lock(writer ? c.str("output") : "");
  // Starting afresh would overwrite an earlier run's state at the first save (every rank checks).
  if (const std::string state = state_path_of(c); !c.flag("resume") && !state.empty() && std::filesystem::exists(state))
    throw Error(state + ": an earlier run's training state; add --resume to continue it, or remove the file to start again");
  std::ofstream quiet;  // never opened: what goes to it is dropped
  std::ostream& log = writer ? out : quiet;
  Experiment x = run_experiment(c, log);
  if (writer) write_experiment(x, log);
  return 0;
}

void register_train_command(PluginHost& host) {
  Command c;
  c.takes = Command::Takes::kRunKeys;
  c.synopsis = "--data FILE [--key value ...] [--config FILE]";
  c.data_parallel = true;
  c.run = run_train;
  host.commands->add("train", [c] { return c; }, "train a model with early stopping, then evaluate on the test set",
                     host.origin);
}
SEQREC_BUILTIN(register_train_command);

}  // namespace
}  // namespace seqrec
