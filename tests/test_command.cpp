// Commands declared in the registry (command.h): the parsing, the help and every one-line
// error derive from the declaration, and a command writes to the stream it is given.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "seqrec/cli.h"
#include "seqrec/command.h"
#include "seqrec/config.h"
#include "seqrec/plugin.h"
#include "test_util.h"

using namespace seqrec;

namespace {

/// A command as a new file or a plugin declares one: it writes back what it was given.
Command echo_command() {
  Command c;
  c.synopsis = "WORDS... [--times N] [--shout]";
  c.description = "  writes back its words and options\n";
  c.options = {{"times", KeyType::kInt, "1", "repetitions", "echo", {}, {1}},
               {"shout", KeyType::kBool, "false", "upper case", "echo"},
               {"offset", KeyType::kFloat, "0", "a signed number", "echo"},
               {"output", KeyType::kString, "", "where it would write", "echo"},
               {"mode", KeyType::kString, "plain", "how", "echo", {"plain", "fancy"}}};
  c.aliases = {{"--out", "--output"}, {"-t", "--times"}};
  c.operands = "words";
  c.min_operands = 1;
  c.max_operands = 3;
  c.run = [](const CommandArgs& a, std::ostream& out) {
    out << a.options.integer("times") << " " << a.options.flag("shout") << " " << a.options.real("offset") << " "
        << a.options.str("output") << " " << a.options.str("mode") << ":";
    for (const std::string& w : a.operands) out << " " << w;
    return 7;
  };
  return c;
}

class Commands : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_builtins();
    if (!commands().has("test-echo")) commands().add("test-echo", [] { return echo_command(); }, "writes back its words", "test");
  }
  static std::string run(const std::vector<std::string>& args) {
    std::ostringstream out;
    EXPECT_EQ(run_command("test-echo", args, out), 7);
    return out.str();
  }
  static std::string error(const std::vector<std::string>& args) {
    try {
      std::ostringstream out;
      run_command("test-echo", args, out);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(Commands, OptionsOperandsAndAliasesComeFromTheDeclaration) {
  EXPECT_EQ(run({"a"}), "1 0 0  plain: a");
  EXPECT_EQ(run({"a", "--times", "3", "b", "--shout", "--offset", "-2.5", "--out", "f", "--mode=fancy"}),
            "3 1 -2.5 f fancy: a b");
  EXPECT_EQ(run({"-t", "2", "--shout", "false", "a", "-4"}), "2 0 0  plain: a -4");  // a negative number is a word
}

TEST_F(Commands, EveryMistakeIsOneLineNamingTheCommand) {
  const std::string usage = "; usage: seqrec test-echo WORDS... [--times N] [--shout]";
  EXPECT_EQ(error({}), "test-echo: no words named" + usage);
  EXPECT_EQ(error({"a", "b", "c", "d"}), "test-echo: unexpected argument 'd'" + usage);
  EXPECT_EQ(error({"a", "--bogus"}), "test-echo: unknown option --bogus (seqrec test-echo --help)");
  EXPECT_EQ(error({"a", "--times", "0"}), "test-echo: --times: 0 is out of range [1, inf]");
  EXPECT_EQ(error({"a", "--times", "-3"}), "test-echo: --times: -3 is out of range [1, inf]");
  EXPECT_EQ(error({"a", "--times", "x"}), "test-echo: --times: 'x' is not a valid int");
  EXPECT_EQ(error({"a", "--times", "2", "-t", "3"}), "test-echo: --times is given twice");
  EXPECT_EQ(error({"a", "--times"}), "test-echo: --times needs a value");
  EXPECT_EQ(error({"a", "--mode", "odd"}), "test-echo: --mode: 'odd' is not one of plain, fancy");
}

TEST_F(Commands, HelpIsGeneratedFromTheDeclarationAndTheCommandIsListed) {
  std::ostringstream help;
  EXPECT_EQ(run_command("test-echo", {"a", "--help"}, help), 0);
  EXPECT_EQ(help.str(),
            "usage: seqrec test-echo WORDS... [--times N] [--shout]\n"
            "  writes back its words and options\n"
            "options:\n"
            "  --times (int, default 1)\n      repetitions\n"
            "  --shout (bool, default false)\n      upper case\n"
            "  --offset (float, default 0)\n      a signed number\n"
            "  --output (string)\n      where it would write\n"
            "  --mode (string, default plain) {plain|fancy}\n      how\n"
            "  --out is --output\n"
            "  -t is --times\n");
  std::ostringstream top;
  EXPECT_EQ(run_cli({"--help"}, top), 0);
  EXPECT_NE(top.str().find("\n  test-echo writes back its words\n"), std::string::npos) << top.str();
  std::ostringstream list;
  EXPECT_EQ(run_cli({"list"}, list), 0);
  EXPECT_NE(list.str().find(" table test-echo (test) train tune\n"), std::string::npos) << list.str();
}

TEST_F(Commands, BuiltInCommandsWriteToTheStreamTheyAreGiven) {
  seqrec::testing::TempDir dir;
  std::ostringstream out;
  ASSERT_EQ(run_cli({"generate", "--users", "5", "--items", "9", "--out", dir.file("g.inter")}, out), 0);
  EXPECT_EQ(out.str().rfind("wrote " + dir.file("g.inter") + ": 5 users, 9 items, ", 0), 0u) << out.str();
  EXPECT_TRUE(std::filesystem::exists(dir.file("g.inter")));
}

TEST(Config, ANegativeValueIsTheKeysValueNotAnotherOption) {
  register_builtins();
  Config c;
  EXPECT_THROW(
      {
        try {
          parse_config({"--epochs", "-3"}, &c, nullptr);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "--epochs: -3 is out of range [1, inf]");
          throw;
        }
      },
      Error);
  try {
    parse_config({"--data", "x", "--seed", "-7", "--epochs", "2"}, &c, nullptr);
    FAIL() << "a negative seed accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--seed: -7 is out of range [0, inf]");
  }
}

}  // namespace
