#include "seqrec/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "seqrec/error.h"

namespace seqrec {
namespace {
ProgressMode g_mode = ProgressMode::kNone;
double g_every = 30;
}  // namespace

const EnumNames<ProgressSetting>& progress_setting_names() {
  static const EnumNames<ProgressSetting> n = {{"auto", ProgressSetting::kAuto},
                                               {"bar", ProgressSetting::kBar},
                                               {"lines", ProgressSetting::kLines},
                                               {"none", ProgressSetting::kNone}};
  return n;
}

void set_progress(ProgressSetting setting, double every_seconds) {
  switch (setting) {
    case ProgressSetting::kAuto: g_mode = isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kLines; break;
    case ProgressSetting::kBar: g_mode = ProgressMode::kBar; break;
    case ProgressSetting::kLines: g_mode = ProgressMode::kLines; break;
    case ProgressSetting::kNone: g_mode = ProgressMode::kNone; break;
  }
  g_every = every_seconds;
}

Progress::Progress(std::string what, int64_t total, std::string unit, int64_t done_before)
    : what_(std::move(what)), unit_(std::move(unit)), total_(std::max<int64_t>(1, total)), done_before_(done_before),
      mode_(g_mode), start_(Clock::now()), last_(start_) {}

Progress::~Progress() {
  if (drawn_ && mode_ == ProgressMode::kBar) std::fprintf(stderr, "\r%*s\r", 100, "");
}

bool Progress::due(int64_t done) const {
  if (mode_ == ProgressMode::kNone) return false;
  const double since_last = std::chrono::duration<double>(Clock::now() - last_).count();
  // A bar is redrawn 5 times a second and at the end; lines come every g_every seconds, but
  // not at the end (the caller's own summary line follows).
  return mode_ == ProgressMode::kBar ? since_last >= 0.2 || done >= total_ : since_last >= g_every && done < total_;
}

void Progress::update(int64_t done, double units, const std::string& extra) {
  if (!due(done)) return;
  const auto now = Clock::now();
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? units / elapsed : 0;
  const int64_t done_here = done - done_before_;
  const double eta = done_here > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done_here) : 0;
  char line[256];
  std::snprintf(line, sizeof line, "%s %lld/%lld (%.0f%%), %.0f %s/s, %.0f s, ETA %.0f s%s%s", what_.c_str(),
                static_cast<long long>(done), static_cast<long long>(total_), 100.0 * done / total_, rate, unit_.c_str(),
                elapsed, eta, extra.empty() ? "" : ", ", extra.c_str());
  if (mode_ == ProgressMode::kBar) {
    std::fprintf(stderr, "\r  %-98.98s", line);
    drawn_ = true;
  } else {
    std::fprintf(stderr, "  %s\n", line);
  }
  std::fflush(stderr);
}

}  // namespace seqrec
