// Readers for the three source formats. Every malformed input is reported as one line
// "file:line: reason" through seqrec::Error.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <cstdio>
#include <random>
#include <sstream>
#include <unordered_map>

#include "seqrec/dataset.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/plugin.h"
#include "seqrec/progress.h"

#include <zlib.h>

namespace seqrec {
namespace {

/// Reports how far reading a source has got (by bytes, decompressed), every 64K lines.
class ReadProgress {
 public:
  ReadProgress(const std::string& path, SourceStream& source)
      : in_(*source.in), progress_("reading " + path, source.size, "bytes") {}
  void line(long lineno) {
    if ((lineno & 0xFFFF) != 0 || !progress_.due(0)) return;
    const auto at = static_cast<int64_t>(in_.tellg());
    if (at > 0) progress_.update(at, static_cast<double>(at));
  }

 private:
  std::istream& in_;
  Progress progress_;
};

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = line.find(sep, start);
    out.push_back(line.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool parse_int(std::string_view s, long long& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

bool parse_double(std::string_view s, double& v) {
  if (s.empty()) return false;
  std::string tmp(s);
  char* end = nullptr;
  v = std::strtod(tmp.c_str(), &end);
  return end == tmp.c_str() + tmp.size() && std::isfinite(v);
}

std::string base_name(const std::string& path) {
  std::string b = path.substr(path.find_last_of('/') + 1);
  return b.substr(0, b.find('.'));
}

/// Whether a row's rating passes --min-rating (a row without the option always does).
bool rated_enough(std::string_view rating, const PrepareOptions& o, const std::string& path, long lineno) {
  double r = 0;
  if (!parse_double(rating, r)) throw data_error(path, lineno, "rating '" + std::string(rating) + "' is not a number");
  return !o.min_rating || r >= *o.min_rating;
}

/// A (user, item, time) row with its one-line errors.
void add_row(InteractionTable& table, std::string_view user, std::string_view item, std::string_view time,
             const std::string& path, long lineno) {
  if (user.empty()) throw data_error(path, lineno, "empty user");
  if (item.empty()) throw data_error(path, lineno, "empty item");
  double ts;
  if (!parse_double(time, ts)) throw data_error(path, lineno, "timestamp '" + std::string(time) + "' is not a number");
  table.add(user, item, ts);
}

/// The built-in formats, through the registry plugins add theirs to (alphabetical, so that
/// `--format auto` and `seqrec list` meet them in name order).
void register_builtin_formats(PluginHost& host) {
  host.formats->add("csv", {read_csv, {".csv"}, "user,item,timestamp or user,item,rating,timestamp rows (header optional; raw Amazon files)"});
  host.formats->add("inter", {read_inter, {".inter"}, "RecBole atomic file: typed tab-separated header, user_id, item_id, timestamp, rating"});
  host.formats->add("lines", {[](const std::string& path, const PrepareOptions& o) {
                                if (o.k_core > 0 || o.min_rating) throw Error("--k-core and --min-rating apply to files with rows only");
                                return read_lines(path);
                              },
                              {},
                              "`user item item ...` per line, items in time order (S3Rec / ELECRec files)"});
  host.formats->add("movielens", {read_movielens, {".dat"}, "MovieLens ratings.dat: user::item::rating::timestamp (ML-1M, ML-10M)"});
}
SEQREC_BUILTIN(register_builtin_formats);
}  // namespace

int64_t InteractionTable::intern(std::unordered_map<std::string, int64_t>& index, std::vector<std::string>& tokens,
                                 std::string_view token) {
  auto [it, inserted] = index.emplace(std::string(token), static_cast<int64_t>(tokens.size()));
  if (inserted) tokens.emplace_back(token);
  return it->second;
}

void InteractionTable::add(std::string_view user, std::string_view item, double time) {
  rows_.push_back({intern(user_index_, users_, user), intern(item_index_, items_, item), time});
}

Dataset InteractionTable::build(const std::string& path, int k_core, bool timed) {
  std::vector<Row> rows = rows_;
  if (rows.empty()) throw data_error(path, 0, "no interactions");
  if (k_core > 1) {
    while (true) {
      std::vector<int64_t> uc(users_.size(), 0), ic(items_.size(), 0);
      for (const Row& r : rows) ++uc[r.user], ++ic[r.item];
      size_t before = rows.size();
      rows.erase(std::remove_if(rows.begin(), rows.end(),
                                [&](const Row& r) { return uc[r.user] < k_core || ic[r.item] < k_core; }),
                 rows.end());
      if (rows.size() == before) break;
    }
    if (rows.empty()) throw data_error(path, 0, "no interactions left after " + std::to_string(k_core) + "-core filtering");
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.user != b.user) return a.user < b.user;
    return a.time < b.time;
  });
  Dataset d;
  d.name = base_name(path);
  // Dense ids from 1 in order of first appearance in the file, over the surviving items.
  std::vector<int32_t> item_map(items_.size(), 0);
  for (const Row& r : rows) item_map[r.item] = 1;
  for (size_t i = 0; i < item_map.size(); ++i)
    if (item_map[i]) {
      item_map[i] = static_cast<int32_t>(++d.num_items);
      d.item_ids.push_back(items_[i]);
    }
  int64_t current_user = -1;
  for (const Row& r : rows) {
    if (r.user != current_user) {
      if (current_user >= 0) d.offsets.push_back(static_cast<int64_t>(d.items.size()));
      current_user = r.user;
      d.user_ids.push_back(users_[r.user]);
    }
    d.items.push_back(item_map[r.item]);
    if (timed) d.timestamps.push_back(r.time);
  }
  d.offsets.push_back(static_cast<int64_t>(d.items.size()));
  return d;
}

SourceStream open_source(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw data_error(path, 0, "no such file");
  if (S_ISDIR(st.st_mode)) throw data_error(path, 0, "is a directory, expected a data file");
  if (st.st_size == 0) throw data_error(path, 0, "file is empty");
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) throw data_error(path, 0, "cannot open for reading");
  char magic[2] = {};
  file->read(magic, 2);
  file->clear();
  file->seekg(0);
  if (static_cast<unsigned char>(magic[0]) != 0x1f || static_cast<unsigned char>(magic[1]) != 0x8b)
    return {std::move(file), static_cast<int64_t>(st.st_size)};
  file.reset();
  // gzip: the whole decompressed text in memory (zlib reads concatenated members too).
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) throw data_error(path, 0, "cannot open for reading");
  std::string text;
  std::array<char, 1 << 16> buf{};
  int n = 0;
  while ((n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()))) > 0) text.append(buf.data(), n);
  int code = Z_OK;
  const std::string why = gzerror(gz, &code);  // a truncated stream ends reading without n < 0
  gzclose(gz);
  if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) throw data_error(path, 0, "damaged gzip data (" + why + ")");
  if (text.empty()) throw data_error(path, 0, "file is empty (after decompression)");
  const auto size = static_cast<int64_t>(text.size());
  return {std::make_unique<std::istringstream>(std::move(text)), size};
}

