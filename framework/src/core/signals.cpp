#include "seqrec/signals.h"

#include <array>
#include <atomic>
#include <csignal>
#include <string>

namespace seqrec {
namespace {

std::atomic<int> g_signal{0};
constexpr std::array<int, 3> kSignals = {SIGTERM, SIGINT, SIGUSR1};
std::array<struct sigaction, 3> g_old{};

extern "C" void on_stop_signal(int signal) { g_signal = signal; }

}  // namespace

StopSignals::StopSignals() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &sa, &g_old[i]);
}

StopSignals::~StopSignals() {
  for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &g_old[i], nullptr);
}

int stop_signal() { return g_signal; }

const char* stop_signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
  }
  static thread_local std::string other;
  other = "signal " + std::to_string(signal);
  return other.c_str();
}

}  // namespace seqrec
