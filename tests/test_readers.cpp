// Readers and the HDF5 cache: good input, every malformed case, key invalidation, atomic writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "seqrec/cache.h"
#include "seqrec/dataset.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;
using seqrec::testing::write_file;

namespace {
std::vector<int32_t> items_of(const Dataset& d, int64_t u) { return {d.begin(u), d.begin(u) + d.length(u)}; }

/// Loads through a fresh cache and returns the error text; asserts the cache dir stays empty.
std::string load_error(const std::string& path, const std::string& f) {
  TempDir cache;
  PrepareOptions o;
  o.format = f;
  try {
    load_dataset(path, o, cache.path().string());
  } catch (const Error& e) {
    EXPECT_EQ(cache.count(), 0u) << "a failed load left files in the cache dir";
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return "";
}
}  // namespace

TEST(Readers, LinesFormat) {
  TempDir dir;
  Dataset d = read_lines(write_file(dir.file("a.txt"), "1 3 1 2\n2 2 5\n\n3 4\n"));
  ASSERT_EQ(d.num_users(), 3);
  EXPECT_EQ(items_of(d, 0), (std::vector<int32_t>{3, 1, 2}));
  EXPECT_EQ(items_of(d, 1), (std::vector<int32_t>{2, 5}));
  EXPECT_EQ(d.num_items, 5);
  EXPECT_EQ(d.item_size(), 7);
  EXPECT_EQ(d.user_ids[2], "3");
}

TEST(Readers, InterGroupsSortsAndRemaps) {
  TempDir dir;
  const std::string path = write_file(dir.file("x.inter"),
                                      "user_id:token\titem_id:token\ttimestamp:float\n"
                                      "u1\tb\t30\nu2\ta\t5\nu1\ta\t10\nu1\tc\t10\nu2\tb\t1\n");
  Dataset d = read_inter(path);
  ASSERT_EQ(d.num_users(), 2);
  // Items remapped densely in order of first appearance: b=1, a=2, c=3.
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"b", "a", "c"}));
  // u1: a@10, c@10 (stable: a first), b@30.
  EXPECT_EQ(items_of(d, 0), (std::vector<int32_t>{2, 3, 1}));
  EXPECT_EQ(items_of(d, 1), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(d.timestamps.size(), 5u);
}

TEST(Readers, CsvWithHeaderAndKCore) {
  TempDir dir;
  // Item z appears once: 2-core removes it, then user c has one item left and goes too.
  const std::string path = write_file(dir.file("x.csv"),
                                      "user,item,timestamp\na,x,1\na,y,2\nb,x,3\nb,y,1\nc,y,5\nc,z,6\n");
  Dataset all = read_csv(path);
  EXPECT_EQ(all.num_users(), 3);
  PrepareOptions two_core;
  two_core.k_core = 2;
  Dataset core = read_csv(path, two_core);
  ASSERT_EQ(core.num_users(), 2);
  EXPECT_EQ(core.num_items, 2);
  EXPECT_EQ(items_of(core, 1), (std::vector<int32_t>{2, 1}));  // b: y@1 then x@3
}

