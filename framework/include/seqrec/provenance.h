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

/// Threads of the BLAS LibTorch calls, where the selected libblas.so.3 is OpenBLAS: they are
/// its own, not LibTorch's intra-op threads, and by default one per core, spinning between
/// calls. Unless OPENBLAS_NUM_THREADS is set (the user's choice stands), OpenBLAS gets
/// `threads`. Nothing happens under another BLAS.
void bound_blas_threads(int64_t threads);
/// OpenBLAS's thread count now; -1 under another BLAS.
int64_t blas_threads();

/// Environment facts: LibTorch version, threads, BLAS, host.
nlohmann::ordered_json environment_json(const std::string& device);

}  // namespace seqrec
