#pragma once
/// A registry of named values rather than factories: source formats (dataset.h) and metrics
/// (metric.h). Plugins add to it through PluginHost like to every other registry.
#include <string>
#include <utility>
#include <vector>

#include "seqrec/error.h"

namespace seqrec {

/// Named values in registration order. T has a `std::string origin` ("builtin" or a plugin's
/// path); a name added twice is an Error naming both origins, never a silent replacement.
template <typename T>
class ValueRegistry {
 public:
  explicit ValueRegistry(std::string kind) : kind_(std::move(kind)) {}
  void add(const std::string& name, T value) {
    if (const T* old = find(name))
      throw Error(kind_ + " '" + name + "' is registered twice: by " + old->origin + " and by " + value.origin);
    entries_.emplace_back(name, std::move(value));
  }
  /// The value named `name`, or nullptr.
  const T* find(const std::string& name) const {
    for (const auto& [n, v] : entries_)
      if (n == name) return &v;
    return nullptr;
  }
  const std::vector<std::pair<std::string, T>>& entries() const { return entries_; }
  /// "a, b, c": the names, for errors.
  std::string names() const {
    std::string out;
    for (const auto& [n, v] : entries_) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

 private:
  std::string kind_;
  std::vector<std::pair<std::string, T>> entries_;
};

}  // namespace seqrec
