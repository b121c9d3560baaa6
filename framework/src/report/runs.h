#pragma once
// Result JSONs of train runs, read for tables and plots.
#include <map>
#include <string>
#include <vector>

#include "seqrec/run_result.h"

namespace seqrec {

/// One train run's result file, with the fields tables group and check by.
struct RunRecord {
  std::string path, method, dataset, dataset_hash, protocol, config_hash, commit;
  std::string ranks;  ///< the per-user rank file found for it ("" when none)
  int64_t seed = 0;
  std::map<std::string, double> test;  ///< the view's metrics (TestView), under `protocol`
  std::map<std::string, double> test_full;  ///< the full ranking's, when `protocol` samples candidates
  RunResult result;                    ///< the whole file (curves, spectra, timing)
};

/// The method's name in tables: the run's --label, else the method folder of a grid layout
/// ({output}/{dataset}/{method}/seed*.json), else model+loss (or model+trainer).
std::string method_name(const RunResult& r, const std::string& path = "");

/// Which of a run's test evaluations RunRecord::test holds: its own; the one under the other
/// history protocol (test_other_protocol); the one under the other tie rule
/// (test_other_ties); or the one with shuffled histories (test_shuffled_history). Runs that
/// lack the one asked for are an error.
enum class TestView { kOwn, kOtherProtocol, kOtherTies, kShuffledHistory };
/// Reads result files and every *.json under directories; keeps train results only, sorted
/// by path. An input NAME=PATH names its runs' method NAME. Throws seqrec::Error on
/// unreadable input or when nothing is found.
std::vector<RunRecord> read_runs(const std::vector<std::string>& inputs, TestView view = TestView::kOwn);

/// A published method's numbers: CSV lines method,dataset,metric,value,source[,seqrec_method]
/// (a header line and #-comments allowed), one entry per method and source, in file order.
/// seqrec_method, optional: the table method that reproduces it (its label, e.g. elecrec),
/// whose seeds `table` then tests the published numbers against.
struct Published {
  std::string method, source, seqrec_method;
  std::map<std::pair<std::string, std::string>, double> value;  ///< (dataset, metric) -> value
};
std::vector<Published> read_published(const std::string& path);

}  // namespace seqrec
