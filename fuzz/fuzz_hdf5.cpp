// The HDF5 readers: the dataset cache (first byte even) and rank files (odd). The second
// byte says whether the rest gets a valid checksum trailer, so the fuzzer reaches both the
// checksum check and HDF5's parser behind it.
#include "fuzz_util.h"
#include "seqrec/cache.h"
#include "seqrec/evaluator.h"
#include "seqrec/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
  if (data[1] & 1) body = seqrec::with_checksum(std::move(body));
  const std::string& path = seqrec::fuzz::write_input(body, ".h5");
  return seqrec::fuzz::refuse_or_read([&] {
    if (data[0] & 1) {
      seqrec::load_ranks(path);
    } else {
      seqrec::Dataset d;
      seqrec::read_cache(path, "5a3e3cd5f4d722a7", {}, &d);
    }
  });
}