std::string guess_format(const std::string& path) {
  // A compressed file's format is that of its name without ".gz".
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  const std::string name = gz ? path.substr(0, path.size() - 3) : path;
  for (const auto& [format, f] : formats().entries())
    for (const auto& end : f.endings)
      if (name.size() >= end.size() && name.compare(name.size() - end.size(), end.size(), end) == 0) return format;
  return "lines";
}

namespace {
/// Calls fn(line, lineno) for every line of `path` that is not blank, trimmed, reporting the
/// reading's progress.
template <typename F>
void for_each_line(const std::string& path, F fn) {
  SourceStream source = open_source(path);
  std::string line;
  long lineno = 0;
  ReadProgress progress(path, source);
  while (std::getline(*source.in, line)) {
    progress.line(++lineno);
    const std::string_view v = trim(line);
    if (!v.empty()) fn(v, lineno);
  }
}
}  // namespace

Dataset read_lines(const std::string& path) {
  Dataset d;
  d.name = base_name(path);
  for_each_line(path, [&](std::string_view v, long lineno) {
    size_t pos = 0;
    bool first = true;
    int64_t count = 0;
    while (pos < v.size()) {
      size_t end = v.find_first_of(" \t", pos);
      if (end == std::string_view::npos) end = v.size();
      std::string_view tok = v.substr(pos, end - pos);
      pos = v.find_first_not_of(" \t", end);
      if (pos == std::string_view::npos) pos = v.size();
      long long x;
      if (!parse_int(tok, x))
        throw data_error(path, lineno, "'" + std::string(tok) + "' is not an integer id");
      if (first) {
        d.user_ids.emplace_back(tok);
        first = false;
        continue;
      }
      if (x <= 0)
        throw data_error(path, lineno, "item id " + std::string(tok) + " is not positive (0 is reserved for padding)");
      if (x > INT32_MAX) throw data_error(path, lineno, "item id " + std::string(tok) + " is too large");
      d.items.push_back(static_cast<int32_t>(x));
      d.num_items = std::max<int64_t>(d.num_items, x);
      ++count;
    }
    if (count == 0) throw data_error(path, lineno, "user " + d.user_ids.back() + " has no items");
    d.offsets.push_back(static_cast<int64_t>(d.items.size()));
  });
  if (d.items.empty()) throw data_error(path, 0, "no interactions (only blank lines)");
  return d;
}

