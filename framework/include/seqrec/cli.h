#pragma once
/// The `seqrec` command line, callable in-process (the binary's main() is one line). The
/// commands themselves are declared in command.h's registry, one file each.
#include <iosfwd>
#include <string>
#include <vector>

namespace seqrec {

/// Runs `seqrec <args...>` with the command's output on `out`; returns the process exit code.
/// Errors are printed as one line "seqrec: error: ..." on stderr.
int run_cli(const std::vector<std::string>& args, std::ostream& out);
/// The same on standard output.
int run_cli(const std::vector<std::string>& args);

}  // namespace seqrec
