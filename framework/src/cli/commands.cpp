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
#include "seqrec/dropout.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/files.h"
#include "seqrec/plugin.h"
#include "seqrec/progress.h"
#include "seqrec/registry.h"
#include "seqrec/report.h"
#include "seqrec/results.h"
#include "seqrec/trainer.h"

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
    "  bench     run a grid of datasets x methods x seeds, resumable (seqrec bench GRID.ini [--dry-run] [--shard i/n])\n"
    "  table     comparison table from result JSONs (seqrec table RESULTS... [--baseline M] [--format md|csv|latex])\n"
    "  plot      learning curves, bars and spectra with gnuplot (seqrec plot RESULTS... --out PREFIX)\n"
    "`seqrec <command> --help` lists every key.\n";

/// Resolves --data: a file, or "synthetic:markov" (generated once into the cache dir).
std::string resolve_data_path(const Config& c) {
  const std::string& data = c.str("data");
  if (data.empty()) throw Error("--data is required");
  if (data != "synthetic:markov") return data;
  fs::path dir = fs::path(expand_home(c.str("cache-dir"))) / "synthetic";
  fs::path file = dir / "markov.txt";
  if (!fs::exists(file)) write_lines(make_markov_dataset(3000, 500, 5, 40, 7), file.string());
  return file.string();
}

PrepareOptions prepare_options(const Config& c, const std::string& path) {
  PrepareOptions o;
  o.format = c.str("format") == "auto" ? guess_format(path) : c.str("format");
  o.k_core = static_cast<int>(c.integer("k-core"));
  return o;
}

struct LoadedData {
  Dataset data;
  CacheInfo cache;
  std::string path;
};

LoadedData load(const Config& c) {
  LoadedData l;
  l.path = resolve_data_path(c);
  l.data = load_dataset(l.path, prepare_options(c, l.path), c.str("cache-dir"), &l.cache);
  return l;
}

json dataset_json(const LoadedData& l) {
  json j;
  j["name"] = l.data.name;
  j["path"] = l.path;
  j["source_hash"] = l.cache.source_hash;
  j["users"] = l.data.num_users();
  j["items"] = l.data.num_items;
  j["interactions"] = l.data.num_interactions();
  j["test_answer_repeats"] = compute_stats(l.data).test_repeats;
  return j;
}

json protocol_json(const EvalOptions& e) {
  json j;
  j["label"] = e.label();
  j["split"] = "leave-one-out";
  j["protocol"] = protocol_name(e.protocol);
  j["ties"] = e.ties == TieRule::kOptimistic ? "optimistic" : "pessimistic";
  j["candidates"] = e.label().substr(0, e.label().find('/'));
  return j;
}

json provenance_json(const Config& c) {
  json j;
  SourceVersion v = source_version();
  j["commit"] = v.commit;
  j["dirty"] = v.dirty;
  j["code_tree"] = v.code_tree;
  j["environment"] = environment_json(c.str("device"));
  return j;
}

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

void print_metrics(const std::string& title, const EvalResult& r, const std::vector<int64_t>& ks) {
  std::cout << title << " [" << r.label << "]: " << format_metrics(r.metrics, ks) << std::endl;
}

int cmd_prepare(const Config& c) {
  auto t0 = std::chrono::steady_clock::now();
  LoadedData l = load(c);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << l.data.name << ": " << format_stats(compute_stats(l.data)) << "\n";
  std::cout << "cache " << l.cache.path << (l.cache.rebuilt ? " (written)" : " (up to date)") << ", "
            << std::fixed << std::setprecision(2) << s << " s" << std::endl;
  return 0;
}

