#pragma once
// Standard output of a command function, for tests of commands that print, and counting in it.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace seqrec::testing {

/// What a command (cmd_table, cmd_report, ...) prints on standard output, the capture released
/// when it throws.
inline std::string captured_stdout(const std::function<int(const std::vector<std::string>&)>& command,
                                   const std::vector<std::string>& args) {
  ::testing::internal::CaptureStdout();
  try {
    command(args);
  } catch (...) {
    ::testing::internal::GetCapturedStdout();
    throw;
  }
  return ::testing::internal::GetCapturedStdout();
}

/// Occurrences of `what` in `text`, overlapping ones included.
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace seqrec::testing
