#include "report/runs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "seqrec/cache.h"
#include "seqrec/config.h"
#include "seqrec/error.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace seqrec {

std::string method_name(const json& j, const std::string& path) {
  const json& c = j.at("config");
  if (c.contains("label") && !c["label"].get<std::string>().empty()) return c["label"];
  // A run filed in a grid's layout ({output}/{dataset}/{method}/seed*.json) is that method.
  const fs::path dir = fs::path(path).parent_path();
  const bool named = j.contains("dataset") && j["dataset"].is_object();
  if (!path.empty() && named && dir.parent_path().filename() == j["dataset"].value("name", "") &&
      fs::path(path).filename().string().rfind("seed", 0) == 0)
    return dir.filename().string();
  std::string m = j.value("model", "?");
  const std::string trainer = j.value("trainer", "plain");
  if (trainer == m) return m;  // a model with its own strategy, e.g. elecrec
  if (trainer != "plain") return m + "+" + trainer;
  return m + "+" + c.value("loss", "?");
}

namespace {

/// One train result's record (json errors are the caller's to word). By value: a missing
/// key reads as null, which then fails with a json error, not undefined behaviour.
RunRecord read_run(const std::string& f, json j, const std::string& name, bool other_protocol) {
  RunRecord r;
  r.path = f;
  r.doc = j;
  r.method = name.empty() ? method_name(j, f) : name;
  r.dataset = j["dataset"].value("name", "?");
  r.dataset_hash = j["dataset"].value("source_hash", "?");
  r.protocol = j["protocol"].value("label", "?");
  r.config_hash = j.value("config_hash", "?");
  r.commit = j["seqrec"].value("commit", "?") + (j["seqrec"].value("dirty", false) ? "+dirty" : "");
  r.ranks = j["config"].value("ranks", "");
  // Rank files written elsewhere and filed beside the result later: <result>.ranks.h5.
  const std::string beside = f.substr(0, f.size() - 5) + ".ranks.h5";
  if ((r.ranks.empty() || !fs::exists(r.ranks)) && fs::exists(beside)) r.ranks = beside;
  // A result that recorded its rank file's checksum is only read with that very file.
  if (j.contains("ranks_fnv1a")) {
    if (r.ranks.empty() || !fs::exists(r.ranks))
      throw Error(f + ": its rank file " + (r.ranks.empty() ? beside : r.ranks) + " is missing");
    if (hash_file(r.ranks) != j["ranks_fnv1a"].get<std::string>())
      throw Error(f + ": its rank file " + r.ranks + " does not match the checksum the result recorded (damaged or replaced)");
  }
  r.seed = j.value("seed", 0);
  const json* test = &j["test"];
  if (other_protocol) {
    if (!j.contains("test_other_protocol")) throw Error(f + ": no test_other_protocol (trained before seqrec recorded both)");
    test = &j["test_other_protocol"]["metrics"];
    r.protocol = j["test_other_protocol"]["protocol"].value("label", "?");
  }
  for (const auto& [k, v] : test->items()) r.test[k] = v.get<double>();
  return r;
}

}  // namespace

std::vector<RunRecord> read_runs(const std::vector<std::string>& inputs, bool other_protocol) {
  std::vector<std::string> files;
  std::map<std::string, std::string> names;  // file -> name given as NAME=PATH
  for (std::string in : inputs) {
    const size_t eq = in.find('=');
    std::string name;
    if (eq != std::string::npos && in.substr(0, eq).find('/') == std::string::npos) {
      name = in.substr(0, eq);
      in = in.substr(eq + 1);
    }
    if (fs::is_directory(in)) {
      for (const auto& e : fs::recursive_directory_iterator(in))
        if (e.path().extension() == ".json") files.push_back(e.path().string()), names[files.back()] = name;
    } else if (fs::exists(in)) {
      files.push_back(in);
      names[in] = name;
    } else {
      throw Error(in + ": no such result file or directory");
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<RunRecord> runs;
  for (const auto& f : files) {
    std::ifstream s(f);
    json j;
    try {
      s >> j;
    } catch (const std::exception& e) {
      throw Error(f + ": not JSON (" + e.what() + ")");
    }
    try {
      if (j.is_object() && j.value("command", "") == "train") runs.push_back(read_run(f, j, names[f], other_protocol));
    } catch (const nlohmann::json::exception& e) {
      throw Error(f + ": not a seqrec result (" + e.what() + ")");
    }
  }
  if (runs.empty()) throw Error("no train results among the inputs");
  return runs;
}

std::vector<Published> read_published(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  std::vector<Published> published;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() != 5) throw Error(path + ":" + std::to_string(no) + ": expected method,dataset,metric,value,source");
    if (f[0] == "method") continue;  // header
    auto it = std::find_if(published.begin(), published.end(), [&](const Published& p) { return p.method == f[0] && p.source == f[4]; });
    if (it == published.end()) it = published.insert(published.end(), {f[0], f[4], {}});
    it->value[{f[1], f[2]}] = to_real(f[3], path + ":" + std::to_string(no));
  }
  return published;
}

}  // namespace seqrec
