// The dataset readers: the first byte picks lines, .inter or CSV (and a k-core for the
// latter two); the rest is the file.
#include "fuzz_util.h"
#include "seqrec/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int pick = data[0] % 3, k_core = (data[0] / 3) % 4;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string& path = seqrec::fuzz::write_input(body, pick == 0 ? ".txt" : pick == 1 ? ".inter" : ".csv");
  return seqrec::fuzz::refuse_or_read([&] {
    seqrec::Dataset d = pick == 0 ? seqrec::read_lines(path) : pick == 1 ? seqrec::read_inter(path, k_core) : seqrec::read_csv(path, k_core);
    seqrec::compute_stats(d);
  });
}
