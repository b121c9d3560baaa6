// The grid file reader of `seqrec bench`.
#include "fuzz_util.h"
#include "seqrec/bench.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = seqrec::fuzz::write_input({reinterpret_cast<const char*>(data), size}, ".grid.ini");
  return seqrec::fuzz::refuse_or_read([&] { seqrec::read_grid(path); });
}
