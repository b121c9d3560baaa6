// seqrec prepare | train | eval | list | demo
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "seqrec/batch.h"
#include "seqrec/cache.h"
#include "seqrec/checkpoint.h"
#include "seqrec/cli.h"
#include "seqrec/config.h"
#include "seqrec/distributed.h"
#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/experiment.h"
#include "seqrec/files.h"
#include "seqrec/plugin.h"
#include "seqrec/progress.h"
#include "seqrec/registry.h"
#include "seqrec/report.h"
#include "seqrec/results.h"
#include "seqrec/run_result.h"
#include "seqrec/trainer.h"
#include "seqrec/tune.h"

namespace seqrec {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

const char* kUsage =
    "usage: seqrec <command> [--key value ...] [--config FILE]\n"
    "commands:\n"
    "  prepare   read a dataset into the HDF5 cache and print its statistics\n"
    "  train     train a model with early stopping, then evaluate on the test set\n"
    "  eval      evaluate a checkpoint (seqrec or PyTorch state dict)\n"
    "  list      show registered models, losses, trainers and samplers\n"
    "  demo      train popularity and SASRec on a generated Markov dataset and compare\n"
    "  bench     run a grid of datasets x methods x seeds, resumable (seqrec bench GRID.ini)\n"
    "  table     comparison table from result JSONs, corrected tests and bootstrap intervals (seqrec table RESULTS...)\n"
    "  plot      learning curves, bars and spectra with gnuplot (seqrec plot RESULTS... --output PREFIX)\n"
    "  report    one self-contained HTML page: table, figures, curves, provenance (seqrec report RESULTS... --output F.html)\n"
    "  generate  a synthetic .inter file: Zipf popularity, sequential structure (seqrec generate --output F.inter)\n"
    "  tune      the same search budget for every method, successive halving on validation (seqrec tune TUNE.ini)\n"
    "  launch    data-parallel train or eval as N processes on this machine (seqrec launch -n N -- train ...)\n"
    "`seqrec <command> --help`: the command's options (for prepare, train, eval and demo: every key).\n";

/// Applies the process-wide settings every command shares.
void apply_runtime(const Config& c) {
  int64_t threads = c.integer("threads");
  if (threads < 0) throw Error("--threads must be 0 (one per core) or more");
  if (threads == 0) threads = std::max<int64_t>(1, sysconf(_SC_NPROCESSORS_ONLN));
  at::set_num_threads(static_cast<int>(threads));
  set_dropout_rng(c.str("dropout-rng") == "torch" ? DropoutRng::kTorch : DropoutRng::kFast);
  set_progress(c.str("progress"), c.real("progress-every"));
  torch::manual_seed(static_cast<uint64_t>(c.integer("seed")));
  const std::string& dev = c.str("device");
  if (dev.rfind("cuda", 0) == 0 && !torch::cuda::is_available())
    throw Error("--device " + dev + ": this LibTorch build has no usable CUDA device");
  if (dev != "cpu" && dev.rfind("cuda", 0) != 0) throw Error("--device must be cpu or cuda[:N]");
}


int cmd_prepare(const Config& c) {
  auto t0 = std::chrono::steady_clock::now();
  LoadedData l = load_data(c);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << l.data.name << ": " << format_stats(l.stats) << "\n";
  std::cout << l.data.name << ": " << format_split(l.split) << "\n";
  std::cout << "cache " << l.cache.path << (l.cache.rebuilt ? " (written)" : " (up to date)") << ", "
            << std::fixed << std::setprecision(2) << s << " s" << std::endl;
  return 0;
}

/// Holds `OUTPUT.lock` while a run writes OUTPUT, so two runs with one --output cannot both
/// write it; released on every way out.
class OutputLock {
 public:
  explicit OutputLock(const std::string& output) {
    if (output.empty()) return;
    if (std::filesystem::path(output).has_parent_path()) seqrec::create_directories(std::filesystem::path(output).parent_path().string());
    if (!claim_lock(output + ".lock"))
      throw Error(output + ": another seqrec process is writing this result (lock " + output +
                  ".lock); wait for it, or remove the lock if that process is gone");
    lock_ = output + ".lock";
  }
  ~OutputLock() {
    std::error_code ec;
    if (!lock_.empty()) std::filesystem::remove(lock_, ec);
  }

