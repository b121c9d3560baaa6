#pragma once
/// Interaction data in CSR layout and the readers that build it.
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "seqrec/value_registry.h"

namespace seqrec {

/// Where each user's sequence is cut into training, validation and test (make_split). Empty
/// vectors: leave-one-out, the papers' protocol (training s[0..n-2), validation answer
/// s[n-2] after it, test answer s[n-1] after all the rest).
struct Split {
  std::vector<int64_t> train_len;  ///< per user: s[0..train_len) is the training sequence
  std::vector<int64_t> valid_at;   ///< position of the validation answer (history: all before it), -1 none
  std::vector<int64_t> test_at;    ///< position of the test answer, -1 none
  std::vector<int64_t> test_history;  ///< test history length: test_at, or train_len (SplitOptions)
  bool empty() const { return train_len.empty(); }
};

/// One dataset: every user's items in time order, stored as CSR.
/// Item ids are dense 1..num_items (0 is padding); users are rows 0..num_users-1.
struct Dataset {
  std::vector<int64_t> offsets{0};    ///< size num_users+1; user u owns items[offsets[u]..offsets[u+1])
  std::vector<int32_t> items;         ///< item ids, 1-based
  std::vector<double> timestamps;     ///< same length as items, or empty when the source has none
  std::vector<std::string> user_ids;  ///< original user token per row (empty: row index + 1)
  std::vector<std::string> item_ids;  ///< original item token per dense id - 1 (empty: identity)
  int64_t num_items = 0;              ///< largest item id
  std::string name;                   ///< short name, e.g. "Beauty"
  Split split;                        ///< the evaluation split (not cached: made at load)

  int64_t num_users() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t num_interactions() const { return static_cast<int64_t>(items.size()); }
  int64_t length(int64_t u) const { return offsets[u + 1] - offsets[u]; }
  const int32_t* begin(int64_t u) const { return items.data() + offsets[u]; }
  /// Rows of the item table a model needs: padding 0, items 1..num_items, the mask token.
  int64_t item_size() const { return num_items + 2; }
};

/// How to turn a source file into a Dataset. Part of the cache key.
struct PrepareOptions {
  std::string format = "lines";  ///< a registered source format (formats())
  int k_core = 0;                ///< iterative k-core on users and items (formats with rows); 0 = off
  /// Rows rated below this are dropped, before the k-core (formats with a rating column).
  std::optional<double> min_rating;
};

/// A source format: its reader and the file endings `--format auto` picks it for. A new
/// format is one file with its reader, added to PluginHost::formats (CONTRIBUTING.md, "A
/// source format").
struct SourceFormat {
  std::function<Dataset(const std::string& path, const PrepareOptions& options)> read;
  std::vector<std::string> endings;  ///< e.g. ".inter"
  std::string help;
  std::string origin = "builtin";
};
using FormatRegistry = ValueRegistry<SourceFormat>;
/// Every registered format: csv, inter, lines and movielens built in, then the plugins'.
FormatRegistry& formats();
/// The format whose ending `path` has (the first registered; "x.dat.gz" ends like "x.dat"),
/// else "lines".
std::string guess_format(const std::string& path);

/// A source file opened for reading, as every format reads it: the file's bytes, or, for a
/// gzip file (known by its magic bytes, whatever its name), its decompressed bytes. `size` is
/// the stream's length, for progress. A missing, empty or damaged file is a data_error naming
/// `path`. The cache key hashes the file as stored, compressed or not.
struct SourceStream {
  std::unique_ptr<std::istream> in;
  int64_t size = 0;
};
SourceStream open_source(const std::string& path);

/// What a reader of rows (user, item, time) fills: tokens are interned in order of first
/// appearance. build() groups rows by user, sorts each user's rows stably by time, applies
/// the iterative k-core, and numbers the surviving items densely from 1 in order of first
/// appearance: the Dataset every row reader returns (csv, inter, a user's format).
class InteractionTable {
 public:
  void add(std::string_view user, std::string_view item, double time = 0);
  /// The Dataset, named after the file; a one-line Error naming `path` when no row (or no row
  /// after the k-core) is left. `timed`: keep the times as the Dataset's timestamps.
  Dataset build(const std::string& path, int k_core, bool timed = true);

