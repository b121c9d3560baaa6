#pragma once
// Standard output of a command function, for tests of commands that print.
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

}  // namespace seqrec::testing
