#include "seqrec/provenance.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <torch/version.h>
#include <unistd.h>

#include <ATen/Parallel.h>
#include <cmath>
#include <cstdlib>

#include "seqrec/build_info.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/git_version.h"

namespace seqrec {

SourceVersion source_version() { return {SEQREC_BUILD_COMMIT, SEQREC_BUILD_DIRTY, SEQREC_BUILD_CODE_TREE}; }

int64_t peak_rss_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

namespace {
/// An OpenBLAS entry point, looked up at run time: LibTorch links whichever libblas.so.3 is selected.
template <typename Fn>
Fn openblas_function(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}
}  // namespace

void bound_blas_threads(int64_t threads) {
  if (std::getenv("OPENBLAS_NUM_THREADS")) return;
  if (auto set = openblas_function<void (*)(int)>("openblas_set_num_threads")) set(static_cast<int>(threads));
}

int64_t blas_threads() {
  auto get = openblas_function<int (*)()>("openblas_get_num_threads");
  return get ? get() : -1;
}

nlohmann::ordered_json environment_json(const std::string& device) {
  nlohmann::ordered_json j;
  j["seqrec_version"] = SEQREC_VERSION;
  j["libtorch_version"] = TORCH_VERSION;
  j["device"] = device;
  j["intra_op_threads"] = at::get_num_threads();
  const char* blas = std::getenv("OPENBLAS_NUM_THREADS");
  j["openblas_num_threads_env"] = blas ? blas : "";
  j["blas_threads"] = blas_threads();
  j["hardware_threads"] = static_cast<int64_t>(sysconf(_SC_NPROCESSORS_ONLN));
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  j["host"] = host;
  return j;
}

}  // namespace seqrec