 private:
  struct Row {
    int64_t user, item;
    double time;
  };
  static int64_t intern(std::unordered_map<std::string, int64_t>& index, std::vector<std::string>& tokens,
                        std::string_view token);
  std::unordered_map<std::string, int64_t> user_index_, item_index_;
  std::vector<std::string> users_, items_;
  std::vector<Row> rows_;
};

/// `user item item ...` per line, items already in time order (S3Rec / ELECRec files).
Dataset read_lines(const std::string& path);
/// RecBole atomic file: typed tab-separated header with user_id, item_id and optionally
/// timestamp and rating.
Dataset read_inter(const std::string& path, const PrepareOptions& options = {});
/// `user,item,timestamp` CSV (header optional), or `user,item,rating,timestamp` (the layout of
/// the raw Amazon rating files).
Dataset read_csv(const std::string& path, const PrepareOptions& options = {});
/// MovieLens `ratings.dat` (ML-1M, ML-10M): `user::item::rating::timestamp`.
Dataset read_movielens(const std::string& path, const PrepareOptions& options = {});
/// Reads `path` with the format options.format names (an Error listing the known ones).
Dataset read_dataset(const std::string& path, const PrepareOptions& options);

/// What makes `d` unusable ("" when it is sound): offsets not starting at 0, decreasing or
/// not ending at the item count; item ids outside 1..num_items; timestamps or token lists
/// of the wrong length. Readers build sound datasets; a cache file is checked with it.
std::string dataset_defect(const Dataset& d);

/// How often each item id (index 0..item_size()-1; padding and mask stay 0) occurs in the
/// users' training parts (train_length), so the validation and test answers never inform it. The one popularity of seqrec (pop model, pop100 candidates, proposals).
std::vector<double> training_popularity(const Dataset& d);

/// Which part of a split.
enum class Stage { kTrain, kValid, kTest };

/// Items of user u's training sequence (leave-one-out: all but the last two).
int64_t train_length(const Dataset& d, int64_t u);
/// User u's evaluation example at `stage` (kValid or kTest): the history is s[0..history),
/// the answer s[answer_at]; none (history 0) when the user has no answer or no history there.
struct EvalExample {
  int64_t history = 0, answer_at = -1;
};
EvalExample eval_example(const Dataset& d, int64_t u, Stage stage);

/// The temporal split (Ji et al., TOIS 2023; Gusak et al., RecSys 2025): global cut points on
/// the time axis. Training uses only interactions before the validation cut; a user's
/// validation answer is their first interaction in [valid cut, test cut), with everything
/// before it as history; the test answer is their first interaction at or after the test cut,
/// with everything before it as history (with_valid_history; else only the training part).
/// A cut is a time quantile of all interactions ("q0.8": the time below which 80% fall) or a
/// timestamp ("1.5e9").
struct SplitOptions {
  std::string kind = "loo";  ///< loo or temporal
  std::string valid_from = "q0.8", test_from = "q0.9";
  bool with_valid_history = true;
};
/// What a split did, for logs and results.
struct SplitSummary {
  std::string kind = "loo";
  double valid_cut = 0, test_cut = 0;           ///< resolved timestamps (temporal)
  std::string valid_from, test_from;            ///< as given
  bool with_valid_history = true;
  int64_t train_users = 0, train_interactions = 0;  ///< users with a training target; their training items
  int64_t valid_users = 0, test_users = 0;          ///< users with an example
  int64_t valid_no_history = 0, test_no_history = 0;  ///< users with an answer but no history before it: left out
};
/// Fills d.split (left empty for loo) and says what it did. temporal needs timestamps and a
/// test cut not before the validation cut (one-line Errors).
SplitSummary make_split(Dataset& d, const SplitOptions& o);
std::string format_split(const SplitSummary& s);

/// Leave-one-out's temporal leakage, on timestamped data (users with 3+ items; training = all
/// but the last two items, test = the last; Ji et al., TOIS 2023).
struct LooLeakage {
  double train_after_first_test = 0;        ///< share of training interactions later than the earliest test one
  double users_test_before_last_train = 0;  ///< share of users whose test interaction precedes the last training one
};
/// Empty without timestamps (or without a user of 3+ items).
std::optional<LooLeakage> loo_leakage(const Dataset& d);

/// Summary numbers printed by `seqrec prepare`.
struct DatasetStats {
  int64_t users, items, interactions;
  double mean_length;
  int64_t min_length, p50, p90, p99, max_length;
  /// Users whose last item (the test answer) also occurs earlier in their sequence: the
  /// reference protocol scores history items 0, so it ranks those answers below most items.
  int64_t test_repeats;
  std::optional<LooLeakage> leakage;  ///< timestamped data only
};
DatasetStats compute_stats(const Dataset& d);
std::string format_stats(const DatasetStats& s);

/// A dataset with real sequential structure (a sparse random Markov chain over items), so
/// that sequence models clearly beat popularity. Deterministic in `seed`.
Dataset make_markov_dataset(int64_t num_users, int64_t num_items, int min_len, int max_len,
                            uint64_t seed);
/// A synthetic interaction log for scale tests: items 1..items with Zipf(`zipf`) popularity,
/// each with `successors` likely next items that a user's walk follows with probability
/// `follow` (so sequence models can beat popularity), lengths uniform in [min_len, max_len],
/// times increasing along each walk. Deterministic in `seed`.
struct GenerateOptions {
  int64_t users = 1000, items = 1000;
  int min_len = 5, max_len = 30;
  double zipf = 0.8, follow = 0.8;
  int successors = 3;
  uint64_t seed = 1;
};
/// The log as a RecBole .inter file's text (user_id:token, item_id:token, timestamp:float).
std::string generate_inter(const GenerateOptions& o);

/// Writes a Dataset in the lines format.
void write_lines(const Dataset& d, const std::string& path);

}  // namespace seqrec
