#include "train/state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/files.h"

namespace seqrec {
namespace {

constexpr int64_t kStateFormat = 1;

std::string rng_text(const std::mt19937_64& rng) {
  std::ostringstream o;
  o << rng;
  return o.str();
}

std::mt19937_64 rng_from(const std::string& text) {
  std::mt19937_64 rng;
  std::istringstream in(text);
  in >> rng;
  return rng;
}

torch::Tensor generator_state(at::Generator g) {
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}

void set_generator_state(at::Generator g, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state.cpu());
}

/// The tensors a state holds for `model` (parameters, then buffers), under names "t0", "t1", ...
/// (archive keys cannot hold the modules' dots).
std::vector<torch::Tensor> state_tensors(Model& model) {
  std::vector<torch::Tensor> t;
  for (const auto& p : model.named_parameters()) t.push_back(p.value());
  for (const auto& b : model.named_buffers()) t.push_back(b.value());
  return t;
}

nlohmann::json metrics_to_json(const std::map<std::string, double>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::map<std::string, double> metrics_from_json(const nlohmann::json& j) {
  std::map<std::string, double> m;
  for (auto it = j.begin(); it != j.end(); ++it) m[it.key()] = it.value().get<double>();
  return m;
}

/// Loads a state's archive (checksum verified) and checks its format.
void load_state_archive(const std::string& path, torch::Device device, torch::serialize::InputArchive& a) {
  std::istringstream bytes(read_checked_file(path));
  a.load_from(bytes, device);
  c10::IValue v;
  a.read("format", v);
  if (v.toInt() != kStateFormat)
    throw Error(path + ": training state format " + std::to_string(v.toInt()) + ", this seqrec reads " +
                std::to_string(kStateFormat) + "; remove it to start over");
}

}  // namespace

int64_t write_state(const std::string& path, const Config& config, Model& model, const Trainer& trainer,
                 const std::vector<std::pair<std::string, torch::Tensor>>& best, const FitResult& result,
                 const RunPosition& at, double seconds_now, torch::Device device) {
  nlohmann::json progress;
  progress["epoch"] = at.epoch;
  progress["next_batch"] = at.next_batch;
  progress["loss_sum"] = at.loss_sum;
  progress["epoch_seconds"] = at.epoch_seconds;
  progress["seconds"] = at.seconds_before + seconds_now;
  progress["since_best"] = at.since_best;
  progress["best_epoch"] = result.best_epoch;
  progress["best_valid"] = result.best_valid;
  progress["best_valid_metrics"] = metrics_to_json(result.best_valid_metrics);
  progress["resumes"] = result.resumes;
  progress["builds"] = result.builds;
  progress["world_size"] = dist::world();
  nlohmann::json curve = nlohmann::json::array();
  for (const EpochLog& e : result.curve)
    curve.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"train_seconds", e.train_seconds},
                     {"eval_seconds", e.eval_seconds}, {"valid", metrics_to_json(e.valid)}});
  progress["curve"] = curve;

  torch::serialize::OutputArchive a;
  a.write("format", c10::IValue(kStateFormat));
  a.write("config", c10::IValue(config.to_json()));
  a.write("config_hash", c10::IValue(config.hash()));
  a.write("progress", c10::IValue(progress.dump()));
  a.write("rng", c10::IValue(rng_text(at.rng)));
  a.write("epoch_rng", c10::IValue(rng_text(at.epoch_rng)));
  a.write("cpu_generator", generator_state(at::detail::getDefaultCPUGenerator()));
  if (device.is_cuda()) a.write("cuda_generator", generator_state(at::globalContext().defaultGenerator(device)));
  torch::serialize::OutputArchive weights, best_weights, strategy;
  std::vector<torch::Tensor> t = state_tensors(model);
  for (size_t i = 0; i < t.size(); ++i) weights.write("t" + std::to_string(i), t[i].detach(), /*is_buffer=*/true);
  for (size_t i = 0; i < best.size(); ++i) best_weights.write("t" + std::to_string(i), best[i].second, /*is_buffer=*/true);
  trainer.save_state(strategy);
  a.write("weights", weights);
  a.write("best", best_weights);
  a.write("trainer", strategy);
  // Streamed to the file: at a million items a 1.04 GB state, held in memory and copied while
  // written, took a run's peak RSS from 2.72 GiB to 4.92 GiB; streamed, it stays at 2.73 GiB.
  return write_checked_file_atomically(path, [&](std::ostream& out) { a.save_to(out); });
}

