// seqrec table RESULTS...: a comparison table of result JSONs, with corrected paired tests
// and bootstrap intervals (report/table.cpp computes it).
#include <cstdint>
#include <ostream>

#include "report/comparison.h"
#include "seqrec/command.h"
#include "seqrec/plugin.h"

namespace seqrec {
namespace {

int run_table(const CommandArgs& a, std::ostream& out) {
  write_table(table_spec(a), out);
  return 0;
}

void register_table_command(PluginHost& host) {
  Command c;
  c.synopsis = "RESULTS... [options]";
  c.description =
      "  a comparison table from train result JSONs (files, or folders searched for *.json); NAME=PATH\n"
      "  names the runs under PATH as method NAME. Cells are means ± std over seeds; comparisons against\n"
      "  the baseline use the per-user rank files. ‡ marks a cell with a run that may have learned nothing:\n"
      "  its test ranking indistinguishable from popularity's (a popularity run of the table, else popularity\n"
      "  counted from the run's data), or its best validation inside the first patience window.\n";
  c.options = table_options();
  c.operands = "results";
  c.min_operands = 1;
  c.max_operands = SIZE_MAX;
  c.run = run_table;
  host.commands->add("table", [c] { return c; },
                     "comparison table from result JSONs, corrected tests and bootstrap intervals (seqrec table RESULTS...)",
                     host.origin);
}
SEQREC_BUILTIN(register_table_command);

}  // namespace
}  // namespace seqrec
