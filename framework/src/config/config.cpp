#include "seqrec/config.h"

#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "seqrec/error.h"
#include "seqrec/hash.h"

namespace po = boost::program_options;

namespace seqrec {
namespace {

bool parse_int_text(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;  // ERANGE: beyond a 64-bit integer
  if (v) *v = x;
  return true;
}

bool parse_real_text(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !std::isfinite(x)) return false;
  if (v) *v = x;
  return true;
}

bool parse_bool_text(const std::string& s, bool* v) {
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    if (v) *v = true;
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    if (v) *v = false;
    return true;
  }
  return false;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::kInt: return "int";
    case KeyType::kFloat: return "float";
    case KeyType::kString: return "string";
    case KeyType::kBool: return "bool";
    case KeyType::kIntList: return "int list";
  }
  return "?";
}

void validate(const KeySpec& spec, const std::string& value) {
  if (value.empty() && spec.type == KeyType::kString) return;
  bool ok = true;
  switch (spec.type) {
    case KeyType::kInt: ok = parse_int_text(value, nullptr); break;
    case KeyType::kFloat: ok = parse_real_text(value, nullptr); break;
    case KeyType::kBool: ok = parse_bool_text(value, nullptr); break;
    case KeyType::kIntList:
      for (const auto& x : split_list(value)) ok = ok && parse_int_text(x, nullptr);
      ok = ok && !value.empty();
      break;
    case KeyType::kString: break;
  }
  if (!ok && spec.type == KeyType::kInt && errno == ERANGE)
    throw Error("--" + spec.name + ": '" + value + "' does not fit a 64-bit integer");
  if (!ok) throw Error("--" + spec.name + ": '" + value + "' is not a valid " + type_name(spec.type));
  if (spec.type == KeyType::kInt || spec.type == KeyType::kFloat || spec.type == KeyType::kIntList) {
    const KeySpec::Range& r = spec.range;
    for (const auto& x : spec.type == KeyType::kIntList ? split_list(value) : std::vector<std::string>{value}) {
      const double d = std::strtod(x.c_str(), nullptr);
      const bool inside = (r.lo_open ? d > r.lo : d >= r.lo) && (r.hi_open ? d < r.hi : d <= r.hi);
      if (!inside) {
        auto end = [](double e) { std::ostringstream o; o << e; return o.str(); };
        throw Error("--" + spec.name + ": " + x + " is out of range " + (r.lo_open ? "(" : "[") + end(r.lo) + ", " +
                    end(r.hi) + (r.hi_open ? ")" : "]"));
      }
    }
  }
  if (!spec.choices.empty() &&
      std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
    std::string all;
    for (const auto& c : spec.choices) all += (all.empty() ? "" : ", ") + c;
    throw Error("--" + spec.name + ": '" + value + "' is not one of " + all);
  }
}

}  // namespace

void Schema::add(const KeySpec& spec) {
  auto it = index_.find(spec.name);
  if (it != index_.end()) {
    const KeySpec& old = keys_[it->second];
    if (old.type == spec.type && old.default_value == spec.default_value) return;
    throw Error("configuration key '" + spec.name + "' is declared twice with different types or defaults");
  }
  validate(spec, spec.default_value.empty() && spec.type != KeyType::kString ? "0" : spec.default_value);
  index_[spec.name] = keys_.size();
  keys_.push_back(spec);
}

void Schema::limit(const std::string& name, KeySpec::Range range) {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error("configuration key '" + name + "' is not declared");
  keys_[it->second].range = range;
  validate(keys_[it->second], keys_[it->second].default_value);
}

const KeySpec* Schema::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &keys_[it->second];
}

Schema& schema() {
  static Schema s;
  return s;
}

Config::Config(const Schema& s) : schema_(&s) {
  for (const auto& k : s.keys()) {
    values_[k.name] = k.default_value;
    sources_[k.name] = "default";
  }
}

void Config::set(const std::string& name, const std::string& value, const std::string& source) {
  const KeySpec* spec = schema_ ? schema_->find(name) : nullptr;
  if (!spec) throw Error("unknown configuration key '" + name + "'");
  validate(*spec, value);
  values_[name] = value;
  sources_[name] = source;
}

bool Config::has(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && !it->second.empty();
}

const std::string& Config::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("configuration key '" + name + "' is not declared");
  return it->second;
}

int64_t Config::integer(const std::string& name) const {
  int64_t v = 0;
  if (!parse_int_text(str(name), &v)) throw Error("--" + name + " is not set to an integer");
  return v;
}

double Config::real(const std::string& name) const {
  double v = 0;
  if (!parse_real_text(str(name), &v)) throw Error("--" + name + " is not set to a number");
  return v;
}

bool Config::flag(const std::string& name) const {
  bool v = false;
  if (!parse_bool_text(str(name), &v)) throw Error("--" + name + " is not set to true or false");
  return v;
}

std::vector<int64_t> Config::int_list(const std::string& name) const {
  std::vector<int64_t> out;
  for (const auto& x : split_list(str(name))) {
    int64_t v;
    if (!parse_int_text(x, &v)) throw Error("--" + name + ": '" + x + "' is not an integer");
    out.push_back(v);
  }
  return out;
}

const std::string& Config::source(const std::string& name) const {
  static const std::string none = "unset";
  auto it = sources_.find(name);
  return it == sources_.end() ? none : it->second;
}

std::string Config::to_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : values_) j[k] = v;
  return j.dump();
}

