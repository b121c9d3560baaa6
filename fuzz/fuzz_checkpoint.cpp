// The PyTorch zip/pickle checkpoint reader.
#include "fuzz_util.h"
#include "seqrec/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = seqrec::fuzz::write_input({reinterpret_cast<const char*>(data), size}, ".pt");
  return seqrec::fuzz::refuse_or_read([&] { seqrec::read_state_dict(path); });
}
