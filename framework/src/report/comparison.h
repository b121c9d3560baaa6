#pragma once
// The comparison `seqrec table` computes, its options (which `seqrec report` takes too), and
// its renderings.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "seqrec/command.h"
#include "seqrec/stats.h"

#include "report/run_checks.h"
#include "report/runs.h"

namespace seqrec {

/// What a table shows and tests.
struct TableSpec {
  std::vector<std::string> inputs, metrics = {"hit@10", "ndcg@10"};
  std::string baseline, format = "md", reference, output;
  std::map<std::string, std::string> pairs;  ///< --pairs A=B: row A is compared with B, not the baseline
  double alpha = 0.05;
  TestView view = TestView::kOwn;
  bool wall = false;
  Correction correction = Correction::kHolm;  ///< over every comparison of the table
  int64_t resamples = 1000;                   ///< paired bootstrap resamples of the users
  uint64_t bootstrap_seed = 1;
};

/// `seqrec table`'s options.
std::vector<KeySpec> table_options();
/// The table a command's options and operands (the results) ask for; options it does not
/// declare keep their defaults (report has no --format).
TableSpec table_spec(const CommandArgs& args);
/// The table as text (--format) on `out`, or written to --output and named on `out`.
void write_table(const TableSpec& t, std::ostream& out);

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
/// The markdown table `t` asks for, with what it was computed from.
ComparisonTable comparison_table(const TableSpec& t);
/// One self-contained HTML page of the table, its figures and runs, written atomically to
/// `out`, and named on `log`.
void write_report(const TableSpec& t, const std::string& out, const std::string& title, std::ostream& log);

}  // namespace seqrec
