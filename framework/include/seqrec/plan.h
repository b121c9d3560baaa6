#pragma once
/// What a bench grid and a tune file share: methods' configs run on datasets with the same
/// overrides, read by one INI reader.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace seqrec {

/// The keys both files have in their main section ([grid], [tune]).
struct Plan {
  std::vector<std::string> datasets, methods;                  ///< substituted for {dataset}, {method}
  std::string config_pattern, output;                          ///< config = configs/{dataset}-{method}.ini
  std::vector<std::pair<std::string, std::string>> overrides;  ///< set = k=v; ... for every run (hashed)
  int64_t threads = 0;                                         ///< intra-op threads a run (0: one per core)
};

/// An INI plan file: `key = value` lines by section, `#` comments; a line before any section
/// header belongs to `main`. Errors name the file and line.
struct PlanFile {
  struct Line {
    std::string value, where;  ///< where: "path:line"
  };
  std::string path;
  std::map<std::string, std::map<std::string, Line>> sections;  ///< section -> key -> line
  /// The main section's keys: Plan's, read into `p`, and `own` ones that the caller reads
  /// (main(key)); any other key is an Error naming `kind` ("grid", "tune").
  void read_plan(const std::string& kind, const std::vector<std::string>& own, Plan* p) const;
  /// The main section's value of `key`, or `fallback` when the file does not set it.
  std::string main(const std::string& key, const std::string& fallback = "") const;
  /// The main section's line of `key`; nullptr when the file does not set it.
  const Line* find(const std::string& key) const;
  /// The main section's integer `key` (at least `lo`), or `fallback` when the file does not
  /// set it (an empty value is an Error).
  int64_t integer(const std::string& key, int64_t fallback, int64_t lo) const;
  std::string main_section;
};
/// Reads `path`; `section_ok(name)` false for a section header is an Error quoting `sections`
/// (e.g. "[tune] and [space METHOD]").
PlanFile read_plan_file(const std::string& path, const std::string& main_section, bool (*section_ok)(const std::string&),
                        const std::string& sections);

}  // namespace seqrec
