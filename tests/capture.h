#pragma once
// What a command writes, for tests of commands that print, and counting in it.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "seqrec/command.h"

namespace seqrec::testing {

/// What `seqrec NAME ARGS...` writes on its output stream (its errors are thrown).
inline std::string command_output(const std::string& name, const std::vector<std::string>& args) {
  std::ostringstream out;
  run_command(name, args, out);
  return out.str();
}

/// Occurrences of `what` in `text`, overlapping ones included.
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace seqrec::testing