Dataset read_inter(const std::string& path, const PrepareOptions& o) {
  SourceStream source = open_source(path);
  std::istream& in = *source.in;
  std::string line;
  if (!std::getline(in, line)) throw data_error(path, 1, "missing header");
  auto header = split(trim(line), '\t');
  int user_col = -1, item_col = -1, ts_col = -1, rating_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string_view h = header[i];
    size_t colon = h.find(':');
    if (colon == std::string_view::npos)
      throw data_error(path, 1, "header field '" + std::string(h) + "' has no type (expected name:type, e.g. item_id:token)");
    std::string_view name = h.substr(0, colon), type = h.substr(colon + 1);
    if (type != "token" && type != "float" && type != "token_seq" && type != "float_seq")
      throw data_error(path, 1, "header field '" + std::string(h) + "' has unknown type '" + std::string(type) + "'");
    if (name == "user_id") user_col = static_cast<int>(i);
    if (name == "item_id") item_col = static_cast<int>(i);
    if (name == "timestamp") {
      if (type != "float") throw data_error(path, 1, "timestamp must be typed float");
      ts_col = static_cast<int>(i);
    }
    if (name == "rating" && type == "float") rating_col = static_cast<int>(i);
  }
  if (user_col < 0 || item_col < 0)
    throw data_error(path, 1, "header lacks user_id:token or item_id:token");
  if (o.min_rating && rating_col < 0) throw data_error(path, 1, "--min-rating needs a rating:float column");
  InteractionTable table;
  long lineno = 1;
  ReadProgress progress(path, source);
  while (std::getline(in, line)) {
    progress.line(++lineno);
    std::string_view v = line;
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    if (trim(v).empty()) continue;
    auto f = split(v, '\t');
    if (f.size() != header.size())
      throw data_error(path, lineno, "expected " + std::to_string(header.size()) + " tab-separated columns, found " + std::to_string(f.size()));
    if (f[user_col].empty()) throw data_error(path, lineno, "empty user_id");
    if (f[item_col].empty()) throw data_error(path, lineno, "empty item_id");
    double ts = 0;
    if (ts_col >= 0 && !parse_double(f[ts_col], ts))
      throw data_error(path, lineno, "timestamp '" + std::string(f[ts_col]) + "' is not a number");
    if (rating_col >= 0 && !rated_enough(f[rating_col], o, path, lineno)) continue;
    table.add(f[user_col], f[item_col], ts);
  }
  return table.build(path, o.k_core, ts_col >= 0);
}

Dataset read_csv(const std::string& path, const PrepareOptions& o) {
  InteractionTable table;
  size_t columns = 0;  // 3 or 4, fixed by the first row
  for_each_line(path, [&](std::string_view v, long lineno) {
    auto f = split(v, ',');
    if (lineno == 1 && f.size() >= 2 && trim(f[0]) == "user" && trim(f[1]) == "item") return;  // header
    if (columns == 0) {
      if (f.size() != 3 && f.size() != 4)
        throw data_error(path, lineno, "expected 3 comma-separated columns user,item,timestamp (or 4: user,item,rating,"
                                       "timestamp), found " + std::to_string(f.size()));
      columns = f.size();
      if (o.min_rating && columns == 3) throw data_error(path, lineno, "--min-rating needs a rating column (user,item,rating,timestamp)");
    }
    if (f.size() != columns)
      throw data_error(path, lineno, "expected " + std::to_string(columns) + " comma-separated columns like the first row, found " +
                                         std::to_string(f.size()));
    if (columns == 4 && !rated_enough(trim(f[2]), o, path, lineno)) return;
    add_row(table, trim(f[0]), trim(f[1]), trim(f[columns - 1]), path, lineno);
  });
  return table.build(path, o.k_core);
}

