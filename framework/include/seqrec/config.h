#pragma once
/// Configuration: every key is declared once (name, type, default, help); the command-line
/// parser, INI files under configs/, --help and the resolved config in results all derive
/// from that one table. Precedence: command line > config file > default.
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/error.h"

namespace seqrec {

/// An enum-like key's values: each declared choice with its enum value. One list gives the
/// key's choices (choices_of), the parse at configuration time (Config::choice) and the
/// name written back into results (name_of).
template <typename E>
using EnumNames = std::vector<std::pair<std::string, E>>;

template <typename E>
std::vector<std::string> choices_of(const EnumNames<E>& names) {
  std::vector<std::string> out;
  for (const auto& [text, value] : names) out.push_back(text);
  return out;
}

template <typename E>
const std::string& name_of(const EnumNames<E>& names, E value) {
  for (const auto& [text, v] : names)
    if (v == value) return text;
  throw Error("an enum value without a name");
}

/// Types a key can hold. Values are kept as strings and checked against the type on parse.
enum class KeyType { kInt, kFloat, kString, kBool, kIntList };

/// Declaration of one configuration key.
struct KeySpec {
  std::string name;           ///< e.g. "epochs" or "sasrec.hidden-size" (INI: [sasrec] hidden-size=)
  KeyType type;
  std::string default_value;  ///< as text; "" = unset
  std::string help;
  std::string group;          ///< shown as a heading in --help: "data", "train", "sasrec", ...
  std::vector<std::string> choices = {};  ///< allowed values for strings (empty: any)
  /// Allowed numeric values (ints, floats, each entry of an int list): lo..hi, each end open
  /// (excluded) or closed. Set with Schema::limit.
  struct Range {
    double lo = -HUGE_VAL, hi = HUGE_VAL;
    bool lo_open = false, hi_open = false;
  } range = {};
  /// How the key enters a run's hash (Config::hash): kWhenNotDefault, as `key=value`, only
  /// while its value differs from default_value, so declaring a key (a new option, a plugin,
  /// whether loaded or not) moves no existing hash; kNever for keys that choose where output
  /// goes or how it is shown, not what is computed.
  enum class Hashing { kWhenNotDefault, kNever } hashing = Hashing::kWhenNotDefault;
  /// Marks the key kNever, in its declaration: s.add(KeySpec{...}.unhashed()).
  KeySpec& unhashed() {
    hashing = Hashing::kNever;
    return *this;
  }
  /// Whether the key shapes a model's weights or forward pass (sizes, layers, the input
  /// window): `eval` restores these, and only these, from a checkpoint's recorded config.
  bool is_architecture = false;
  /// Marks the key so, in its declaration: s.add(KeySpec{...}.architecture()).
  KeySpec& architecture() {
    is_architecture = true;
    return *this;
  }
};

/// The table of all keys. Built-in components declare theirs at start-up; plugins add more.
class Schema {
 public:
  /// Adds a key; declaring the same name twice is an error unless the specs are identical.
  void add(const KeySpec& spec);
  const KeySpec* find(const std::string& name) const;
  /// Restricts a declared numeric key to `range` (its default must lie inside).
  void limit(const std::string& name, KeySpec::Range range);
  const std::vector<KeySpec>& keys() const { return keys_; }

 private:
  std::vector<KeySpec> keys_;
  std::map<std::string, size_t> index_;
};

/// The process-wide schema.
Schema& schema();

/// A resolved configuration: every declared key with its value and where it came from.
class Config {
 public:
  Config() = default;
  /// Defaults of every key in `schema`.
  explicit Config(const Schema& schema);

  /// Sets a value after validating it against the key's type and choices.
  void set(const std::string& name, const std::string& value, const std::string& source = "code");
  bool has(const std::string& name) const;
  const std::string& str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  bool flag(const std::string& name) const;
  std::vector<int64_t> int_list(const std::string& name) const;
  /// An enum-like key as its enum value (its choices declared with choices_of(names)).
  template <typename E>
  E choice(const std::string& name, const EnumNames<E>& names) const {
    const std::string& v = str(name);
    for (const auto& [text, value] : names)
      if (text == v) return value;
    throw Error("--" + name + ": '" + v + "' is not one of " + [&] {
      std::string all;
      for (const auto& [text, value] : names) all += (all.empty() ? "" : ", ") + text;
      return all;
    }());
  }
  /// "command line", "config file", "default" or "code".
  const std::string& source(const std::string& name) const;

  /// All values, sorted by key, as JSON text (an object of strings).
  std::string to_json() const;
  /// 16-hex-digit hash naming what a run computes: FNV-1a of `key=value;` over the hashed
  /// keys (KeySpec::hashing) set away from their defaults, in key order. A key that no
  /// declared spec knows (a plugin not loaded here) counts with its value.
  std::string hash() const;
  /// The hashed keys whose values differ between this config and `recorded` (a resolved
  /// config as written into results and training states; a key it lacks was at its
  /// default), "a, b, ...": empty when both compute the same run.
  std::string differing_keys(const std::map<std::string, std::string>& recorded) const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  const Schema* schema_ = nullptr;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
};

/// Parses `args` (without the program and subcommand names) against the schema: command
/// line first, then the INI file named by --config, then defaults. Unknown keys and badly
/// typed values throw seqrec::Error naming the key. Returns false if --help was asked.
bool parse_config(const std::vector<std::string>& args, Config* out, std::string* help_text);

/// --help text for the whole schema.
std::string describe_schema(const Schema& schema);
/// One key's lines of it: "  --name (type, default D) {choices}" and its help.
std::string describe_key(const KeySpec& key);
/// Whether `word` reads as a negative number ("-3", "-.5"): a value, not an option.
bool looks_negative(const std::string& word);

/// The whole of `text` as a 64-bit integer, or as a finite real; otherwise Error
/// "WHAT: 'TEXT' is not a valid int|float", the config layer's wording. For numbers read
/// outside the schema: grid files, command arguments, CSV fields.
int64_t to_integer(const std::string& text, const std::string& what);
double to_real(const std::string& text, const std::string& what);


}  // namespace seqrec