std::shared_ptr<Model> make_model(const Config& c, const Dataset& d) {
  auto m = models().create("model", c.str("model"), ModelContext{c, d});
  m->to(torch::Device(c.str("device")));
  return m;
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
  check_needs(c);
  OutputLock lock(c.str("output"));
  LoadedData l = load(c);
  std::cout << l.data.name << ": " << format_stats(compute_stats(l.data)) << std::endl;
  std::shared_ptr<Model> model = make_model(c, l.data);
  std::unique_ptr<Loss> loss = losses().create("loss", c.str("loss"), c);
  std::unique_ptr<Trainer> trainer = trainers().create("trainer", c.str("trainer"), c);
  EvalOptions eo = eval_options_from(c);
  RankingEvaluator evaluator(eo);

  FitResult fr;
  if (model->parameters().empty()) {
    // Nothing to learn (e.g. popularity): validate once and test.
    auto t0 = std::chrono::steady_clock::now();
    EvalResult v = evaluator.evaluate(*model, l.data, make_eval_set(l.data, Stage::kValid));
    fr.best_valid_metrics = v.metrics;
    fr.best_epoch = 0;
    fr.test = evaluator.evaluate(*model, l.data, make_eval_set(l.data, Stage::kTest));
    fr.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } else {
    std::cout << "training " << c.str("model") << " with " << (trainer->uses_loss() ? loss->name() : "its own objective") << " (" << trainer->name()
              << " trainer, " << c.str("batching") << " batches, " << at::get_num_threads() << " intra-op thread(s))"
              << std::endl;
    if (c.str("device") != "cpu" && c.str("batching") == "split")
      std::cout << "note: split batches encode each batch in parts, which saves padding FLOPs on a CPU but "
                   "multiplies kernel launches on a GPU; --batching packed or padded is faster there" << std::endl;
    fr = fit(*model, *trainer, *loss, l.data, c, evaluator, std::cout);
  }
  print_metrics("test", fr.test, eo.ks);
  // The other history protocol on the same weights, so every run reports both.
  EvalOptions other = eo;
  other.protocol = eo.protocol == Protocol::kReference ? Protocol::kStrict : Protocol::kReference;
  EvalResult other_test = RankingEvaluator(other).evaluate(*model, l.data, make_eval_set(l.data, Stage::kTest));
  print_metrics("test", other_test, eo.ks);

  json j;
  j["command"] = "train";
  j["dataset"] = dataset_json(l);
  j["model"] = c.str("model");
  j["loss"] = trainer->uses_loss() ? c.str("loss") : "none: the " + trainer->name() + " trainer defines its objective";
  j["trainer"] = c.str("trainer");
  j["plugins"] = loaded_plugins();
  j["protocol"] = protocol_json(eo);
  j["seed"] = c.integer("seed");
  j["config_hash"] = c.hash();
  j["config"] = json::parse(c.to_json());
  j["model_options"] = json::parse(model->options_json());
  j["best_epoch"] = fr.best_epoch;
  j["stopped_early"] = fr.stopped_early;
  j["resumes"] = fr.resumes;
  j["epochs_run"] = static_cast<int64_t>(fr.curve.size());
  j["valid_best"] = fr.best_valid_metrics.empty() ? json::object() : metrics_json(fr.best_valid_metrics, eo.ks);
  j["test"] = metrics_json(fr.test.metrics, eo.ks);
  j["test_other_protocol"] = {{"protocol", protocol_json(other)}, {"metrics", metrics_json(other_test.metrics, eo.ks)}};
  if (!model->parameters().empty()) j["item_spectrum"] = normalised_spectrum(model->item_table());
  j["sampler"] = c.str("sampler");
  json curve = json::array();
  double train_sum = 0, eval_sum = 0;
  int64_t evals = 0;
  for (const auto& e : fr.curve) {
    json x;
    x["epoch"] = e.epoch;
    x["loss"] = e.loss;
    x["train_seconds"] = e.train_seconds;
    if (!e.valid.empty()) {
      x["eval_seconds"] = e.eval_seconds;
      x["valid"] = metrics_json(e.valid, eo.ks);
      eval_sum += e.eval_seconds;
      ++evals;
    }
    train_sum += e.train_seconds;
    curve.push_back(x);
  }
  j["curve"] = curve;
  json timing;
  timing["epoch_seconds_mean"] = fr.curve.empty() ? 0.0 : train_sum / fr.curve.size();
  timing["valid_eval_seconds_mean"] = evals ? eval_sum / evals : 0.0;
  timing["test_eval_seconds"] = fr.test.seconds;
  timing["total_seconds"] = fr.total_seconds;
  if (fr.states_written) {
    timing["state_write_seconds_mean"] = fr.state_seconds / fr.states_written;
    timing["state_bytes"] = fr.state_bytes;
  }
  j["timing"] = timing;
  j["peak_rss_bytes"] = peak_rss_bytes();
  j["seqrec"] = provenance_json(c);
  // The rank file and the checkpoint first: the result JSON, written last, is what marks a
  // run finished (bench, table), so a failed write never leaves a result without its ranks.
  if (c.has("ranks")) j["ranks_fnv1a"] = save_ranks(fr.test, c.str("ranks"));
  if (c.has("save")) {
    StateDict sd = state_dict_of(*model);
    json meta;
    meta["model"] = c.str("model");
    meta["config"] = json::parse(c.to_json());
    meta["model_options"] = json::parse(model->options_json());
    meta["dataset"] = dataset_json(l);
    meta["test"] = j["test"];
    sd.metadata_json = meta.dump(2);
    write_state_dict(c.str("save"), sd);
    std::cout << "checkpoint written to " << c.str("save") << std::endl;
  }
  if (c.has("output")) {
    write_json(c.str("output"), j);
    std::cout << "result written to " << c.str("output") << std::endl;
    if (!c.flag("keep-state")) std::filesystem::remove(state_path_of(c));
  }
  return 0;
}

