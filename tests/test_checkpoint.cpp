// Checkpoints: write/read round trip, loading into a model reproduces its outputs, clear
// errors for files that are not state dicts; the published checkpoint against golden values
// when ../shared is present.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "baselines/sasrec/sasrec.h"
#include "seqrec/build_info.h"
#include "seqrec/checkpoint.h"
#include "seqrec/error.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

TEST(Checkpoint, RoundTripKeepsNamesOrderValuesAndMetadata) {
  TempDir dir;
  StateDict sd;
  sd.tensors.emplace_back("b.weight", torch::randn({3, 4}));
  sd.tensors.emplace_back("a.bias", torch::arange(5, torch::kLong));
  sd.tensors.emplace_back("scalar", torch::tensor(2.5));
  sd.tensors.emplace_back("strided", torch::randn({4, 6}).t());  // non-contiguous source
  sd.metadata_json = R"({"model": "sasrec"})";
  write_state_dict(dir.file("m.pt"), sd);
  StateDict back = read_state_dict(dir.file("m.pt"));
  ASSERT_EQ(back.tensors.size(), sd.tensors.size());
  for (size_t i = 0; i < sd.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].first, sd.tensors[i].first);
    EXPECT_TRUE(torch::equal(back.tensors[i].second, sd.tensors[i].second)) << sd.tensors[i].first;
  }
  EXPECT_EQ(back.metadata_json, sd.metadata_json);
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.pt.tmp")));
}

TEST(Checkpoint, LoadedModelReproducesOutputs) {
  TempDir dir;
  torch::manual_seed(1);
  SASRec a{SASRecOptions(40).hidden_size(8).max_len(10)};
  torch::manual_seed(2);
  SASRec b{SASRecOptions(40).hidden_size(8).max_len(10)};
  a.eval();
  b.eval();
  write_state_dict(dir.file("a.pt"), state_dict_of(a));
  EXPECT_TRUE(load_state_dict(b, read_state_dict(dir.file("a.pt"))).empty());
  torch::Tensor seqs = torch::randint(1, 40, {3, 10}, torch::kLong);
  EXPECT_TRUE(torch::equal(a.encode(seqs, 0), b.encode(seqs, 0)));
}

TEST(Checkpoint, ShapeMismatchAndMissingTensorAreErrors) {
  SASRec small{SASRecOptions(40).hidden_size(8).max_len(10)};
  SASRec other{SASRecOptions(41).hidden_size(8).max_len(10)};
  StateDict sd = state_dict_of(other);
  try {
    load_state_dict(small, sd);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'item_embeddings.weight' has shape [41, 8], the model expects [40, 8]"),
              std::string::npos)
        << e.what();
  }
  sd = state_dict_of(small);
  sd.tensors.erase(sd.tensors.begin());
  EXPECT_THROW(load_state_dict(small, sd), Error);
}

