// A source format in one file: one {"user": ..., "item": ..., "time": ...} object per line.
#include <nlohmann/json.hpp>

#include "seqrec/dataset.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace {
seqrec::Dataset read_jsonl(const std::string& path, const seqrec::PrepareOptions& options) {
  seqrec::SourceStream in = seqrec::open_source(path);  // gzip-compressed files too
  seqrec::InteractionTable table;
  std::string line;
  for (long n = 1; std::getline(*in.in, line); ++n) {
    if (line.empty()) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      table.add(j.at("user").get<std::string>(), j.at("item").get<std::string>(), j.at("time").get<double>());
    } catch (const nlohmann::json::exception& e) {
      throw seqrec::data_error(path, n, e.what());
    }
  }
  return table.build(path, options.k_core);
}

void register_jsonl(seqrec::PluginHost& host) {
  host.formats->add("jsonl", {read_jsonl, {".jsonl"}, "one {\"user\", \"item\", \"time\"} object per line", host.origin});
}
}  // namespace

SEQREC_BUILTIN(register_jsonl);
