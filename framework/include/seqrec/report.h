#pragma once
/// Figures of results (seqrec plot); the comparison table is report/comparison.h.
#include <iosfwd>
#include <string>
#include <vector>

namespace seqrec {

/// What `seqrec plot` draws: learning curves, a bar chart and item spectra of results.
struct PlotSpec {
  std::vector<std::string> inputs;
  std::string prefix, metric = "ndcg@20", bar_metric = "ndcg@10", title, baseline, reference;
};
/// Draws the figures with gnuplot, PREFIX-NAME.{png,svg}, naming each file on `log`.
void draw_plots(const PlotSpec& p, std::ostream& log);

}  // namespace seqrec