TEST(Checkpoint, ClearErrorsForNonCheckpoints) {
  TempDir dir;
  seqrec::testing::write_file(dir.file("x.pt"), "this is not a zip");
  try {
    read_state_dict(dir.file("x.pt"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("x.pt") + ": not a PyTorch checkpoint (neither the zip format nor the legacy one)");
  }
  EXPECT_THROW(read_state_dict(dir.file("missing.pt")), Error);
}

namespace {

/// Writes PyTorch's legacy (pre-1.6) format opcode by opcode, as torch.save did with pickle
/// protocol 2: independent of seqrec's reader, which has no writer for this format.
class LegacyFile {
 public:
  struct Storage {
    std::string cls, key, location;
    torch::Tensor data;  // 1-D, contiguous, CPU
  };
  struct Entry {
    std::string name;
    std::string storage;                 // key of the storage it views
    int64_t offset;
    std::vector<int64_t> size, stride;
    std::vector<int64_t> view;           // (offset, size) into the storage, or empty
  };

  std::string bytes(const std::vector<Storage>& storages, const std::vector<Entry>& entries, bool list_keys = true) const {
    std::string out;
    // magic number 0x1950a86a20f9469cfc6c as LONG1, format version 1001, system info
    out += std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
    out += std::string("\x80\x02M\xe9\x03.", 6);
    out += std::string("\x80\x02}q\x00(", 6) + str("protocol_version") + "M" + le(1001, 2) + str("little_endian") + "\x88" +
           str("type_sizes") + "}q\x01(" + str("short") + "K\x02" + str("int") + "K\x04" + str("long") + "K\x04" + "uu.";
    // the state dict: an OrderedDict with _metadata set by BUILD
    std::string p = "\x80\x02" + global("collections", "OrderedDict") + ")R(";
    for (const Entry& e : entries) {
      const Storage& s = find(storages, e.storage);
      p += str(e.name) + global("torch._utils", "_rebuild_tensor_v2") + "((" + str("storage") +
           global(s.cls.substr(0, s.cls.rfind('.')), s.cls.substr(s.cls.rfind('.') + 1)) + str(s.key) + str(s.location) +
           integer(s.data.numel());
      if (e.view.empty())
        p += "N";
      else
        p += "(" + str(s.key + "v") + integer(e.view[0]) + integer(e.view[1]) + "t";
      p += "tQ" + integer(e.offset) + ints(e.size) + ints(e.stride) + "\x89" + global("collections", "OrderedDict") + ")Rt" + "R";
    }
    p += "u}" + str("_metadata") + "Nsb.";
    out += p;
    if (!list_keys) return out;
    out += std::string("\x80\x02]q\x00(", 6);
    for (const Storage& s : storages) out += str(s.key);
    out += "e.";
    for (const Storage& s : storages) {
      out += le(static_cast<uint64_t>(s.data.numel()), 8);
      out.append(static_cast<const char*>(s.data.data_ptr()), s.data.nbytes());
    }
    return out;
  }

 private:
  static const Storage& find(const std::vector<Storage>& all, const std::string& key) {
    for (const Storage& s : all)
      if (s.key == key) return s;
    throw std::runtime_error("no storage " + key);
  }
  static std::string le(uint64_t v, int n) {
    std::string b;
    for (int k = 0; k < n; ++k) b.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
    return b;
  }
  static std::string str(const std::string& s) { return "X" + le(s.size(), 4) + s; }
  static std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
  static std::string integer(int64_t v) { return v < 256 ? "K" + le(v, 1) : "J" + le(v, 4); }
  static std::string ints(const std::vector<int64_t>& v) {
    std::string b = "(";
    for (int64_t x : v) b += integer(x);
    return b + "t";
  }
};

/// Two storages saved from a GPU (one a LongStorage), one shared by two tensors at
/// different offsets, one tensor transposed, one through an old-style storage view.
struct LegacyCase {
  torch::Tensor floats = torch::randn({30});
  torch::Tensor longs = torch::arange(7, torch::kLong) * 1000;
  std::vector<LegacyFile::Storage> storages{{"torch.cuda.FloatStorage", "94011", "cuda:0", floats},
                                            {"torch.LongStorage", "94022", "cpu", longs}};
  std::vector<LegacyFile::Entry> entries{{"w", "94011", 0, {3, 4}, {4, 1}, {}},
                                         {"w_t", "94011", 12, {4, 3}, {1, 4}, {}},
                                         {"ids", "94022", 0, {7}, {1}, {}},
                                         {"viewed", "94011", 1, {2}, {1}, {26, 4}}};
  std::string bytes() const { return LegacyFile{}.bytes(storages, entries); }
};

std::string legacy_error(const std::string& bytes, TempDir& dir) {
  seqrec::testing::write_file(dir.file("legacy.pt"), bytes);
  try {
    read_state_dict(dir.file("legacy.pt"));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Checkpoint, LegacyFormatReadsEveryTensorAndView) {
  TempDir dir;
  LegacyCase c;
  seqrec::testing::write_file(dir.file("legacy.pt"), c.bytes());
  StateDict sd = read_state_dict(dir.file("legacy.pt"));
  ASSERT_EQ(sd.tensors.size(), 4u);
  EXPECT_EQ(sd.tensors[0].first, "w");
  EXPECT_TRUE(torch::equal(sd.tensors[0].second, c.floats.slice(0, 0, 12).view({3, 4})));
  EXPECT_TRUE(torch::equal(sd.tensors[1].second, c.floats.slice(0, 12, 24).view({3, 4}).t()));
  EXPECT_EQ(sd.tensors[2].second.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(sd.tensors[2].second, c.longs));
  EXPECT_TRUE(torch::equal(sd.tensors[3].second, c.floats.slice(0, 27, 29)));  // view at 26, offset 1
  EXPECT_TRUE(sd.metadata_json.empty());
  // The tensors own their memory: not views of one another's storage.
  EXPECT_NE(sd.tensors[0].second.data_ptr(), sd.tensors[1].second.data_ptr());
}

TEST(Checkpoint, LegacyFormatDamageIsOneLine) {
  TempDir dir;
  LegacyCase c;
  const std::string good = c.bytes();
  const std::string f = dir.file("legacy.pt");
  EXPECT_EQ(legacy_error(good.substr(0, good.size() - 5), dir), f + ": truncated: storage 94022 ends past the end of the file");
  EXPECT_EQ(legacy_error(good.substr(0, 200), dir).rfind(f + ": state dict pickle: truncated", 0), 0u)
      << legacy_error(good.substr(0, 200), dir);
  std::string magic = good;
  magic[5] ^= 1;  // one bit of the magic number
  EXPECT_EQ(legacy_error(magic, dir), f + ": not a PyTorch checkpoint (neither the zip format nor the legacy one)");
  EXPECT_EQ(legacy_error(good + "x", dir), f + ": legacy checkpoint: 1 bytes after the last storage");
  c.storages[1].cls = "torch.QUInt8Storage";
  EXPECT_EQ(legacy_error(c.bytes(), dir), f + ": unsupported storage type torch.QUInt8Storage");
  c.storages[1].cls = "torch.LongStorage";
  c.entries[0].size = {4, 8};  // reaches element 31 of a 30-element storage
  c.entries[0].stride = {8, 1};
  EXPECT_EQ(legacy_error(c.bytes(), dir), f + ": state dict pickle: tensor reaches beyond its storage");
}

TEST(Checkpoint, ReleasedLegacyCheckpointsLoad) {
  const std::string dir = std::string(SEQREC_SOURCE_DIR) + "/../shared/checkpoints/";
  if (!std::filesystem::exists(dir + "ICLRec-Beauty-1.pt")) GTEST_SKIP() << "no ../shared checkpoints here";
  StateDict icl = read_state_dict(dir + "ICLRec-Beauty-1.pt");
  EXPECT_EQ(icl.tensors.size(), 20u);
  ASSERT_NE(icl.find("item_embeddings.weight"), nullptr);
  EXPECT_EQ(icl.find("item_embeddings.weight")->sizes(), torch::IntArrayRef({12103, 64}));
  EXPECT_EQ(icl.find("item_encoder.layer.0.intermediate.dense_1.weight")->sizes(), torch::IntArrayRef({256, 64}));
  SASRec m{SASRecOptions(12103).layers(1)};
  EXPECT_TRUE(load_state_dict(m, icl).empty());
  StateDict s3 = read_state_dict(dir + "S3Rec-Beauty-epochs-150.pt");
  ASSERT_NE(s3.find("item_embeddings.weight"), nullptr);
  EXPECT_EQ(s3.find("item_embeddings.weight")->size(1), 64);
}

TEST(Checkpoint, PublishedBeautyCheckpointMatchesGoldenValues) {
  const std::string shared = std::string(SEQREC_SOURCE_DIR) + "/../shared";
  const std::string ckpt = shared + "/checkpoints/ELECRec-Beauty-0.pt", golden = shared + "/spec/golden/elecrec-checkpoints.json";
  if (!std::filesystem::exists(ckpt) || !std::filesystem::exists(golden)) GTEST_SKIP() << "no ../shared checkpoints here";
  StateDict sd = read_state_dict(ckpt);
  const torch::Tensor* items = sd.find("item_embeddings.weight");
  ASSERT_NE(items, nullptr);
  SASRec m{SASRecOptions(items->size(0))};
  m.eval();
  EXPECT_EQ(load_state_dict(m, sd).size(), 8u);  // the unused intermediate.* and dis_projection.*
  nlohmann::json g = nlohmann::json::parse(std::ifstream(golden))["datasets"]["Beauty"];
  torch::NoGradGuard no_grad;
  for (int u = 0; u < 3; ++u) {
    std::vector<int64_t> seq = g["users_test_input_first3"][u].get<std::vector<int64_t>>();
    const int64_t len = static_cast<int64_t>(seq.size());
    torch::Tensor h = m.encode(torch::tensor(seq, torch::kLong).unsqueeze(0), 50 - len)[0][len - 1];
    auto want = g["hidden_last_position_first8_dims_first3_users"][u].get<std::vector<double>>();
    for (int k = 0; k < 8; ++k) EXPECT_NEAR(h[k].item<double>(), want[k], 2e-5) << "user " << u << " dim " << k;
    if (u == 0) {
      auto scores = g["user1_scores_items_1_to_8"].get<std::vector<double>>();
      for (int j = 0; j < 8; ++j) EXPECT_NEAR((h * (*items)[j + 1]).sum().item<double>(), scores[j], 1e-4);
    }
  }
}
