#pragma once
// What bench's grid files and tune's tune files share: their text helpers and --shard.
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/config.h"
#include "seqrec/error.h"

namespace seqrec::plan {

inline std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

/// The non-empty, trimmed items of `s` between `sep`s.
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!trim(item).empty()) out.push_back(trim(item));
  return out;
}

/// `s` with {dataset} and {method} replaced: a config path pattern.
inline std::string substitute(std::string s, const std::string& dataset, const std::string& method) {
  for (const auto& [k, v] : {std::pair<std::string, std::string>{"{dataset}", dataset}, {"{method}", method}})
    for (size_t p; (p = s.find(k)) != std::string::npos;) s.replace(p, k.size(), v);
  return s;
}

/// "i/n" of --shard as (i, n), 0 <= i < n; one-line Errors otherwise.
inline std::pair<int64_t, int64_t> parse_shard(const std::string& s) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos) throw Error("--shard takes i/n, e.g. 0/4");
  const int64_t i = to_integer(s.substr(0, slash), "--shard"), n = to_integer(s.substr(slash + 1), "--shard");
  if (n < 1 || i < 0 || i >= n) throw Error("--shard i/n needs 0 <= i < n");
  return {i, n};
}

}  // namespace seqrec::plan
