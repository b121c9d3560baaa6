// The dispatcher: plugins, the command's declared options parsed (command.h), the process-wide
// settings of run commands, data-parallel jobs joined, and every error as one line.
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "seqrec/cli.h"
#include "seqrec/command.h"
#include "seqrec/config.h"
#include "seqrec/distributed.h"
#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/options.h"
#include "seqrec/plugin.h"
#include "seqrec/progress.h"
#include "seqrec/provenance.h"
#include "seqrec/registry.h"
#include "seqrec/signals.h"
#include "seqrec/trainer.h"

namespace seqrec {
namespace {

namespace fs = std::filesystem;

std::string top_usage() {
  std::ostringstream o;
  o << "usage: seqrec <command> [--key value ...] [--config FILE]\ncommands:\n";
  for (const auto& [name, entry] : commands().entries()) o << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') << entry.help << "\n";
  o << "`seqrec <command> --help`: the command's options (for the commands that take the run's keys: every key).\n";
  return o.str();
}

/// Applies the process-wide settings every run command shares.
void apply_runtime(const ProcessOptions& o) {
  const int64_t threads = o.threads > 0 ? o.threads : std::max<int64_t>(1, sysconf(_SC_NPROCESSORS_ONLN));
  at::set_num_threads(static_cast<int>(threads));
  bound_blas_threads(threads);
  set_dropout_rng(o.dropout_rng);
  set_progress(o.progress, o.progress_every);
  torch::manual_seed(o.seed);
  if (o.device.rfind("cuda", 0) == 0 && !torch::cuda::is_available())
    throw Error("--device " + o.device + ": this LibTorch build has no usable CUDA device");
}

/// --help or -h among a command's own arguments (before a `--` that starts another's).
bool asks_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

/// A command's own arguments against its declaration: `--key value`, `--key=value`, a bool
/// key alone, aliases, operands, `--`; every mistake one line naming the command.
CommandArgs parse_own(const std::string& name, const Command& cmd, const std::vector<std::string>& args) {
  auto schema = std::make_shared<Schema>();
  for (const KeySpec& k : cmd.options) schema->add(k);
  CommandArgs out{schema, Config(*schema), {}, {}};
  const std::string usage = "; " + usage_line(name);
  std::set<std::string> given;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--" && cmd.takes_after_dashes) {
      out.after_dashes.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || looks_negative(a)) {
      out.operands.push_back(a);
      continue;
    }
    const size_t eq = a.find('=');
    std::string key = a.substr(0, eq);
    if (auto alias = cmd.aliases.find(key); alias != cmd.aliases.end()) key = alias->second;
    const KeySpec* spec = key.rfind("--", 0) == 0 ? schema->find(key.substr(2)) : nullptr;
    if (!spec) throw Error(name + ": unknown option " + a.substr(0, eq) + " (seqrec " + name + " --help)");
    if (!given.insert(spec->name).second) throw Error(name + ": --" + spec->name + " is given twice");
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (spec->type == KeyType::kBool) {
      const bool explicit_value = i + 1 < args.size() && (args[i + 1] == "true" || args[i + 1] == "false");
      value = explicit_value ? args[++i] : "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw Error(name + ": " + a + " needs a value");
    }
    try {
      out.options.set(spec->name, value, "command line");
    } catch (const Error& e) {
      throw Error(name + ": " + e.what());
    }
  }
  for (const std::string& r : cmd.required)
    if (!given.count(r)) throw Error(name + ": --" + r + " is required" + usage);
  if (out.operands.size() > cmd.max_operands)
    throw Error(name + ": unexpected argument '" + out.operands[cmd.max_operands] + "'" + usage);
  if (out.operands.size() < cmd.min_operands) throw Error(name + ": no " + cmd.operands + " named" + usage);
  return out;
}

