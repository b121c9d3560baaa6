#pragma once
// Child seqrec runs, as bench and tune start them: each claimed through a lock beside its
// output, started with its log appended, and reaped by polling, so that a stop signal reaches
// every child at once (each writes its training state; the next bench or tune resumes it).
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seqrec {

/// Takes `lock` for a run unless `done()` holds, checked again after the claim (another
/// process may have finished the run in between: the lock is then released). False when the
/// run is done or another live process holds the lock.
bool claim_run(const std::string& lock, const std::function<bool()>& done);

class Children {
 public:
  /// Starts `seqrec args...`, its stdout and stderr appended to `log` (spawn_seqrec).
  pid_t start(const std::vector<std::string>& args, const std::string& log, int64_t blas_threads);
  struct Exit {
    pid_t pid;
    int status;  ///< as waitpid gives it
  };
  /// Waits for the next child to end. The first stop signal is forwarded to every child still
  /// running, `on_stop(children running)` called once then. Nothing when no child is running.
  std::optional<Exit> wait(const std::function<void(size_t)>& on_stop = nullptr);
  size_t running() const { return pids_.size(); }

 private:
  std::set<pid_t> pids_;
  bool forwarded_ = false;
};

}  // namespace seqrec
