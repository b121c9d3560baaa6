// seqrec launch -n N [--port P] -- train|eval ...: a data-parallel job on this machine, as
// torchrun would start it: N copies of this binary with RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR and MASTER_PORT set (distributed.h reads them).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "seqrec/command.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"
#include "seqrec/signals.h"

namespace seqrec {
namespace {

/// A TCP port free on 127.0.0.1 now (the kernel's choice).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (s >= 0) close(s);
  if (!ok) throw Error("launch: no free port on 127.0.0.1");
  return ntohs(a.sin_port);
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

/// Starts rank `r` of `n`: this binary running `command` with the rendezvous in its
/// environment, as torchrun would set it.
pid_t start_rank(const std::vector<std::string>& command, int64_t r, int64_t n, int64_t port, const std::string& threads) {
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  const pid_t pid = fork();
  if (pid < 0) throw Error("launch: fork failed");
  if (pid > 0) return pid;
  setenv("RANK", std::to_string(r).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(n).c_str(), 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  // N ranks share the machine: OpenBLAS's own threads follow --threads, as under bench.
  if (!threads.empty() && threads != "0") setenv("OPENBLAS_NUM_THREADS", threads.c_str(), 0);
  std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(exe.c_str(), argv.data());
  _exit(127);
}

/// Waits for every rank, forwarding a stop signal to all; the job's code is the first
/// failure's. After one, the others have the collective timeout (plus a margin) to notice
/// and stop on their own before they are killed.
int wait_for_ranks(const std::vector<pid_t>& ranks, double timeout) {
  int code = 0;
  size_t running = ranks.size();
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool forwarded = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      --running;
      const int c = exit_code(status);
      if (c != 0 && code == 0) {
        code = c;
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000) + 30000);
      }
      continue;
    }
    if (stop_signal() && !forwarded) {
      for (pid_t p : ranks) kill(p, stop_signal());
      forwarded = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "seqrec: launch: a rank failed and " << running << " did not stop within --dist.timeout; killing them"
                << std::endl;
      for (pid_t p : ranks) kill(p, SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return code;
}

int run_launch(const CommandArgs& a, std::ostream&) {
  const int64_t n = a.options.integer("nproc");
  int64_t port = a.options.integer("port");
  double timeout = 300;
  const std::vector<std::string>& command = a.after_dashes;
  if (command.empty() || (command[0] != "train" && command[0] != "eval"))
    throw Error("launch: after -- comes the command to run data-parallel, train or eval");
  std::string threads;
  for (size_t k = 0; k + 1 < command.size(); ++k) {
    if (command[k] == "--dist.timeout") timeout = to_real(command[k + 1], "--dist.timeout");
    if (command[k] == "--threads") threads = command[k + 1];
  }
  if (port == 0) port = free_port();

  StopSignals signals;  // forwarded to every rank, which then save and stop together
  std::vector<pid_t> ranks;
  for (int64_t r = 0; r < n; ++r) ranks.push_back(start_rank(command, r, n, port, threads));
  return wait_for_ranks(ranks, timeout);
}

void register_launch_command(PluginHost& host) {
  Command c;
  c.synopsis = "-n N [--port P] -- train|eval [--key value ...]";
  c.description =
      "  runs train or eval as N data-parallel processes on this machine (RANK, WORLD_SIZE, LOCAL_RANK,\n"
      "  MASTER_ADDR=127.0.0.1 and MASTER_PORT set for each). Rank 0 logs and writes; stop signals reach\n"
      "  every rank; the exit code is the first failing rank's.\n";
  c.options = {
      {"nproc", KeyType::kInt, "1", "processes (ranks) of the job", "launch", {}, {1}},
      {"port", KeyType::kInt, "0", "MASTER_PORT; 0: a port free now", "launch", {}, {0, 65535}},
  };
  c.aliases = {{"-n", "--nproc"}};
  c.required = {"nproc"};
  c.takes_after_dashes = true;
  c.run = run_launch;
  host.commands->add("launch", [c] { return c; },
                     "data-parallel train or eval as N processes on this machine (seqrec launch -n N -- train ...)",
                     host.origin);
}
SEQREC_BUILTIN(register_launch_command);

}  // namespace
}  // namespace seqrec