/// A run command's keys: the schema, --config FILE, the named components' defaults; then a
/// process that seqrec launch, torchrun or Slurm started as one of several joins its job.
int run_with_keys(const std::string& name, const Command& cmd, const std::vector<std::string>& args, std::ostream& out) {
  Config c;
  std::string help;
  if (!parse_config(args, &c, &help)) {
    out << top_usage() << help;
    return 0;
  }
  apply_component_defaults(c);  // --model NAME alone trains: its trainer, batching...
  const dist::JobEnv job = dist::job_env(std::getenv);
  std::unique_ptr<dist::Scope> group;
  if (job.world > 1) {
    if (!cmd.data_parallel) throw Error(name + " runs as one process (data parallel covers train and eval)");
    const std::string& device = c.str("device");
    if (c.str("dist.backend") == "nccl" && device.rfind("cuda", 0) != 0)
      throw Error("--dist.backend nccl reduces on GPUs: it needs --device cuda (gloo runs on the CPU)");
    if (device == "cuda") dist::use_local_gpu(job.local_rank);
    group = std::make_unique<dist::Scope>(job, c.str("dist.backend"), c.real("dist.timeout"));
    if (job.rank > 0) c.set("progress", "none");
  }
  apply_runtime(process_options_from(c));
  return cmd.run(CommandArgs{nullptr, c, {}, {}}, out);
}

/// Loads the plugins next to the binary (or in SEQREC_PLUGIN_DIR) and each --plugin PATH
/// (repeatable) among `args`; returns the other arguments.
std::vector<std::string> load_plugins(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  const std::string exe_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
  const char* env_dir = std::getenv("SEQREC_PLUGIN_DIR");
  load_plugin_dir(env_dir ? env_dir : exe_dir + "/plugins");
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--plugin" && i + 1 < args.size()) load_plugin(args[++i]);
    else if (args[i].rfind("--plugin=", 0) == 0) load_plugin(args[i].substr(9));
    else rest.push_back(args[i]);
  }
  return rest;
}

}  // namespace

CommandRegistry& commands() {
  static CommandRegistry r;
  return r;
}

std::string command_help(const std::string& name, const Command& c) {
  std::string h = "usage: seqrec " + name + " " + c.synopsis + "\n" + c.description;
  if (!c.options.empty()) h += "options:\n";
  for (const KeySpec& k : c.options) h += describe_key(k);
  for (const auto& [alias, key] : c.aliases) h += "  " + alias + " is " + key + "\n";
  return h;
}

std::string usage_line(const std::string& name) {
  auto it = commands().entries().find(name);
  return it == commands().entries().end() ? "" : "usage: seqrec " + name + " " + it->second.make().synopsis;
}

int run_command(const std::string& name, const std::vector<std::string>& args, std::ostream& out) {
  register_builtins();
  const Command cmd = commands().create("command", name);
  if (cmd.takes == Command::Takes::kRunKeys) return run_with_keys(name, cmd, args, out);
  if (asks_help(args)) {
    out << command_help(name, cmd);
    return 0;
  }
  return cmd.run(parse_own(name, cmd, args), out);
}

int run_cli(const std::vector<std::string>& args, std::ostream& out) {
  try {
    register_builtins();
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      out << top_usage();
      return args.empty() ? 2 : 0;
    }
    // Plugins first: they declare keys (and may add commands) the parser must know.
    const std::vector<std::string> rest = load_plugins({args.begin() + 1, args.end()});
    if (!commands().has(args[0])) {
      std::cerr << "seqrec: error: unknown command '" << args[0] << "'\n" << top_usage();
      return 2;
    }
    return run_command(args[0], rest, out);
  } catch (const Interrupted& e) {
    std::cerr << "seqrec: " << e.what() << std::endl;
    return 128 + e.signal;
  } catch (const Diverged& e) {
    std::cerr << "seqrec: error: " << e.what() << std::endl;
    return 3;
  } catch (const Error& e) {
    std::cerr << "seqrec: error: " << e.what() << std::endl;
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "seqrec: error: " << e.what_without_backtrace() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "seqrec: error: " << e.what() << std::endl;
    return 1;
  }
}

int run_cli(const std::vector<std::string>& args) { return run_cli(args, std::cout); }

}  // namespace seqrec
