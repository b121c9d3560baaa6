// seqrec list: the registered components, the plugins loaded and the data-parallel backends.
#include <ostream>

#include "seqrec/command.h"
#include "seqrec/distributed.h"
#include "seqrec/plugin.h"
#include "seqrec/registry.h"

namespace seqrec {
namespace {

int run_list(const CommandArgs&, std::ostream& out) {
  out << describe_registries();
  out << "commands:";
  for (const auto& [name, entry] : commands().entries())
    out << " " << name << (entry.origin == "builtin" ? "" : " (" + entry.origin + ")");
  out << "\n";
  out << "plugins loaded:";
  for (const auto& p : loaded_plugins()) out << " " << p;
  out << (loaded_plugins().empty() ? " none\n" : "\n");
  const std::vector<std::string> backends = dist::backends();
  out << "data-parallel backends:";
  for (const auto& b : backends) out << " " << b;
  out << (backends.empty() ? " none (one process only)\n" : "\n");
  return 0;
}

void register_list_command(PluginHost& host) {
  Command c;
  c.takes = Command::Takes::kRunKeys;
  c.synopsis = "[--plugin PATH]";
  c.run = run_list;
  host.commands->add("list", [c] { return c; }, "show registered models, losses, trainers, samplers and commands",
                     host.origin);
}
SEQREC_BUILTIN(register_list_command);

}  // namespace
}  // namespace seqrec
