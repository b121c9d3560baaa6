#pragma once
/// Provenance of a run: what every result file records besides its metrics.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace seqrec {

/// The seqrec commit this binary was built from and whether its code (framework, baselines,
/// plugin, benchmarks, tests, CMake) differed from it, taken at build time ("unknown" when the
/// build saw no git checkout).
struct SourceVersion {
  std::string commit;
  bool dirty = false;
  std::string code_tree;  ///< git tree id of the code paths as built (scripts/verify_build.sh)
};
SourceVersion source_version();
/// How logs, training states and tables name a build: its commit, "+dirty" when its code
/// differed from it.
inline std::string build_name(const std::string& commit, bool dirty) {
  return commit + (dirty ? "+dirty" : "");
}

/// Peak resident memory of this process, bytes.
int64_t peak_rss_bytes();

/// Environment facts: LibTorch version, threads, BLAS, host.
nlohmann::ordered_json environment_json(const std::string& device);

}  // namespace seqrec