Dataset read_movielens(const std::string& path, const PrepareOptions& o) {
  InteractionTable table;
  for_each_line(path, [&](std::string_view v, long lineno) {
    std::vector<std::string_view> f;
    for (size_t start = 0;;) {
      const size_t sep = v.find("::", start);
      f.push_back(v.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
      if (sep == std::string_view::npos) break;
      start = sep + 2;
    }
    if (f.size() != 4)
      throw data_error(path, lineno, "expected user::item::rating::timestamp, found " + std::to_string(f.size()) + " fields");
    if (!rated_enough(f[2], o, path, lineno)) return;
    add_row(table, f[0], f[1], f[3], path, lineno);
  });
  return table.build(path, o.k_core);
}

Dataset read_dataset(const std::string& path, const PrepareOptions& o) {
  const SourceFormat* format = formats().find(o.format);
  if (!format) throw Error("unknown data format '" + o.format + "' (registered: " + formats().names() + ")");
  return format->read(path, o);
}

std::string dataset_defect(const Dataset& d) {
  if (d.offsets.empty() || d.offsets.front() != 0) return "offsets do not start at 0";
  for (size_t u = 0; u + 1 < d.offsets.size(); ++u)
    if (d.offsets[u] > d.offsets[u + 1]) return "offsets decrease at row " + std::to_string(u);
  if (d.offsets.back() != d.num_interactions()) return "offsets do not end at the item count";
  if (d.num_items < 0 || d.num_items > INT32_MAX) return "num_items out of range";
  for (int32_t i : d.items)
    if (i < 1 || i > d.num_items) return "item id " + std::to_string(i) + " outside 1.." + std::to_string(d.num_items);
  if (!d.timestamps.empty() && d.timestamps.size() != d.items.size()) return "timestamps and items differ in length";
  if (!d.user_ids.empty() && static_cast<int64_t>(d.user_ids.size()) != d.num_users()) return "user tokens and rows differ in number";
  if (!d.item_ids.empty() && static_cast<int64_t>(d.item_ids.size()) != d.num_items) return "item tokens and items differ in number";
  return "";
}

std::vector<double> training_popularity(const Dataset& d) {
  std::vector<double> counts(static_cast<size_t>(d.item_size()), 0.0);
  for (int64_t u = 0; u < d.num_users(); ++u)
    for (int64_t i = 0; i < train_length(d, u); ++i) counts[d.begin(u)[i]] += 1;
  return counts;
}

std::optional<LooLeakage> loo_leakage(const Dataset& d) {
  if (d.timestamps.empty()) return std::nullopt;
  double first_test = HUGE_VAL, last_train = -HUGE_VAL;
  int64_t users = 0;
  for (int64_t u = 0; u < d.num_users(); ++u) {
    const int64_t a = d.offsets[u], b = d.offsets[u + 1];
    if (b - a < 3) continue;
    ++users;
    first_test = std::min(first_test, d.timestamps[b - 1]);
    for (int64_t i = a; i < b - 2; ++i) last_train = std::max(last_train, d.timestamps[i]);
  }
  if (users == 0) return std::nullopt;
  int64_t train = 0, after = 0, before = 0;
  for (int64_t u = 0; u < d.num_users(); ++u) {
    const int64_t a = d.offsets[u], b = d.offsets[u + 1];
    if (b - a < 3) continue;
    for (int64_t i = a; i < b - 2; ++i) ++train, after += d.timestamps[i] > first_test;
    before += d.timestamps[b - 1] < last_train;
  }
  return LooLeakage{static_cast<double>(after) / static_cast<double>(train), static_cast<double>(before) / static_cast<double>(users)};
}

DatasetStats compute_stats(const Dataset& d) {
  std::vector<int64_t> len(d.num_users());
  for (int64_t u = 0; u < d.num_users(); ++u) len[u] = d.length(u);
  std::sort(len.begin(), len.end());
  auto pct = [&](double p) { return len[std::min<size_t>(len.size() - 1, static_cast<size_t>(p * len.size()))]; };
  DatasetStats s{};
  s.users = d.num_users();
  s.items = d.num_items;
  s.interactions = d.num_interactions();
  s.mean_length = static_cast<double>(s.interactions) / std::max<int64_t>(1, s.users);
  s.min_length = len.front();
  s.p50 = pct(0.5);
  s.p90 = pct(0.9);
  s.p99 = pct(0.99);
  s.max_length = len.back();
  for (int64_t u = 0; u < d.num_users(); ++u) {
    const int64_t a = d.offsets[u], b = d.offsets[u + 1];
    if (b - a >= 2 && std::find(d.items.begin() + a, d.items.begin() + b - 1, d.items[b - 1]) != d.items.begin() + b - 1)
      ++s.test_repeats;
  }
  s.leakage = loo_leakage(d);
  return s;
}

std::string format_stats(const DatasetStats& s) {
  std::ostringstream o;
  o << "users " << s.users << ", items " << s.items << ", interactions " << s.interactions
    << ", mean length " << std::fixed;
  o.precision(2);
  o << s.mean_length << ", length min/p50/p90/p99/max " << s.min_length << "/" << s.p50 << "/"
    << s.p90 << "/" << s.p99 << "/" << s.max_length << ", test answers repeating a history item " << s.test_repeats
    << " (" << 100.0 * s.test_repeats / std::max<int64_t>(1, s.users) << "%)";
  if (s.leakage)
    o << "; leave-one-out leakage: " << 100 * s.leakage->train_after_first_test
      << "% of training interactions come after the earliest test interaction, "
      << 100 * s.leakage->users_test_before_last_train << "% of users' test interactions precede the last training one";
  return o.str();
}

std::string generate_inter(const GenerateOptions& o) {
  if (o.users < 1 || o.items < 1 || o.min_len < 1 || o.max_len < o.min_len || o.successors < 1 || o.follow < 0 ||
      o.follow > 1 || o.zipf < 0)
    throw Error("generate: needs users, items, successors >= 1, 1 <= min-len <= max-len, 0 <= follow <= 1, zipf >= 0");
  if (o.items > INT32_MAX - 2) throw Error("generate: at most " + std::to_string(INT32_MAX - 2) + " items");
  std::mt19937_64 rng(o.seed);
  std::vector<double> weight(static_cast<size_t>(o.items));
  for (int64_t i = 0; i < o.items; ++i) weight[static_cast<size_t>(i)] = 1.0 / std::pow(i + 1.0, o.zipf);
  std::discrete_distribution<int32_t> popular(weight.begin(), weight.end());
  // Successors drawn by popularity too, so the chain's stationary mass stays skewed.
  std::vector<int32_t> next(static_cast<size_t>(o.items * o.successors));
  for (auto& x : next) x = popular(rng);
  std::uniform_int_distribution<int> len(o.min_len, o.max_len), pick(0, o.successors - 1);
  std::uniform_real_distribution<double> coin(0.0, 1.0), start(0.0, 1e8);
  std::exponential_distribution<double> gap(1.0 / 3600);
  std::string out = "user_id:token\titem_id:token\ttimestamp:float\n";
  char line[96];
  for (int64_t u = 0; u < o.users; ++u) {
    double t = std::floor(start(rng));
    int32_t cur = popular(rng);
    for (int k = len(rng); k > 0; --k) {
      const int n = std::snprintf(line, sizeof line, "u%lld\ti%d\t%.0f\n", static_cast<long long>(u + 1), cur + 1, t);
      out.append(line, static_cast<size_t>(n));
      t += 1 + std::floor(gap(rng));
      cur = coin(rng) < o.follow ? next[static_cast<size_t>(cur) * o.successors + pick(rng)] : popular(rng);
    }
  }
  return out;
}

Dataset make_markov_dataset(int64_t num_users, int64_t num_items, int min_len, int max_len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Each item has a few likely successors; a walk follows them with probability 0.8 and
  // otherwise jumps to a popularity-skewed random item, so popularity alone is a weak guess.
  const int kSuccessors = 3;
  std::vector<std::array<int32_t, kSuccessors>> next(num_items + 1);
  std::uniform_int_distribution<int32_t> any(1, static_cast<int32_t>(num_items));
  for (auto& s : next)
    for (auto& x : s) x = any(rng);
  std::vector<double> pop(num_items);
  for (int64_t i = 0; i < num_items; ++i) pop[i] = 1.0 / std::pow(i + 1.0, 0.8);
  std::discrete_distribution<int32_t> popular(pop.begin(), pop.end());
  std::uniform_int_distribution<int> len_dist(min_len, max_len);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::uniform_int_distribution<int> pick(0, kSuccessors - 1);
  Dataset d;
  d.name = "markov";
  d.num_items = num_items;
  for (int64_t u = 0; u < num_users; ++u) {
    int len = len_dist(rng);
    int32_t cur = popular(rng) + 1;
    for (int t = 0; t < len; ++t) {
      d.items.push_back(cur);
      cur = coin(rng) < 0.8 ? next[cur][pick(rng)] : popular(rng) + 1;
    }
    d.offsets.push_back(static_cast<int64_t>(d.items.size()));
    d.user_ids.push_back(std::to_string(u + 1));
  }
  return d;
}

void write_lines(const Dataset& d, const std::string& path) {
  std::ostringstream out;
  for (int64_t u = 0; u < d.num_users(); ++u) {
    out << (d.user_ids.empty() ? std::to_string(u + 1) : d.user_ids[u]);
    for (int64_t i = d.offsets[u]; i < d.offsets[u + 1]; ++i) out << ' ' << d.items[i];
    out << '\n';
  }
  write_file_atomically(path, out.str());
}

}  // namespace seqrec
