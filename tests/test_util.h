#pragma once
// Helpers shared by the tests: temporary directories and small synthetic files.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <string>

#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/registry.h"

namespace seqrec::testing {

/// A fresh directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("seqrec-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }
  /// Number of entries in the directory tree.
  size_t count() const {
    size_t n = 0;
    for (auto it = std::filesystem::recursive_directory_iterator(path_); it != std::filesystem::recursive_directory_iterator(); ++it) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

/// What `f` throws as a seqrec::Error, or "" when it throws nothing.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// A config with every built-in key at its default, then the given overrides.
inline Config default_config(std::initializer_list<std::pair<std::string, std::string>> overrides = {}) {
  register_builtins();
  Config c(schema());
  for (const auto& [k, v] : overrides) c.set(k, v);
  return c;
}

}  // namespace seqrec::testing
