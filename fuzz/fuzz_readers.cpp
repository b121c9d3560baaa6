// The dataset readers: the first byte picks lines, .inter, CSV or MovieLens (and a k-core and
// a rating threshold for the row formats); the rest is the file.
#include "fuzz_util.h"
#include "seqrec/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int pick = data[0] % 4;
  seqrec::PrepareOptions o;
  o.k_core = (data[0] / 4) % 4;
  if (data[0] >= 128) o.min_rating = 3;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const char* ending[] = {".txt", ".inter", ".csv", ".dat"};
  const std::string& path = seqrec::fuzz::write_input(body, ending[pick]);
  return seqrec::fuzz::refuse_or_read([&] {
    seqrec::Dataset d = pick == 0   ? seqrec::read_lines(path)
                        : pick == 1 ? seqrec::read_inter(path, o)
                        : pick == 2 ? seqrec::read_csv(path, o)
                                    : seqrec::read_movielens(path, o);
    seqrec::compute_stats(d);
  });
}
