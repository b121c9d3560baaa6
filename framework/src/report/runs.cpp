#include "report/runs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "seqrec/cache.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/provenance.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace seqrec {

std::string method_name(const RunResult& r, const std::string& path) {
  auto label = r.config.find("label");
  if (label != r.config.end() && !label->second.empty()) return label->second;
  // A run filed in a grid's layout ({output}/{dataset}/{method}/seed*.json) is that method.
  const fs::path dir = fs::path(path).parent_path();
  if (!path.empty() && dir.parent_path().filename() == r.dataset.name && fs::path(path).filename().string().rfind("seed", 0) == 0)
    return dir.filename().string();
  if (r.trainer == r.model) return r.model;  // a model with its own strategy, e.g. elecrec
  if (r.epochs_run == 0) return r.model;     // nothing trained (popularity): no loss to name
  if (r.trainer != "plain") return r.model + "+" + r.trainer;
  auto loss = r.config.find("loss");
  return r.model + "+" + (loss == r.config.end() ? "?" : loss->second);
}

namespace {

RunRecord read_run(const std::string& f, RunResult result, const std::string& name, TestView view) {
  RunRecord r;
  r.path = f;
  r.method = name.empty() ? method_name(result, f) : name;
  r.dataset = result.dataset.name;
  r.dataset_hash = result.dataset.source_hash;
  r.protocol = result.protocol.label;
  r.config_hash = result.config_hash;
  r.commit = build_name(result.seqrec.commit, result.seqrec.dirty);
  r.ranks = result.ranks_path();
  // Rank files written elsewhere and filed beside the result later: <result>.ranks.h5.
  const std::string beside = f.substr(0, f.size() - 5) + ".ranks.h5";
  if ((r.ranks.empty() || !fs::exists(r.ranks)) && fs::exists(beside)) r.ranks = beside;
  // A result that recorded its rank file's checksum is only read with that very file.
  if (result.ranks_fnv1a) {
    if (r.ranks.empty() || !fs::exists(r.ranks))
      throw Error(f + ": its rank file " + (r.ranks.empty() ? beside : r.ranks) + " is missing");
    if (hash_file(r.ranks) != *result.ranks_fnv1a)
      throw Error(f + ": its rank file " + r.ranks + " does not match the checksum the result recorded (damaged or replaced)");
  }
  r.seed = result.seed;
  const Metrics* test = &result.test;
  if (view != TestView::kOwn) {
    struct Recorded {
      const std::optional<std::pair<ProtocolInfo, Metrics>>& test;
      const char* missing;
    };
    const Recorded v =
        view == TestView::kOtherProtocol
            ? Recorded{result.test_other_protocol, "test_other_protocol (trained before seqrec recorded both)"}
        : view == TestView::kOtherTies
            ? Recorded{result.test_other_ties, "test_other_ties (trained before seqrec recorded both tie rules)"}
            : Recorded{result.test_shuffled_history,
                       "test_shuffled_history (trained before seqrec recorded the sequentiality check)"};
    if (!v.test) throw Error(f + ": no " + v.missing);
    test = &v.test->second;
    r.protocol = v.test->first.label;
  }
  for (const auto& [k, v] : *test) r.test[k] = v;
  if (view == TestView::kOwn && result.test_full_ranking)
    for (const auto& [k, v] : result.test_full_ranking->second) r.test_full[k] = v;
  r.result = std::move(result);
  return r;
}

}  // namespace

std::vector<RunRecord> read_runs(const std::vector<std::string>& inputs, TestView view) {
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
    nlohmann::ordered_json j;
    try {
      j = nlohmann::ordered_json::parse(read_file(f));
    } catch (const std::exception& e) {
      throw Error(f + ": not JSON (" + e.what() + ")");
    }
    // Eval results and other JSON (a "command" of another type included: value() would throw).
    if (!j.is_object() || !j.contains("command") || j["command"] != "train") continue;
    try {
      runs.push_back(read_run(f, run_result_from_json(j), names[f], view));
    } catch (const json::exception& e) {
      throw Error(f + ": not a seqrec result (" + e.what() + ")");
    } catch (const Error& e) {
      const std::string what = e.what();
      throw Error(what.rfind(f, 0) == 0 ? what : f + ": " + what);
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
    const std::string where = path + ":" + std::to_string(no);
    if (f.size() != 5 && f.size() != 6) throw Error(where + ": expected method,dataset,metric,value,source[,seqrec_method]");
    if (f[0] == "method") continue;  // header
    f.resize(6);
    auto it = std::find_if(published.begin(), published.end(), [&](const Published& p) { return p.method == f[0] && p.source == f[4]; });
    if (it == published.end()) it = published.insert(published.end(), {f[0], f[4], f[5], {}});
    if (it->seqrec_method != f[5])
      throw Error(where + ": " + f[0] + " (" + f[4] + ") is reproduced by " + (f[5].empty() ? "no method" : f[5]) +
                  " here and by " + (it->seqrec_method.empty() ? "no method" : it->seqrec_method) + " above");
    it->value[{f[1], f[2]}] = to_real(f[3], where);
  }
  return published;
}

}  // namespace seqrec
