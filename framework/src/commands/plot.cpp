// seqrec plot RESULTS... --output PREFIX: learning curves, a bar chart and item spectra, drawn
// with gnuplot (report/plot.cpp).
#include <cstdint>
#include <ostream>

#include "seqrec/command.h"
#include "seqrec/plugin.h"
#include "seqrec/report.h"

namespace seqrec {
namespace {

int run_plot(const CommandArgs& a, std::ostream& out) {
  const Config& c = a.options;
  PlotSpec p;
  p.inputs = a.operands;
  p.prefix = c.str("output");
  p.metric = c.str("metric");
  p.bar_metric = c.str("bar-metric");
  p.title = c.str("title");
  p.baseline = c.str("baseline");
  p.reference = c.str("reference");
  draw_plots(p, out);
  return 0;
}

void register_plot_command(PluginHost& host) {
  Command c;
  c.synopsis = "RESULTS... --output PREFIX [options]";
  c.description = "  learning curves, a bar chart and item spectra of train result JSONs, drawn with gnuplot\n";
  c.options = {
      {"output", KeyType::kString, "", "output files start with this prefix", "plot"},
      {"metric", KeyType::kString, "ndcg@20", "the curves' validation metric", "plot"},
      {"bar-metric", KeyType::kString, "ndcg@10", "the bars' test metric", "plot"},
      {"title", KeyType::kString, "", "the figures' title", "plot"},
      {"baseline", KeyType::kString, "", "the method the bars compare with", "plot"},
      {"reference", KeyType::kString, "", "FILE.csv of published numbers, drawn beside the bars", "plot"},
  };
  c.aliases = {{"--out", "--output"}};
  c.required = {"output"};
  c.operands = "results";
  c.min_operands = 1;
  c.max_operands = SIZE_MAX;
  c.run = run_plot;
  host.commands->add("plot", [c] { return c; },
                     "learning curves, bars and spectra with gnuplot (seqrec plot RESULTS... --output PREFIX)", host.origin);
}
SEQREC_BUILTIN(register_plot_command);

}  // namespace
}  // namespace seqrec
