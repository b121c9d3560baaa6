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
    EXPECT_EQ(std::string(e.what()), dir.file("x.pt") + ": not a PyTorch zip checkpoint (legacy pickled .pt files are not supported)");
  }
  EXPECT_THROW(read_state_dict(dir.file("missing.pt")), Error);
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
