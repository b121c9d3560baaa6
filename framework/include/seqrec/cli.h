#pragma once
/// The `seqrec` command line, callable in-process (the binary's main() is one line).
#include <string>
#include <vector>

namespace seqrec {

/// Runs `seqrec <args...>`; returns the process exit code. Errors are printed as one line
/// "seqrec: error: ..." on stderr.
int run_cli(const std::vector<std::string>& args);

/// `seqrec launch -n N [--port P] -- train|eval ...`: N data-parallel processes on this
/// machine (distributed.h), stop signals forwarded; returns the first failing rank's code.
int cmd_launch(const std::vector<std::string>& args);

/// The --help text of bench, table, plot, tune, generate and launch (the commands with their
/// own arguments); nullptr for any other command.
const std::string* command_usage(const std::string& command);
/// Its first line, "usage: seqrec COMMAND ...", for one-line errors.
std::string usage_line(const std::string& command);
/// Whether `arg` names the file a command writes: --output, or its older spelling --out.
inline bool is_output_option(const std::string& arg) { return arg == "--output" || arg == "--out"; }

}  // namespace seqrec