/// Keys that describe the model architecture (restored from a checkpoint's metadata).
bool is_model_key(const std::string& k) { return k == "model" || k == "max-len" || k.find('.') != std::string::npos; }

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
    // A reference (ELECRec/S3Rec) state dict: SASRec, sizes read off the tensors.
    const torch::Tensor* items = sd.find("item_embeddings.weight");
    const torch::Tensor* pos = sd.find("position_embeddings.weight");
    if (!items || !pos) throw Error(cli.str("checkpoint") + ": no item_embeddings/position_embeddings: not a SASRec-family state dict");
    int64_t layers = 0;
    while (sd.find("item_encoder.layer." + std::to_string(layers) + ".attention.query.weight")) ++layers;
    if (cli.source("model") != "command line") c.set("model", "sasrec", "checkpoint");
    if (cli.source("sasrec.hidden-size") != "command line") c.set("sasrec.hidden-size", std::to_string(items->size(1)), "checkpoint");
    if (cli.source("sasrec.layers") != "command line") c.set("sasrec.layers", std::to_string(layers), "checkpoint");
    if (cli.source("max-len") != "command line") c.set("max-len", std::to_string(pos->size(0)), "checkpoint");
  }
  LoadedData l = load(c);
  std::shared_ptr<Model> model = make_model(c, l.data);
  const torch::Tensor* items = sd.find("item_embeddings.weight");
  if (items && items->size(0) != l.data.item_size())
    throw Error(cli.str("checkpoint") + ": item table has " + std::to_string(items->size(0)) + " rows but " + l.data.name +
                " needs " + std::to_string(l.data.item_size()) + " (max item id + 2): checkpoint and dataset do not match");
  std::vector<std::string> unused = load_state_dict(*model, sd);
  if (!unused.empty()) {
    std::cout << "note: " << unused.size() << " checkpoint tensor(s) not used by " << c.str("model") << ":";
    for (const auto& u : unused) std::cout << " " << u;
    std::cout << std::endl;
  }
  EvalOptions eo = eval_options_from(c);
  RankingEvaluator evaluator(eo);
  const Stage stage = c.str("stage") == "valid" ? Stage::kValid : Stage::kTest;
  EvalResult r = evaluator.evaluate(*model, l.data, make_eval_set(l.data, stage));
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print_metrics(c.str("stage"), r, eo.ks);
  std::cout << std::fixed << std::setprecision(3) << "eval " << r.seconds << " s, total with loading " << total << " s"
            << std::endl;
  std::string ranks_checksum;
  if (c.has("ranks")) ranks_checksum = save_ranks(r, c.str("ranks"));  // before the JSON, as in train
  if (c.has("json")) {
    json j;
    if (!ranks_checksum.empty()) j["ranks_fnv1a"] = ranks_checksum;
    j["command"] = "eval";
    j["checkpoint"] = c.str("checkpoint");
    j["stage"] = c.str("stage");
    j["dataset"] = dataset_json(l);
    j["protocol"] = protocol_json(eo);
    j["metrics"] = metrics_json(r.metrics, eo.ks);
    j["users"] = static_cast<int64_t>(r.users.size());
    j["eval_seconds"] = r.seconds;
    j["total_seconds"] = total;
    j["config_hash"] = c.hash();
    j["config"] = json::parse(c.to_json());
    j["seqrec"] = provenance_json(c);
    write_json(c.str("json"), j);
  }
  return 0;
}

int cmd_demo(Config c) {
  // The main job: a small benchmark on the generated Markov dataset.
  if (c.source("data") == "default") c.set("data", "synthetic:markov");
  if (c.source("epochs") == "default") c.set("epochs", "30");
  if (c.source("patience") == "default") c.set("patience", "5");
  LoadedData l = load(c);
  std::cout << "demo dataset " << l.path << ": " << format_stats(compute_stats(l.data)) << std::endl;
  EvalOptions eo = eval_options_from(c);
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
    std::shared_ptr<Model> model = make_model(mc, l.data);
    RankingEvaluator ev(eo);
    EvalResult test;
    if (model->parameters().empty()) {
      test = ev.evaluate(*model, l.data, make_eval_set(l.data, Stage::kTest));
    } else {
      auto loss = losses().create("loss", mc.str("loss"), mc);
      auto trainer = trainers().create("trainer", mc.str("trainer"), mc);
      test = fit(*model, *trainer, *loss, l.data, mc, ev, std::cout).test;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows.push_back({m == "pop" ? "pop" : "sasrec+" + mc.str("loss"), test.metrics, s});
  }
  std::cout << "\n| model | HIT@10 | NDCG@10 | MRR | seconds |\n|---|---|---|---|---|\n" << std::fixed;
  for (const auto& r : rows)
    std::cout << "| " << r.name << " | " << std::setprecision(4) << r.m.at("hit@10") << " | " << r.m.at("ndcg@10")
              << " | " << r.m.at("mrr") << " | " << std::setprecision(1) << r.seconds << " |\n";
  std::cout << "protocol: " << eo.label() << ", test set, leave-one-out" << std::endl;
  return 0;
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
    if (cmd == "bench") return cmd_bench(rest);
    if (cmd == "table") return cmd_table(rest);
    if (cmd == "plot") return cmd_plot(rest);
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
    if (cmd == "list") {
      std::cout << describe_registries();
      std::cout << "plugins loaded:";
      for (const auto& p : loaded_plugins()) std::cout << " " << p;
      std::cout << (loaded_plugins().empty() ? " none\n" : "\n");
      return 0;
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
