#pragma once
/// The `seqrec` command line, callable in-process (the binary's main() is one line).
#include <string>
#include <vector>

namespace seqrec {

/// Runs `seqrec <args...>`; returns the process exit code. Errors are printed as one line
/// "seqrec: error: ..." on stderr.
int run_cli(const std::vector<std::string>& args);

}  // namespace seqrec