bool read_state(const std::string& path, const Config& config, Model& model, Trainer& trainer,
                std::vector<std::pair<std::string, torch::Tensor>>* best, FitResult* result, RunPosition* at,
                torch::Device device) {
  if (!std::filesystem::exists(path)) return false;
  torch::serialize::InputArchive a;
  nlohmann::json progress;
  try {
    load_state_archive(path, device, a);
    c10::IValue v;
    // The recorded config, not its hash: a state stays valid across a change of hash rule.
    a.read("config", v);
    const std::string differing =
        config.differing_keys(nlohmann::json::parse(v.toStringRef()).get<std::map<std::string, std::string>>());
    if (!differing.empty())
      throw Error(path + ": written by another config (differs in: " + differing + "); remove it to start over");
    a.read("progress", v);
    progress = nlohmann::json::parse(v.toStringRef());
    // Ranks are not a config key, yet a job of another size would go on with other sampler
    // streams under a result that records one world size. (States before this check lack it.)
    const int64_t world = progress.value("world_size", dist::world());
    if (world != dist::world())
      throw Error(path + ": written by a job of " + std::to_string(world) + " process(es), this one has " +
                  std::to_string(dist::world()) + "; resume with seqrec launch -n " + std::to_string(world) +
                  " (or remove it to start over)");
    a.read("rng", v);
    at->rng = rng_from(v.toStringRef());
    a.read("epoch_rng", v);
    at->epoch_rng = rng_from(v.toStringRef());
    torch::Tensor gen;
    a.read("cpu_generator", gen);
    set_generator_state(at::detail::getDefaultCPUGenerator(), gen);
    if (device.is_cuda()) {
      a.read("cuda_generator", gen);
      set_generator_state(at::globalContext().defaultGenerator(device), gen);
    }
    torch::serialize::InputArchive weights, best_weights, strategy;
    a.read("weights", weights);
    a.read("best", best_weights);
    a.read("trainer", strategy);
    torch::NoGradGuard g;
    std::vector<torch::Tensor> t = state_tensors(model);
    for (size_t i = 0; i < t.size(); ++i) {
      torch::Tensor x;
      weights.read("t" + std::to_string(i), x, /*is_buffer=*/true);
      t[i].copy_(x);
    }
    best->clear();
    if (progress["best_epoch"].get<int64_t>() > 0) {
      for (const auto& p : model.named_parameters()) {
        torch::Tensor x;
        best_weights.read("t" + std::to_string(best->size()), x, /*is_buffer=*/true);
        best->emplace_back(p.key(), x);
      }
    }
    trainer.load_state(strategy);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": not a readable training state of this run (" +
                std::string(e.what()).substr(0, std::string(e.what()).find('\n')) + "); remove it to start over");
  }
  at->epoch = progress["epoch"];
  at->next_batch = progress["next_batch"];
  at->loss_sum = progress["loss_sum"];
  at->epoch_seconds = progress["epoch_seconds"];
  at->seconds_before = progress["seconds"];
  at->since_best = progress["since_best"];
  result->best_epoch = progress["best_epoch"];
  result->best_valid = progress["best_valid"];
  result->best_valid_metrics = metrics_from_json(progress["best_valid_metrics"]);
  result->resumes = progress["resumes"].get<int64_t>() + 1;
  result->builds = progress.value("builds", std::vector<std::string>{"unknown"});
  for (const auto& e : progress["curve"])
    result->curve.push_back(
        {e["epoch"], e["loss"], e["train_seconds"], e["eval_seconds"], metrics_from_json(e["valid"]), {}});
  return true;
}

StateProgress read_state_progress(const std::string& path) {
  try {
    torch::serialize::InputArchive a;
    load_state_archive(path, torch::kCPU, a);
    c10::IValue v;
    a.read("config", v);
    const auto config = nlohmann::json::parse(v.toStringRef());
    a.read("progress", v);
    const auto progress = nlohmann::json::parse(v.toStringRef());
    return {progress.at("epoch"), progress.at("next_batch"), progress.at("best_epoch"), progress.at("resumes"),
            progress.at("best_valid"), progress.at("seconds"), config.value("metric", ""), config.value("epochs", "")};
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": not a readable training state (" + std::string(e.what()).substr(0, std::string(e.what()).find('\n')) + ")");
  }
}

}  // namespace seqrec
