#pragma once
/// `seqrec COMMAND ...`: every command is declared once, in its own file under
/// framework/src/commands/, with its summary, its options (KeySpecs, like configuration keys:
/// type, default, choices, range, help) and the function it runs. Parsing, `--help`, the
/// one-line errors and the dispatch all derive from that declaration, and a command writes to
/// the stream it is given, so a test passes a std::ostringstream.
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "seqrec/config.h"
#include "seqrec/registry.h"

namespace seqrec {

/// What a command's run gets.
struct CommandArgs {
  std::shared_ptr<const Schema> schema;  ///< its declared options (what `options` refers to)
  Config options;                       ///< its declared options, resolved (defaults filled in)
  std::vector<std::string> operands;    ///< the words that are not options: RESULTS..., GRID.ini
  std::vector<std::string> after_dashes;  ///< what follows `--` (launch's command)
};

struct Command {
  /// Its options: its own declared ones, or the run's configuration keys (the whole schema,
  /// --config FILE, component defaults), as train, eval, prepare, demo and list take them.
  enum class Takes { kOwnOptions, kRunKeys } takes = Takes::kOwnOptions;
  std::string synopsis;     ///< the usage line after "usage: seqrec NAME ": "RESULTS... [options]"
  std::string description;  ///< the help's text between the usage line and the options
  std::vector<KeySpec> options;                ///< kOwnOptions: name, type, default, help
  std::map<std::string, std::string> aliases;  ///< older or short spellings: {"--out", "--output"}
  std::vector<std::string> required;           ///< options that must be given
  std::string operands;                        ///< what the operands are, for errors: "results", "GRID.ini"
  size_t min_operands = 0, max_operands = 0;   ///< max 0: none taken; SIZE_MAX: any number
  bool takes_after_dashes = false;             ///< `-- ...` is passed on (launch)
  bool data_parallel = false;                  ///< may run as one rank of a data-parallel job
  std::function<int(const CommandArgs&, std::ostream&)> run;
};

/// Commands by name; the entry's help is the command's one-line summary in `seqrec --help`.
using CommandRegistry = Registry<Command>;
CommandRegistry& commands();

/// `seqrec NAME args...` in-process, its output on `out` (errors are thrown as seqrec::Error,
/// not printed): for tests and for commands that call others.
int run_command(const std::string& name, const std::vector<std::string>& args, std::ostream& out);

/// A command's --help text: usage line, description, options.
std::string command_help(const std::string& name, const Command& c);
/// Its first line, "usage: seqrec NAME SYNOPSIS", for one-line errors.
std::string usage_line(const std::string& name);

}  // namespace seqrec