TEST(Readers, RatedRowsMovieLensAndAmazonLayouts) {
  // The same log as MovieLens ratings.dat, a raw Amazon user,item,rating,timestamp file and a
  // rated .inter: u1 rates a 5 @3, b 2 @1, c 4 @2; u2 rates a 3 @5, c 1 @4.
  TempDir dir;
  const std::string dat = write_file(dir.file("ratings.dat"), "1::10::5::3\n1::20::2::1\n1::30::4::2\n2::10::3::5\n2::30::1::4\n");
  const std::string csv = write_file(dir.file("raw.csv"), "1,10,5.0,3\n1,20,2.0,1\n1,30,4.0,2\n2,10,3.0,5\n2,30,1.0,4\n");
  const std::string inter = write_file(dir.file("r.inter"), "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                                            "1\t10\t5\t3\n1\t20\t2\t1\n1\t30\t4\t2\n2\t10\t3\t5\n2\t30\t1\t4\n");
  PrepareOptions keep, liked;
  liked.min_rating = 3;
  for (auto read : {read_movielens, read_csv, read_inter}) {
    const std::string path = read == read_movielens ? dat : read == read_csv ? csv : inter;
    const Dataset all = read(path, keep), kept = read(path, liked);
    // Time order within a user: u1 b(1) c(2) a(3); u2 c(4) a(5). Ids by first appearance.
    ASSERT_EQ(all.num_users(), 2) << path;
    EXPECT_EQ(all.num_interactions(), 5) << path;
    EXPECT_EQ(all.timestamps, (std::vector<double>{1, 2, 3, 4, 5})) << path;
    EXPECT_EQ(all.item_ids[all.begin(0)[0] - 1], "20") << path;
    // Rated 3 or more: u1 c(4) @2, a(5) @3; u2 a(3) @5.
    ASSERT_EQ(kept.num_interactions(), 3) << path;
    EXPECT_EQ(kept.timestamps, (std::vector<double>{2, 3, 5})) << path;
    EXPECT_EQ(kept.item_ids[kept.begin(0)[0] - 1], "30") << path;
  }
  EXPECT_EQ(guess_format(dat), "movielens");
  EXPECT_EQ(load_error(write_file(dir.file("bad.dat"), "1::10::5\n"), "movielens"),
            dir.file("bad.dat") + ":1: expected user::item::rating::timestamp, found 3 fields");
  EXPECT_EQ(load_error(write_file(dir.file("bad2.dat"), "1::10::five::3\n"), "movielens"),
            dir.file("bad2.dat") + ":1: rating 'five' is not a number");
  EXPECT_EQ(load_error(write_file(dir.file("mixed.csv"), "1,10,5,3\n1,20,1\n"), "csv"),
            dir.file("mixed.csv") + ":2: expected 4 comma-separated columns like the first row, found 3");
  try {
    read_csv(write_file(dir.file("plain.csv"), "1,10,3\n"), liked);
    ADD_FAILURE() << "a threshold without ratings accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("plain.csv") + ":1: --min-rating needs a rating column (user,item,rating,timestamp)");
  }
}

TEST(Readers, MalformedLinesInput) {
  TempDir dir;
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"1 2 3\n2 4 x\n", ":2: 'x' is not an integer id"},
      {"1 2 0\n", ":1: item id 0 is not positive"},
      {"1 2 3\n2 -4\n", ":2: item id -4 is not positive"},
      {"1 2 3\n7\n", ":2: user 7 has no items"},
      {"\n\n", "no interactions"},
  };
  for (const auto& c : cases) {
    const std::string path = write_file(dir.file("bad.txt"), c.text);
    std::string err = load_error(path, "lines");
    const std::string want = c.expect[0] == ':' ? path + c.expect : c.expect;
    EXPECT_NE(err.find(want), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << "error must be one line: " << err;
  }
}

TEST(Readers, MalformedInterAndCsvInput) {
  TempDir dir;
  const std::string bad_header = write_file(dir.file("h.inter"), "user\titem_id:token\nu\ti\n");
  EXPECT_NE(load_error(bad_header, "inter").find(bad_header + ":1: header field 'user' has no type"), std::string::npos);
  const std::string no_item = write_file(dir.file("n.inter"), "user_id:token\tts:float\nu\t1\n");
  EXPECT_NE(load_error(no_item, "inter").find(":1: header lacks user_id:token or item_id:token"), std::string::npos);
  const std::string missing_col = write_file(dir.file("m.inter"), "user_id:token\titem_id:token\tx:float\nu\ti\t1\nu\tj\n");
  EXPECT_NE(load_error(missing_col, "inter").find(missing_col + ":3: expected 3 tab-separated columns, found 2"),
            std::string::npos);
  const std::string bad_ts = write_file(dir.file("t.csv"), "a,x,1\nb,y,soon\n");
  EXPECT_NE(load_error(bad_ts, "csv").find(bad_ts + ":2: timestamp 'soon' is not a number"), std::string::npos);
  const std::string short_csv = write_file(dir.file("s.csv"), "a,x\n");
  EXPECT_NE(load_error(short_csv, "csv").find(":1: expected 3 comma-separated columns"), std::string::npos);
}

