#pragma once
/// Errors seqrec reports to users: one line, naming the file (and line) and the reason.
#include <stdexcept>
#include <string>

namespace seqrec {

/// Bad input data or configuration. `what()` is a complete one-line message.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Builds "file:line: reason" (line omitted when 0).
inline Error data_error(const std::string& file, long line, const std::string& reason) {
  return Error(line > 0 ? file + ":" + std::to_string(line) + ": " + reason : file + ": " + reason);
}

}  // namespace seqrec
