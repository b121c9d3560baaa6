// seqrec prepare: a dataset read into the HDF5 cache, its statistics printed.
#include <chrono>
#include <iomanip>
#include <ostream>

#include "seqrec/command.h"
#include "seqrec/dataset.h"
#include "seqrec/experiment.h"
#include "seqrec/plugin.h"

namespace seqrec {
namespace {

int run_prepare(const CommandArgs& a, std::ostream& out) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedData l = load_data(data_options_from(a.options));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << l.data.name << ": " << format_stats(l.stats) << "\n";
  out << l.data.name << ": " << format_split(l.split) << "\n";
  out << "cache " << l.cache.path << (l.cache.rebuilt ? " (written)" : " (up to date)") << ", " << std::fixed
      << std::setprecision(2) << s << " s" << std::endl;
  return 0;
}

void register_prepare_command(PluginHost& host) {
  Command c;
  c.takes = Command::Takes::kRunKeys;
  c.synopsis = "--data FILE [--key value ...] [--config FILE]";
  c.run = run_prepare;
  host.commands->add("prepare", [c] { return c; }, "read a dataset into the HDF5 cache and print its statistics", host.origin);
}
SEQREC_BUILTIN(register_prepare_command);

}  // namespace
}  // namespace seqrec