 private:
  std::string lock_;
};

int cmd_train(const Config& c) {
  check_needs(c);  // before the lock: a config that cannot run claims nothing
  // Data parallel: rank 0 logs and writes for the job; the others only compute.
  const bool writer = dist::rank() == 0;
  OutputLock lock(writer ? c.str("output") : "");
  std::ofstream quiet;  // never opened: what goes to it is dropped
  std::ostream& log = writer ? std::cout : quiet;
  Experiment x = run_experiment(c, log);
  if (writer) write_experiment(c, x, log);
  return 0;
}

/// Keys that describe the model architecture (restored from a checkpoint's metadata).
bool is_model_key(const std::string& k) {
  return k == "model" || k == "max-len" || k == "split" || (k.find('.') != std::string::npos && k.rfind("dist.", 0) != 0);
}

int cmd_eval(const Config& cli) {
  if (!cli.has("checkpoint")) throw Error("--checkpoint is required");
  auto t0 = std::chrono::steady_clock::now();
  StateDict sd = read_state_dict(cli.str("checkpoint"));
  Config c = cli;
  if (!sd.metadata_json.empty()) {
    json meta = json::parse(sd.metadata_json);
    for (const auto& [k, v] : meta.at("config").items())
      if (is_model_key(k) && cli.source(k) != "command line" && schema().find(k)) c.set(k, v.get<std::string>(), "checkpoint");
  } else {
    // A foreign state dict (a reference implementation's): the first importer that knows it.
    std::map<std::string, std::string> implied;
    std::string known;
    for (const auto& [name, importer] : importers().entries()) {
      known += (known.empty() ? "" : ", ") + name;
      if (!(implied = importer.make(sd)).empty()) break;
    }
    if (implied.empty())
      throw Error(cli.str("checkpoint") + ": no seqrec metadata, and no checkpoint importer recognises its tensors (registered: " +
                  (known.empty() ? "none" : known) + ")");
    for (const auto& [k, v] : implied)
      if (cli.source(k) != "command line") c.set(k, v, "checkpoint");
  }
  LoadedData l = load_data(c);
  std::shared_ptr<Model> model = models().create("model", c.str("model"), ModelContext{c, l.data});
  model->to(torch::Device(c.str("device")));
  std::vector<std::string> unused;
  try {
    unused = load_state_dict(*model, sd);
  } catch (const Error& e) {
    throw Error(cli.str("checkpoint") + ": " + e.what() + " (a checkpoint of another dataset or configuration?)");
  }
  if (!unused.empty()) {
    std::cout << "note: " << unused.size() << " checkpoint tensor(s) not used by " << c.str("model") << ":";
    for (const auto& u : unused) std::cout << " " << u;
    std::cout << std::endl;
  }
  EvalOptions eo = eval_options_from(c);
  RankingEvaluator evaluator(eo);
  const Stage stage = c.str("stage") == "valid" ? Stage::kValid : Stage::kTest;
  EvalResult r = evaluator.evaluate(*model, l.data, make_eval_set(l.data, stage));
  if (dist::rank() != 0) return 0;  // data parallel: rank 0 reports for the job
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << c.str("stage") << " [" << r.label << "]: " << format_metrics(r.metrics, eo.ks) << std::endl;
  const EvalResult other = under_other_ties(r, eo);
  std::cout << c.str("stage") << " [" << other.label << "]: " << format_metrics(other.metrics, eo.ks) << std::endl;
  std::cout << std::fixed << std::setprecision(3) << "eval " << r.seconds << " s, total with loading " << total << " s"
            << std::endl;
  RunResult result;
  result.schema_version = RunResult::kSchemaVersion;
  result.command = "eval";
  if (c.has("ranks")) result.ranks_fnv1a = save_ranks(r, c.str("ranks"));  // before the result, as in train
  result.checkpoint = c.str("checkpoint");
  result.stage = c.str("stage");
  result.dataset = l.info();
  result.protocol = protocol_info(eo, l.split);
  result.test = rounded_metrics(r.metrics, eo.ks);
  result.test_other_ties = {{protocol_info(with_other_ties(eo), l.split), rounded_metrics(other.metrics, eo.ks)}};
  result.users = static_cast<int64_t>(r.users.size());
  result.eval_seconds = r.seconds;
  result.total_seconds = total;
  result.config_hash = c.hash();
  result.config = c.values();
  result.seqrec = provenance(c);
  if (dist::active()) result.data_parallel = nlohmann::ordered_json{{"world_size", dist::world()}, {"backend", dist::backend()}};
  if (c.has("json")) write_run_result(c.str("json"), result);
  return 0;
}

/// seqrec generate --output FILE.inter [options] (usage.cpp; --out is the same option)
int cmd_generate(const std::vector<std::string>& args) {
  GenerateOptions o;
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i + 1 >= args.size()) throw Error("generate: " + args[i] + " needs a value");
    const std::string& k = args[i];
    const std::string& v = args[++i];
    if (is_output_option(k)) out = v;
    else if (k == "--users") o.users = to_integer(v, k);
    else if (k == "--items") o.items = to_integer(v, k);
    else if (k == "--min-len") o.min_len = static_cast<int>(to_integer(v, k));
    else if (k == "--max-len") o.max_len = static_cast<int>(to_integer(v, k));
    else if (k == "--successors") o.successors = static_cast<int>(to_integer(v, k));
    else if (k == "--zipf") o.zipf = to_real(v, k);
    else if (k == "--follow") o.follow = to_real(v, k);
    else if (k == "--seed") o.seed = static_cast<uint64_t>(to_integer(v, k));
    else throw Error("generate: unknown option " + k + " (seqrec generate --help)");
  }
  if (out.empty()) throw Error("generate: --output FILE.inter is required; " + usage_line("generate"));
  const std::string text = generate_inter(o);
  write_file_atomically(out, text);
  std::cout << "wrote " << out << ": " << o.users << " users, " << o.items << " items, " << text.size() << " bytes"
            << std::endl;
  return 0;
}

