#pragma once
// Shared by the libFuzzer targets: each writes the input where the reader expects a file
// and calls the reader. A seqrec::Error is the reader's one-line refusal: fine. Anything
// else escaping (another exception type, a crash, a sanitizer report) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include "seqrec/error.h"

namespace seqrec::fuzz {

/// A file of this process under $TMPDIR (default /tmp) holding `bytes`; the same path for
/// the same suffix, removed when the process exits.
inline const std::string& write_input(std::string_view bytes, const std::string& suffix) {
  struct Paths {
    std::string prefix, last;
    std::set<std::string> made;
    ~Paths() {
      for (const auto& p : made) std::remove(p.c_str());
    }
  };
  static Paths paths{[] {
    const char* t = std::getenv("TMPDIR");
    return std::string(t && *t ? t : "/tmp") + "/seqrec-fuzz-" + std::to_string(getpid());
  }(), "", {}};
  paths.last = paths.prefix + suffix;
  paths.made.insert(paths.last);
  std::ofstream(paths.last, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return paths.last;
}

template <typename F>
int refuse_or_read(F&& read) {
  try {
    read();
  } catch (const seqrec::Error&) {
  }
  return 0;
}

}  // namespace seqrec::fuzz
