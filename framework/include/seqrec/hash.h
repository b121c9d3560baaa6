#pragma once
/// The one content hash of seqrec (run hashes, dataset hashes, cache names, file checksums).
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace seqrec {

constexpr uint64_t kFnv1aOffset = 1469598103934665603ULL;

/// 64-bit FNV-1a of `bytes`, continuing from `h` (so hashing in chunks gives the same value).
inline uint64_t fnv1a(std::string_view bytes, uint64_t h = kFnv1aOffset) {
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

/// The low `digits` hex digits of `h` (16: all of it).
inline std::string hex_digits(uint64_t h, int digits = 16) {
  char buf[17];
  if (digits < 16) h &= (uint64_t{1} << (4 * digits)) - 1;
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace seqrec