TEST(Readers, EmptyFileAndDirectory) {
  TempDir dir;
  const std::string empty = write_file(dir.file("empty.txt"), "");
  EXPECT_EQ(load_error(empty, "lines"), empty + ": file is empty");
  std::filesystem::create_directories(dir.file("sub"));
  EXPECT_EQ(load_error(dir.file("sub"), "lines"), dir.file("sub") + ": is a directory, expected a data file");
  EXPECT_EQ(load_error(dir.file("missing.txt"), "lines"), dir.file("missing.txt") + ": no such file");
}

TEST(Cache, RoundTripAndKeyInvalidation) {
  TempDir dir, cache;
  const std::string path = write_file(dir.file("d.inter"),
                                      "user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\t2\nv\tb\t1\nv\tc\t2\n");
  PrepareOptions o;
  o.format = "inter";
  CacheInfo info;
  Dataset first = load_dataset(path, o, cache.path().string(), &info);
  EXPECT_TRUE(info.rebuilt);
  Dataset second = load_dataset(path, o, cache.path().string(), &info);
  EXPECT_FALSE(info.rebuilt);
  EXPECT_EQ(second.offsets, first.offsets);
  EXPECT_EQ(second.items, first.items);
  EXPECT_EQ(second.timestamps, first.timestamps);
  EXPECT_EQ(second.user_ids, first.user_ids);
  EXPECT_EQ(second.item_ids, first.item_ids);
  EXPECT_EQ(second.num_items, first.num_items);
  EXPECT_EQ(second.name, "d");
  // Content change: rebuilt, and the new content is what loads.
  write_file(path, "user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\n");
  Dataset changed = load_dataset(path, o, cache.path().string(), &info);
  EXPECT_TRUE(info.rebuilt);
  EXPECT_EQ(changed.num_interactions(), 1);
  // Options are part of the key.
  o.k_core = 1;
  load_dataset(path, o, cache.path().string(), &info);
  EXPECT_TRUE(info.rebuilt);
  // No temporary files remain.
  for (const auto& e : std::filesystem::directory_iterator(cache.path()))
    EXPECT_EQ(e.path().extension(), ".h5") << e.path();
}

TEST(Cache, CorruptCacheIsRebuilt) {
  TempDir dir, cache;
  const std::string path = write_file(dir.file("d.txt"), "1 1 2 3\n");
  PrepareOptions o;
  const std::string cpath = cache_path_for(path, cache.path().string(), o);
  write_file(cpath, "not hdf5");
  CacheInfo info;
  Dataset d = load_dataset(path, o, cache.path().string(), &info);
  EXPECT_TRUE(info.rebuilt);
  EXPECT_EQ(d.num_interactions(), 3);
}

TEST(Cache, FailedWriteLeavesNothing) {
  TempDir dir;
  Dataset d = make_markov_dataset(5, 10, 3, 4, 1);
  const std::string blocker = write_file(dir.file("file"), "x");
  // The parent "directory" is a file: creating the cache must fail cleanly.
  EXPECT_THROW(write_cache(d, blocker + "/sub/c.h5", "h", PrepareOptions{}), std::exception);
  EXPECT_EQ(dir.count(), 1u);
}

TEST(Readers, MarkovDatasetIsDeterministic) {
  Dataset a = make_markov_dataset(50, 30, 5, 9, 3), b = make_markov_dataset(50, 30, 5, 9, 3);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.num_users(), 50);
  for (int64_t u = 0; u < a.num_users(); ++u) EXPECT_GE(a.length(u), 5);
  DatasetStats s = compute_stats(a);
  EXPECT_EQ(s.interactions, a.num_interactions());
  EXPECT_LE(s.min_length, s.p50);
  EXPECT_LE(s.p99, s.max_length);
  // Test answers that occur earlier in the sequence, counted by a slow path.
  Dataset r;
  r.offsets = {0, 3, 6, 8};
  r.items = {1, 2, 1, 3, 4, 5, 7, 7};
  r.num_items = 7;
  EXPECT_EQ(compute_stats(r).test_repeats, 2);  // users 1 and 3 repeat; user 2 does not
}

