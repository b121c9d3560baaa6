#pragma once
// The comparison `seqrec table` computes, for renderers other than its own (seqrec report).
#include <string>
#include <vector>

#include "report/run_checks.h"
#include "report/runs.h"

namespace seqrec {

/// A table as `table ARGS` (markdown) shows it: the header row then one row per method and
/// published source, each cell as the markdown table writes it (bold: **x**); the footer's
/// markdown lines; and the runs, checks and options behind it.
struct ComparisonTable {
  std::vector<std::vector<std::string>> rows;
  std::string footer;
  std::vector<RunRecord> runs;
  std::vector<RunCheck> run_checks;
  std::vector<std::string> inputs, metrics;
  std::string baseline, reference;
};
/// `table`'s arguments (no --format or --output: an Error names them).
ComparisonTable comparison_table(const std::vector<std::string>& table_args);

}  // namespace seqrec