int64_t to_integer(const std::string& text, const std::string& what) {
  int64_t v = 0;
  if (!parse_int_text(text, &v)) throw Error(what + ": '" + text + "' is not a valid int");
  return v;
}

double to_real(const std::string& text, const std::string& what) {
  double v = 0;
  if (!parse_real_text(text, &v)) throw Error(what + ": '" + text + "' is not a valid float");
  return v;
}

namespace {
/// What a key contributes to a run's hash: its value, or nothing (nullptr) when it is
/// unhashed or at its declared default.
const std::string* hashed_value(const Schema* schema, const std::string& key, const std::string& value) {
  const KeySpec* spec = schema ? schema->find(key) : nullptr;
  if (!spec) return &value;
  if (spec->hashing == KeySpec::Hashing::kNever || value == spec->default_value) return nullptr;
  return &value;
}
}  // namespace

std::string Config::hash() const {
  uint64_t h = kFnv1aOffset;
  for (const auto& [k, v] : values_)
    if (hashed_value(schema_, k, v)) h = fnv1a(k + "=" + v + ";", h);
  return hex_digits(h);
}

std::string Config::differing_keys(const std::map<std::string, std::string>& recorded) const {
  std::map<std::string, std::pair<const std::string*, const std::string*>> both;  // key -> (ours, recorded)
  for (const auto& [k, v] : values_) both[k].first = hashed_value(schema_, k, v);
  for (const auto& [k, v] : recorded) both[k].second = hashed_value(schema_, k, v);
  std::string out;
  for (const auto& [k, v] : both)
    if ((v.first == nullptr) != (v.second == nullptr) || (v.first && *v.first != *v.second))
      out += (out.empty() ? "" : ", ") + k;
  return out;
}

namespace {

po::options_description make_description(const Schema& s) {
  po::options_description desc("seqrec options");
  desc.add_options()("help,h", "show this help");
  for (const auto& k : s.keys()) {
    std::string help = k.help + " [" + type_name(k.type) + (k.default_value.empty() ? "" : ", default " + k.default_value) + "]";
    if (!k.choices.empty()) {
      help += " {";
      for (size_t i = 0; i < k.choices.size(); ++i) help += (i ? "|" : "") + k.choices[i];
      help += "}";
    }
    auto* sem = po::value<std::string>();
    if (k.type == KeyType::kBool) sem->implicit_value("true");
    desc.add_options()(k.name.c_str(), sem, help.c_str());
  }
  return desc;
}

}  // namespace

std::string describe_key(const KeySpec& k) {
  std::ostringstream out;
  out << "  --" << k.name << " (" << type_name(k.type);
  if (!k.default_value.empty()) out << ", default " << k.default_value;
  out << ")";
  if (!k.choices.empty()) {
    out << " {";
    for (size_t i = 0; i < k.choices.size(); ++i) out << (i ? "|" : "") << k.choices[i];
    out << "}";
  }
  out << "\n      " << k.help << "\n";
  return out.str();
}

std::string describe_schema(const Schema& s) {
  std::ostringstream out;
  std::map<std::string, std::vector<const KeySpec*>> groups;
  for (const auto& k : s.keys()) groups[k.group].push_back(&k);
  for (const auto& [g, keys] : groups) {
    out << "\n[" << g << "]\n";
    for (const KeySpec* k : keys) out << describe_key(*k);
  }
  return out.str();
}

bool looks_negative(const std::string& word) {
  return word.size() > 1 && word[0] == '-' && (std::isdigit(static_cast<unsigned char>(word[1])) || word[1] == '.');
}

bool parse_config(const std::vector<std::string>& args, Config* out, std::string* help_text) {
  const Schema& s = schema();
  po::options_description desc = make_description(s);
  po::variables_map cli, file;
  try {
    // No abbreviations: boost would otherwise take --dropout for --dropout-rng.
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    // "--epochs -3" is a key and its (out of range) value, not two options: joined as
    // "--epochs=-3", the value reaches the key's own check.
    std::vector<std::string> joined;
    for (size_t i = 0; i < args.size(); ++i) {
      const bool value_follows = args[i].rfind("--", 0) == 0 && args[i].find('=') == std::string::npos &&
                                 i + 1 < args.size() && looks_negative(args[i + 1]);
      joined.push_back(value_follows ? args[i] + "=" + args[i + 1] : args[i]);
      if (value_follows) ++i;
    }
    po::store(po::command_line_parser(joined).options(desc).style(style).run(), cli);
  } catch (const po::error& e) {
    throw Error(std::string("command line: ") + e.what());
  }
  if (cli.count("help")) {
    if (help_text) *help_text = describe_schema(s);
    return false;
  }
  Config c(s);
  std::string config_path = cli.count("config") ? cli["config"].as<std::string>() : "";
  if (!config_path.empty()) {
    if (!std::filesystem::is_regular_file(config_path)) throw Error(config_path + ": config file not found");
    try {
      po::store(po::parse_config_file<char>(config_path.c_str(), desc, false), file);
    } catch (const po::error& e) {
      throw Error(config_path + ": " + e.what());
    }
    for (const auto& [k, v] : file) {
      if (k == "help") continue;
      try {
        c.set(k, v.as<std::string>(), "config file");
      } catch (const Error& e) {
        throw Error(config_path + ": " + e.what());
      }
    }
  }
  for (const auto& [k, v] : cli) {
    if (k == "help") continue;
    c.set(k, v.as<std::string>(), "command line");
  }
  *out = c;
  return true;
}

}  // namespace seqrec
