// Configuration: one declaration per key; command line > config file > default; typed errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "seqrec/build_info.h"
#include "seqrec/config.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"
#include "seqrec/registry.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;
using seqrec::testing::write_file;

namespace {
Config parse(std::vector<std::string> args) {
  seqrec::testing::default_config();
  Config c;
  std::string help;
  EXPECT_TRUE(parse_config(args, &c, &help));
  return c;
}
std::string parse_error(std::vector<std::string> args) {
  try {
    parse(args);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, PrecedenceCommandLineOverFileOverDefault) {
  TempDir dir;
  const std::string ini = write_file(dir.file("c.ini"), "epochs = 7\nloss = bce\n[sasrec]\nhidden-size = 32\nlayers = 3\n");
  Config c = parse({"--config", ini, "--epochs", "9", "--sasrec.layers=1"});
  EXPECT_EQ(c.integer("epochs"), 9);
  EXPECT_EQ(c.source("epochs"), "command line");
  EXPECT_EQ(c.str("loss"), "bce");
  EXPECT_EQ(c.source("loss"), "config file");
  EXPECT_EQ(c.integer("sasrec.hidden-size"), 32);
  EXPECT_EQ(c.integer("sasrec.layers"), 1);
  EXPECT_EQ(c.integer("patience"), 40);
  EXPECT_EQ(c.source("patience"), "default");
  EXPECT_EQ(c.int_list("ks"), (std::vector<int64_t>{5, 10, 20}));
}

TEST(Config, ErrorsNameTheKey) {
  EXPECT_EQ(parse_error({"--epochs", "many"}), "--epochs: 'many' is not a valid int");
  EXPECT_EQ(parse_error({"--protocol", "loose"}), "--protocol: 'loose' is not one of reference, strict");
  EXPECT_NE(parse_error({"--no-such-key", "1"}).find("no-such-key"), std::string::npos);
  // No abbreviations: --dropout is not taken for --dropout-rng (nor for any other key).
  EXPECT_EQ(parse_error({"--dropout", "0.2"}), "command line: unrecognised option '--dropout'");
  TempDir dir;
  const std::string ini = write_file(dir.file("bad.ini"), "lr = fast\n");
  EXPECT_EQ(parse_error({"--config", ini}), ini + ": --lr: 'fast' is not a valid float");
  EXPECT_EQ(parse_error({"--config", dir.file("none.ini")}), dir.file("none.ini") + ": config file not found");
}

TEST(Config, HashIgnoresOutputPathsOnly) {
  Config a = parse({"--epochs", "3"}), b = parse({"--epochs", "3", "--output", "x.json", "--cache-dir", "/tmp/y"});
  Config c = parse({"--epochs", "4"});
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
  EXPECT_EQ(a.hash().size(), 16u);
}

TEST(Config, HashIsOverTheKeysSetAwayFromTheirDefaults) {
  // seqrec bench's train arguments for the grid's SASRec+CCE seed-1 run: the config file sets
  // many keys, but only three to something other than their defaults (seed 1 and the label
  // are not among them: one is the default, the other names output).
  const std::string cfg = std::string(SEQREC_SOURCE_DIR) + "/configs/Beauty-sasrec-cce.ini";
  Config filed = parse({"--config", cfg, "--seed", "1", "--label", "sasrec-cce", "--threads", "1", "--patience", "10"});
  uint64_t h = 1469598103934665603ULL;  // FNV-1a, written out here independently of hash.h
  for (char ch : std::string("data=../shared/data/Beauty.txt;patience=10;threads=1;"))
    h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ULL;
  char want[17];
  std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(h));
  EXPECT_EQ(filed.hash(), want);
  // A key declared later (a new option, a user's plugin) leaves hashes alone at its default,
  // and so does a plugin that is not loaded.
  Schema extended = schema();
  extended.add({"zz.new-option", KeyType::kInt, "1", "an option declared after the hashes", "zz"});
  Config a = parse({"--epochs", "3"}), b(extended);
  b.set("epochs", "3");
  EXPECT_EQ(a.hash(), b.hash());
  b.set("zz.new-option", "2");
  EXPECT_NE(a.hash(), b.hash());
  // An unhashed key, declared so with the key, never enters.
  extended.add(KeySpec{"zz.where", KeyType::kString, "", "an output path", "zz"}.unhashed());
  Config d(extended);
  d.set("epochs", "3");
  d.set("zz.where", "elsewhere.json");
  EXPECT_EQ(a.hash(), d.hash());
}

TEST(Config, DifferingKeysTreatsAMissingRecordedKeyAsItsDefault) {
  Config c = parse({"--epochs", "3", "--output", "x.json"});
  std::map<std::string, std::string> recorded = {{"epochs", "3"}, {"output", "elsewhere.json"}};
  EXPECT_EQ(c.differing_keys(recorded), "");  // output paths and keys the record lacks at default
  recorded["lr"] = "0.01";
  recorded["zz.unknown"] = "1";  // a key of a plugin not loaded here
  recorded["epochs"] = "4";
  EXPECT_EQ(c.differing_keys(recorded), "epochs, lr, zz.unknown");
}

TEST(Config, EveryShippedConfigParsesAndNamesRegisteredComponents) {
  // A misspelt key, a value outside its choices or limits, or a component no registry holds
  // would stop a grid at that run; every file under configs/ is read as `--config` reads it,
  // with the bundled plugin loaded as the CLI loads it.
  seqrec::testing::default_config();
  load_plugin(std::string(SEQREC_BINARY_DIR) + "/plugins/seqrec_elecrec.so");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SEQREC_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".ini") continue;
    ++files;
    const std::string path = entry.path().string();
    Config c;
    std::string help;
    try {
      ASSERT_TRUE(parse_config({"--config", path}, &c, &help)) << path;
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_TRUE(models().has(c.str("model"))) << path << ": model " << c.str("model");
    EXPECT_TRUE(losses().has(c.str("loss"))) << path << ": loss " << c.str("loss");
    EXPECT_TRUE(trainers().has(c.str("trainer"))) << path << ": trainer " << c.str("trainer");
    EXPECT_TRUE(samplers().has(c.str("sampler"))) << path << ": sampler " << c.str("sampler");
  }
  EXPECT_GE(files, 50);
}

TEST(Config, EveryKeyIsDocumented) {
  seqrec::testing::default_config();
  for (const KeySpec& k : schema().keys()) {
    EXPECT_FALSE(k.help.empty()) << k.name;
    EXPECT_FALSE(k.group.empty()) << k.name;
  }
  const std::string help = describe_schema(schema());
  EXPECT_NE(help.find("--sasrec.hidden-size (int, default 64)"), std::string::npos);
}
