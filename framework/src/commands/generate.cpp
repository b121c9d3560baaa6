// seqrec generate: a synthetic RecBole .inter log with Zipf popularity and sequential structure.
#include <cmath>
#include <ostream>

#include "seqrec/command.h"
#include "seqrec/dataset.h"
#include "seqrec/files.h"
#include "seqrec/plugin.h"

namespace seqrec {
namespace {

int run_generate(const CommandArgs& a, std::ostream& out) {
  const Config& c = a.options;
  GenerateOptions o;
  o.users = c.integer("users");
  o.items = c.integer("items");
  o.min_len = static_cast<int>(c.integer("min-len"));
  o.max_len = static_cast<int>(c.integer("max-len"));
  o.successors = static_cast<int>(c.integer("successors"));
  o.zipf = c.real("zipf");
  o.follow = c.real("follow");
  o.seed = static_cast<uint64_t>(c.integer("seed"));
  const std::string text = generate_inter(o);
  write_file_atomically(c.str("output"), text);
  out << "wrote " << c.str("output") << ": " << o.users << " users, " << o.items << " items, " << text.size() << " bytes"
      << std::endl;
  return 0;
}

void register_generate_command(PluginHost& host) {
  const KeySpec::Range positive{1}, probability{0, 1};
  Command c;
  c.synopsis = "--output FILE.inter [options]";
  c.description = "  a synthetic RecBole .inter log with Zipf item popularity and sequential structure, seeded\n";
  c.options = {
      {"output", KeyType::kString, "", "the .inter file, written atomically", "generate"},
      {"users", KeyType::kInt, "1000", "users", "generate", {}, positive},
      {"items", KeyType::kInt, "1000", "items", "generate", {}, positive},
      {"min-len", KeyType::kInt, "5", "shortest history", "generate", {}, positive},
      {"max-len", KeyType::kInt, "30", "longest history", "generate", {}, positive},
      {"zipf", KeyType::kFloat, "0.8", "item i is drawn with weight 1 / i^zipf", "generate", {}, {0}},
      {"follow", KeyType::kFloat, "0.8",
       "probability that the next item is one of the current item's successors (else a popularity draw)", "generate", {},
       probability},
      {"successors", KeyType::kInt, "3", "successors of each item", "generate", {}, positive},
      {"seed", KeyType::kInt, "1", "the generator's seed", "generate"},
  };
  c.aliases = {{"--out", "--output"}};
  c.required = {"output"};
  c.run = run_generate;
  host.commands->add("generate", [c] { return c; },
                     "a synthetic .inter file: Zipf popularity, sequential structure (seqrec generate --output F.inter)",
                     host.origin);
}
SEQREC_BUILTIN(register_generate_command);

}  // namespace
}  // namespace seqrec
