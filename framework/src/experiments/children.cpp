#include "experiments/children.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "seqrec/bench.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/signals.h"

namespace seqrec {

bool claim_run(const std::string& lock, const std::function<bool()>& done) {
  if (done() || !claim_lock(lock)) return false;
  if (!done()) return true;
  std::error_code ec;
  std::filesystem::remove(lock, ec);
  return false;
}

pid_t Children::start(const std::vector<std::string>& args, const std::string& log, int64_t blas_threads) {
  const pid_t pid = spawn_seqrec(args, log, blas_threads);
  pids_.insert(pid);
  return pid;
}

std::optional<Children::Exit> Children::wait(const std::function<void(size_t)>& on_stop) {
  while (!pids_.empty()) {
    if (stop_signal() && !forwarded_) {
      forwarded_ = true;
      for (pid_t p : pids_) kill(p, stop_signal());
      if (on_stop) on_stop(pids_.size());
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && pids_.erase(pid)) return Exit{pid, status};
    if (pid < 0 && errno != EINTR) throw Error("lost the child runs (waitpid failed)");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace seqrec