TEST(Readers, ANewFormatIsOneRegistration) {
  // A format of `item;item;...` lines, one user each, claimed for files ending in .semi.
  formats().add("semi", {[](const std::string& path, const PrepareOptions&) {
                             std::ifstream in(path);
                             Dataset d;
                             d.name = "semi";
                             for (std::string line; std::getline(in, line);) {
                               std::stringstream ss(line);
                               for (std::string x; std::getline(ss, x, ';');) {
                                 d.items.push_back(std::stoi(x));
                                 d.num_items = std::max<int64_t>(d.num_items, d.items.back());
                               }
                               d.offsets.push_back(static_cast<int64_t>(d.items.size()));
                             }
                             return d;
                           },
                           {".semi"},
                           "test format"});
  TempDir dir, cache;
  const std::string path = write_file(dir.file("d.semi"), "1;2;3\n3;2;1;4\n");
  EXPECT_EQ(guess_format(path), "semi");
  PrepareOptions o;
  o.format = guess_format(path);
  Dataset d = load_dataset(path, o, cache.path().string());
  EXPECT_EQ(items_of(d, 1), (std::vector<int32_t>{3, 2, 1, 4}));
  EXPECT_EQ(guess_format("x.inter"), "inter");
  EXPECT_EQ(guess_format("x.txt"), "lines");
  try {
    formats().add("csv", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "format 'csv' is registered twice: by builtin and by builtin");
  }
  o.format = "parquet";
  EXPECT_EQ(load_error(path, "parquet"), "unknown data format 'parquet' (registered: csv, inter, lines, movielens, semi)");
}

TEST(Readers, LeaveOneOutLeakageOnTimestampedData) {
  // u1 trains on t=1,2 and is tested at 10; u2 trains on 4, tested at 6; u3 trains on 7,8,
  // tested at 11; u4 has two items only and is left out. The earliest test is at 6: of the
  // training interactions 1, 2, 4, 7, 8 two come after it (0.4); the last training one is at
  // 8, and one of the three test interactions (u2's, 6) precedes it (1/3).
  InteractionTable t;
  for (double x : {1, 2, 3, 10}) t.add("u1", "i" + std::to_string(static_cast<int>(x)), x);
  for (double x : {4, 5, 6}) t.add("u2", "i" + std::to_string(static_cast<int>(x)), x);
  for (double x : {7, 8, 9, 11}) t.add("u3", "i" + std::to_string(static_cast<int>(x)), x);
  for (double x : {0, 12}) t.add("u4", "i" + std::to_string(static_cast<int>(x)), x);
  const Dataset d = t.build("events.csv", 0);
  const std::optional<LooLeakage> l = loo_leakage(d);
  ASSERT_TRUE(l.has_value());
  EXPECT_DOUBLE_EQ(l->train_after_first_test, 0.4);
  EXPECT_DOUBLE_EQ(l->users_test_before_last_train, 1.0 / 3);
  EXPECT_NE(format_stats(compute_stats(d)).find("leave-one-out leakage: 40.00% of training interactions come after the "
                                                "earliest test interaction, 33.33% of users' test interactions"),
            std::string::npos);
  // Without timestamps there is nothing to measure.
  Dataset plain = d;
  plain.timestamps.clear();
  EXPECT_FALSE(loo_leakage(plain).has_value());
}

