#pragma once
/// Progress inside long work (an epoch, an evaluation, reading a large file): a bar redrawn
/// in place when stderr is a terminal, a plain line every few seconds when it is not (logs,
/// Slurm), or nothing. Lines go to stderr and never change a result.
#include <chrono>
#include <cstdint>
#include <string>

#include "seqrec/config.h"

namespace seqrec {

enum class ProgressMode { kBar, kLines, kNone };
/// --progress: auto (a bar on a terminal, lines otherwise), bar, lines, none.
enum class ProgressSetting { kAuto, kBar, kLines, kNone };
const EnumNames<ProgressSetting>& progress_setting_names();

/// The process-wide display, set once from --progress and --progress-every (seconds between
/// lines).
void set_progress(ProgressSetting setting, double every_seconds);

/// One piece of work of `total` steps. update() is cheap when nothing is due.
class Progress {
 public:
  /// `what` names the work ("epoch 3", "valid", "reading Beauty.txt"); `unit` what `units`
  /// counts ("seq", "users", "MB"); `done_before` the steps an earlier process did (a resumed
  /// epoch), left out of the rate and the time to go.
  Progress(std::string what, int64_t total, std::string unit, int64_t done_before = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  /// Whether update(done, ...) would print now: callers with an `extra` to format ask first.
  bool due(int64_t done) const;
  /// `done` of the steps (done_before's included) and `units` processed by this process so far;
  /// `extra` is appended ("loss 6.1234").
  void update(int64_t done, double units, const std::string& extra = "");

 private:
  using Clock = std::chrono::steady_clock;
  std::string what_, unit_;
  int64_t total_, done_before_;
  ProgressMode mode_;
  Clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace seqrec
