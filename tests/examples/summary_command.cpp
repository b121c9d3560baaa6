// A command in one file: `seqrec summary RESULT.json... [--metric M]`, a line per train result.
#include <cstdint>
#include <ostream>

#include "seqrec/command.h"
#include "seqrec/plugin.h"
#include "seqrec/run_result.h"

namespace {
int summarise(const seqrec::CommandArgs& a, std::ostream& out) {
  const std::string& metric = a.options.str("metric");
  for (const std::string& path : a.operands) {
    const seqrec::RunResult r = seqrec::read_run_result(path);
    out << path << ": " << r.model << " on " << r.dataset.name << ", best epoch " << r.best_epoch;
    for (const auto& [name, value] : r.test)
      if (name == metric) out << ", test " << name << " " << value;
    out << "\n";
  }
  return 0;
}

void register_summary(seqrec::PluginHost& host) {
  seqrec::Command c;
  c.synopsis = "RESULT.json... [--metric M]";
  c.options = {{"metric", seqrec::KeyType::kString, "ndcg@10", "the test metric shown", "summary"}};
  c.operands = "results";
  c.min_operands = 1;
  c.max_operands = SIZE_MAX;
  c.run = summarise;
  host.commands->add("summary", [c] { return c; }, "a line per train result: model, data, best epoch, a test metric",
                     host.origin);
}
}  // namespace

SEQREC_BUILTIN(register_summary);
