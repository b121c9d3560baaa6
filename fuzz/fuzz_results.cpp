// The result-JSON reader of `seqrec table`.
#include "fuzz_util.h"
#include "report/runs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = seqrec::fuzz::write_input({reinterpret_cast<const char*>(data), size}, ".json");
  return seqrec::fuzz::refuse_or_read([&] { seqrec::read_runs({path}); });
}