int cmd_demo(Config c) {
  // The main job: a small benchmark on the generated Markov dataset.
  if (c.source("data") == "default") c.set("data", "synthetic:markov");
  // 15 epochs: SASRec well past popularity (validation NDCG@20 0.51 against 0.55 at 30) in half the time.
  if (c.source("epochs") == "default") c.set("epochs", "15");
  if (c.source("patience") == "default") c.set("patience", "5");
  const EvalOptions eo = eval_options_from(c);
  struct Row {
    std::string name;
    std::map<std::string, double> m;
    double seconds;
  };
  std::vector<Row> rows;
  for (const std::string& m : {std::string("pop"), std::string("sasrec")}) {
    Config mc = c;
    mc.set("model", m);
    torch::manual_seed(static_cast<uint64_t>(c.integer("seed")));
    auto t0 = std::chrono::steady_clock::now();
    const Experiment x = run_experiment(mc, std::cout);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows.push_back({m == "pop" ? "pop" : "sasrec+" + mc.str("loss"), x.test.metrics, s});
  }
  std::cout << "\n| model | HIT@10 | NDCG@10 | MRR | seconds |\n|---|---|---|---|---|\n" << std::fixed;
  for (const auto& r : rows)
    std::cout << "| " << r.name << " | " << std::setprecision(4) << r.m.at("hit@10") << " | " << r.m.at("ndcg@10")
              << " | " << r.m.at("mrr") << " | " << std::setprecision(1) << r.seconds << " |\n";
  std::cout << "protocol: " << eo.label() << ", test set, leave-one-out" << std::endl;
  return 0;
}

/// --help or -h among a command's own arguments (for launch, before the -- that starts the
/// launched command's).
bool asks_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int run_cli(const std::vector<std::string>& args) {
  try {
    register_builtins();
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    const std::string cmd = args[0];
    // Plugins first: they declare keys the parser must know. Those next to the binary load
    // always; each --plugin PATH (repeatable) adds one.
    std::vector<std::string> rest;
    std::string exe_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
    const char* env_dir = std::getenv("SEQREC_PLUGIN_DIR");
    load_plugin_dir(env_dir ? env_dir : exe_dir + "/plugins");
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--plugin" && i + 1 < args.size()) {
        load_plugin(args[++i]);
      } else if (args[i].rfind("--plugin=", 0) == 0) {
        load_plugin(args[i].substr(9));
      } else {
        rest.push_back(args[i]);
      }
    }
    if (const std::string* usage = command_usage(cmd); usage && asks_help(rest)) {
      std::cout << *usage;
      return 0;
    }
    if (cmd == "bench") return cmd_bench(rest);
    if (cmd == "table") return cmd_table(rest);
    if (cmd == "plot") return cmd_plot(rest);
    if (cmd == "report") return cmd_report(rest);
    if (cmd == "tune") return cmd_tune(rest);
    if (cmd == "generate") return cmd_generate(rest);
    if (cmd == "launch") return cmd_launch(rest);
    if (cmd != "prepare" && cmd != "train" && cmd != "eval" && cmd != "list" && cmd != "demo") {
      std::cerr << "seqrec: error: unknown command '" << cmd << "'\n" << kUsage;
      return 2;
    }
    Config c;
    std::string help;
    if (!parse_config(rest, &c, &help)) {
      std::cout << kUsage << help;
      return 0;
    }
    apply_component_defaults(c);  // --model NAME alone trains: its trainer, batching...
    if (cmd == "list") {
      std::cout << describe_registries();
      std::cout << "plugins loaded:";
      for (const auto& p : loaded_plugins()) std::cout << " " << p;
      std::cout << (loaded_plugins().empty() ? " none\n" : "\n");
      const std::vector<std::string> backends = dist::backends();
      std::cout << "data-parallel backends:";
      for (const auto& b : backends) std::cout << " " << b;
      std::cout << (backends.empty() ? " none (one process only)\n" : "\n");
      return 0;
    }
    // A process that seqrec launch, torchrun or Slurm started as one of several joins its job.
    const dist::JobEnv job = dist::job_env(std::getenv);
    std::unique_ptr<dist::Scope> group;
    if (job.world > 1) {
      if (cmd != "train" && cmd != "eval") throw Error(cmd + " runs as one process (data parallel covers train and eval)");
      if (c.str("dist.backend") == "nccl" && c.str("device").rfind("cuda", 0) != 0)
        throw Error("--dist.backend nccl reduces on GPUs: it needs --device cuda (gloo runs on the CPU)");
      if (c.str("device") == "cuda") dist::use_local_gpu(job.local_rank);
      group = std::make_unique<dist::Scope>(job, c.str("dist.backend"), c.real("dist.timeout"));
      if (job.rank > 0) c.set("progress", "none");
    }
    apply_runtime(c);
    if (cmd == "prepare") return cmd_prepare(c);
    if (cmd == "train") return cmd_train(c);
    if (cmd == "eval") return cmd_eval(c);
    return cmd_demo(c);
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

}  // namespace seqrec
