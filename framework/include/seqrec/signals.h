#pragma once
/// Stop signals (SIGTERM, SIGINT, SIGUSR1: a kill, Ctrl-C, a scheduler's preemption warning)
/// caught as a flag, so that a long job can finish what it is doing, save, and exit.

namespace seqrec {

/// While alive, the stop signals only record themselves (stop_signal()); the previous
/// handlers come back after. One at a time in a process.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

/// The last stop signal received while a StopSignals was alive, 0 if none.
int stop_signal();

/// "SIGTERM", "SIGINT", "SIGUSR1", else "signal N".
const char* stop_signal_name(int signal);

}  // namespace seqrec