TEST(Readers, GeneratedInterFileHasZipfPopularityAndSequentialStructure) {
  TempDir dir;
  GenerateOptions o;
  o.users = 2000;
  o.items = 3000;
  o.seed = 5;
  const std::string text = generate_inter(o);
  EXPECT_EQ(text, generate_inter(o));  // seeded
  o.seed = 6;
  EXPECT_NE(text, generate_inter(o));
  write_file(dir.file("g.inter"), text);
  const Dataset d = read_inter(dir.file("g.inter"));
  EXPECT_EQ(d.num_users(), 2000);
  EXPECT_GE(d.num_interactions(), 2000 * 5);
  EXPECT_LE(d.num_interactions(), 2000 * 30);
  ASSERT_EQ(d.timestamps.size(), d.items.size());
  // Popularity is skewed: the most frequent item is far above the median one.
  std::map<int32_t, int64_t> count;
  for (int32_t i : d.items) ++count[i];
  std::vector<int64_t> c;
  for (const auto& [i, n] : count) c.push_back(n);
  std::sort(c.begin(), c.end());
  EXPECT_GT(c.back(), 20 * c[c.size() / 2]);
  // Sequential: an item's most frequent successor follows it far more often than chance.
  std::map<std::pair<int32_t, int32_t>, int64_t> pairs;
  std::map<int32_t, int64_t> from;
  for (int64_t u = 0; u < d.num_users(); ++u)
    for (int64_t k = 1; k < d.length(u); ++k) ++pairs[{d.begin(u)[k - 1], d.begin(u)[k]}], ++from[d.begin(u)[k - 1]];
  std::map<int32_t, int64_t> best;
  for (const auto& [p, n] : pairs) best[p.first] = std::max(best[p.first], n);
  int64_t top = 0, all = 0;
  for (const auto& [i, n] : from) top += best[i], all += n;
  EXPECT_GT(static_cast<double>(top) / all, 0.25);  // follow 0.8 over 3 successors: about 0.27 + popularity
  // Times increase along each user's sequence.
  for (int64_t u = 0; u < d.num_users(); ++u)
    for (int64_t k = 1; k < d.length(u); ++k) ASSERT_LT(d.timestamps[d.offsets[u] + k - 1], d.timestamps[d.offsets[u] + k]);
  EXPECT_THROW(generate_inter(GenerateOptions{0}), Error);
}

namespace {
std::string write_gzip(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  return path;
}
}  // namespace

TEST(Readers, GzipSourcesReadAsTheirTextInEveryFormat) {
  TempDir dir, cache;
  const std::string dat = "1::10::5::3\n1::20::2::1\n1::30::4::2\n2::10::3::5\n2::30::1::4\n";
  const std::string lines = "1 5 6 7 8 9\n2 5 6 9 8 7 6\n";
  const std::string inter = "user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\t2\nv\tb\t1\nv\tc\t2\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ratings.dat", dat}, {"seqs.txt", lines}, {"d.inter", inter}, {"raw.csv", "1,10,3\n1,20,1\n2,10,5\n"}};
  for (const auto& [name, text] : cases) {
    const std::string plain = write_file(dir.file(name), text), gz = write_gzip(dir.file(name + ".gz"), text);
    EXPECT_EQ(guess_format(gz), guess_format(plain)) << name;
    PrepareOptions o;
    o.format = guess_format(gz);
    CacheInfo a, b;
    const Dataset want = load_dataset(plain, o, cache.path().string(), &a);
    const Dataset got = load_dataset(gz, o, cache.path().string(), &b);
    EXPECT_EQ(got.offsets, want.offsets) << name;
    EXPECT_EQ(got.items, want.items) << name;
    EXPECT_EQ(got.timestamps, want.timestamps) << name;
    EXPECT_EQ(got.name, want.name) << name;
    EXPECT_NE(a.source_hash, b.source_hash) << "the key hashes the file as stored";
  }
  // The key follows the compressed file's content: another text under the same name reloads.
  const std::string gz = write_gzip(dir.file("ratings.dat.gz"), "1::10::5::3\n1::20::2::1\n");
  PrepareOptions o;
  o.format = "movielens";
  CacheInfo info;
  EXPECT_EQ(load_dataset(gz, o, cache.path().string(), &info).num_interactions(), 2);
  EXPECT_TRUE(info.rebuilt);
  // Damage: a truncated gzip stream is one line naming the file, and leaves no cache.
  const std::string whole = read_file(write_gzip(dir.file("big.dat.gz"), std::string(200000, '1') + "::2::3::4\n"));
  write_file(dir.file("cut.dat.gz"), whole.substr(0, whole.size() / 2));
  const std::string e = load_error(dir.file("cut.dat.gz"), "movielens");
  EXPECT_EQ(e.rfind(dir.file("cut.dat.gz") + ": ", 0), 0u) << e;
  EXPECT_NE(e.find("gzip"), std::string::npos) << e;
}
