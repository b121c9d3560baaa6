// Every binary file kind seqrec reads back (rank files, dataset caches, checkpoints) with
// each of its bytes flipped in turn: the reader refuses in one line naming the file, or
// returns exactly what was written; never a crash, never a different value. Plus the
// parsers' refusals the fuzzers asked for (grid values, result JSON of the wrong shape).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "report/runs.h"
#include "seqrec/bench.h"
#include "seqrec/cache.h"
#include "seqrec/checkpoint.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/files.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;
using seqrec::testing::write_file;

namespace {

std::string bytes_of(const std::string& path) { return read_file(path); }

void put_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// Flips one bit of byte `at` of `path` (the original bytes are `original`).
void flip(const std::string& path, const std::string& original, size_t at) {
  std::string b = original;
  b[at] = static_cast<char>(b[at] ^ (1 << (at % 8)));
  put_bytes(path, b);
}

/// A refusal names the file and is one line.
void expect_one_line_naming(const Error& e, const std::string& path) {
  const std::string what = e.what();
  EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

}  // namespace

TEST(Integrity, RankFileFlippedAnywhereIsRefusedOrReadExactly) {
  TempDir dir;
  EvalResult r;
  r.users = {0, 1, 2, 3, 4};
  r.ranks = {0, 9, 3, 12000, 41};
  r.label = "full/reference/optimistic";
  const std::string path = dir.file("r.ranks.h5");
  save_ranks(r, path);
  const std::string original = bytes_of(path);
  // The trailer follows the HDF5 image: HDF5 (h5py, h5dump) still opens the file itself.
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  if (f >= 0) H5Fclose(f);
  size_t refused = 0;
  for (size_t at = 0; at < original.size(); ++at) {
    flip(path, original, at);
    try {
      EvalResult back = load_ranks(path);
      EXPECT_EQ(back.ranks, r.ranks) << "byte " << at;
      EXPECT_EQ(back.users, r.users) << "byte " << at;
      EXPECT_EQ(back.label, r.label) << "byte " << at;
    } catch (const Error& e) {
      expect_one_line_naming(e, path);
      ++refused;
    }
  }
  // Only a flip in the 8-byte tag can go unrefused (then the file reads as one without a
  // trailer, and its data is intact).
  EXPECT_GE(refused, original.size() - 8);
}

TEST(Integrity, CacheFlippedAnywhereIsRebuiltFromTheSource) {
  TempDir dir, cache;
  Dataset d = make_markov_dataset(20, 30, 3, 8, 5);
  const std::string source = dir.file("d.txt");
  write_lines(d, source);
  CacheInfo info;
  const Dataset want = load_dataset(source, {}, cache.path().string(), &info);
  const std::string original = bytes_of(info.path);
  for (size_t at = 0; at < original.size(); at += 7) {
    flip(info.path, original, at);
    CacheInfo again;
    const Dataset got = load_dataset(source, {}, cache.path().string(), &again);
    EXPECT_TRUE(again.rebuilt) << "byte " << at;
    EXPECT_EQ(got.offsets, want.offsets) << "byte " << at;
    EXPECT_EQ(got.items, want.items) << "byte " << at;
    EXPECT_TRUE(bytes_of(info.path) == original) << "byte " << at;  // rewritten whole
  }
}

TEST(Integrity, CheckpointFlippedAnywhereIsRefusedOrReadExactly) {
  TempDir dir;
  StateDict sd;
  sd.tensors.emplace_back("w", torch::randn({4, 3}));
  sd.tensors.emplace_back("ids", torch::arange(6, torch::kLong));
  sd.metadata_json = R"({"model": "sasrec"})";
  const std::string path = dir.file("m.pt");
  write_state_dict(path, sd);
  const std::string original = bytes_of(path);
  size_t crc_refusals = 0;
  for (size_t at = 0; at < original.size(); ++at) {
    flip(path, original, at);
    try {
      StateDict back = read_state_dict(path);
      ASSERT_EQ(back.tensors.size(), sd.tensors.size()) << "byte " << at;
      for (size_t i = 0; i < sd.tensors.size(); ++i) {
        EXPECT_EQ(back.tensors[i].first, sd.tensors[i].first) << "byte " << at;
        EXPECT_TRUE(torch::equal(back.tensors[i].second, sd.tensors[i].second)) << "byte " << at;
      }
      EXPECT_EQ(back.metadata_json, sd.metadata_json) << "byte " << at;
    } catch (const Error& e) {
      expect_one_line_naming(e, path);
      crc_refusals += std::string(e.what()).find("CRC-32") != std::string::npos;
    }
  }
  // Each of the 4 + 48 tensor bytes, the pickle and the metadata are covered by a CRC.
  EXPECT_GE(crc_refusals, 4u * 12 + 6 * 8);
}

TEST(Integrity, GridValuesThatAreNotIntegersAreOneLine) {
  TempDir dir;
  for (const std::string bad : {"seeds = 1, x", "seeds = 99999999999999999999", "parallel = 2.5", "threads ="}) {
    const std::string path = write_file(dir.file("g.ini"), "datasets = A\nmethods = m\nconfig = c\noutput = o\n" + bad + "\n");
    try {
      read_grid(path);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      expect_one_line_naming(e, path);
    }
  }
}

TEST(Integrity, ResultJsonOfTheWrongShapeIsOneLine) {
  TempDir dir;
  for (const std::string bad : {R"({"command": "train"})", R"({"command": "train", "config": [], "dataset": 3})",
                                R"({"command": "train", "config": {}, "dataset": {}, "protocol": {}, "seqrec": {},
                                    "test": {"hit@10": "high"}})"}) {
    const std::string path = write_file(dir.file("r.json"), bad);
    try {
      read_runs({path});
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      expect_one_line_naming(e, path);
    }
  }
  // Not a train result at all: skipped, and then nothing is found.
  write_file(dir.file("r.json"), "[1, 2]");
  EXPECT_THROW(read_runs({dir.file("r.json")}), Error);
}
