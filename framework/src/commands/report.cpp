// seqrec report RESULTS... --output FILE.html: one self-contained HTML page of a comparison
// (report/html.cpp renders it).
#include <cstdint>
#include <ostream>

#include "report/comparison.h"
#include "seqrec/command.h"
#include "seqrec/plugin.h"

namespace seqrec {
namespace {

int run_report(const CommandArgs& a, std::ostream& out) {
  write_report(table_spec(a), a.options.str("output"), a.options.str("title"), out);
  return 0;
}

void register_report_command(PluginHost& host) {
  Command c;
  c.synopsis = "RESULTS... --output FILE.html [--title T] [table options]";
  c.description =
      "  one self-contained HTML page (no network needed): the comparison table as `seqrec table` computes\n"
      "  it with the same options (sortable columns), the runs that may have learned nothing, `seqrec plot`'s\n"
      "  figures as inline SVG, every run's validation curve, test numbers and provenance\n";
  for (KeySpec k : table_options()) {
    if (k.name == "format") continue;  // the page is HTML
    if (k.name == "output") k.help = "the page, written atomically";
    c.options.push_back(k);
  }
  c.options.push_back({"title", KeyType::kString, "seqrec report", "the page's title", "report"});
  c.aliases = {{"--out", "--output"}};
  c.required = {"output"};
  c.operands = "results";
  c.min_operands = 1;
  c.max_operands = SIZE_MAX;
  c.run = run_report;
  host.commands->add("report", [c] { return c; },
                     "one self-contained HTML page: table, figures, curves, provenance (seqrec report RESULTS... --output "
                     "F.html)",
                     host.origin);
}
SEQREC_BUILTIN(register_report_command);

}  // namespace
}  // namespace seqrec
