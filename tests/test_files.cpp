// The one file writer: whole files or nothing, one-line errors, no temporary left behind,
// provoked with a file-size limit (an unprivileged stand-in for a full disk) and a parent
// path that is a file.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "seqrec/error.h"
#include "seqrec/files.h"
#include "test_util.h"

using namespace seqrec;
using seqrec::testing::TempDir;

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Caps the size of files this process writes (RLIMIT_FSIZE); writes past it fail with
/// EFBIG, as writes to a full disk fail with ENOSPC. SIGXFSZ is ignored meanwhile.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};
}  // namespace

TEST(Files, WritesWholeFilesAndCreatesParents) {
  TempDir dir;
  const std::string path = dir.file("a/b/result.json");
  write_file_atomically(path, "first");
  EXPECT_EQ(read(path), "first");
  std::string big(1 << 20, 'x');
  write_file_atomically(path, big);
  EXPECT_EQ(read(path), big);
  EXPECT_EQ(dir.count(), 3u) << "no temporary left beside the file";  // a, a/b, result.json
}

TEST(Files, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("ranks.h5");
  write_file_atomically(path, "old");
  try {
    FileSizeLimit limit(4096);
    write_file_atomically(path, std::string(100000, 'y'));
    FAIL() << "a write past the file-size limit succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": File too large");
  }
  EXPECT_EQ(read(path), "old");
  EXPECT_EQ(dir.count(), 1u);
  // A new file that cannot be written is not created at all.
  try {
    FileSizeLimit limit(4096);
    write_file_atomically(dir.file("new.json"), std::string(100000, 'y'));
    FAIL();
  } catch (const Error&) {
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("new.json")));
  EXPECT_EQ(dir.count(), 1u);
}

TEST(Files, AStreamedFileIsTheChecksummedPayloadOrNothing) {
  TempDir dir;
  const std::string path = dir.file("run.json.state");
  // Past the writer's 1 MiB buffer, so it is written (and hashed) in several pieces.
  std::string payload(3 << 20, 'p');
  for (size_t i = 0; i < payload.size(); i += 4099) payload[i] = static_cast<char>(i % 251);
  const int64_t size = write_checked_file_atomically(path, [&](std::ostream& out) { out << payload; });
  EXPECT_EQ(read(path), with_checksum(payload));
  EXPECT_EQ(size, static_cast<int64_t>(with_checksum(payload).size()));
  EXPECT_EQ(read_checked_file(path), payload);
  // A full disk (file-size limit) part way: one line, the old file whole, no temporary.
  try {
    FileSizeLimit limit(1 << 20);
    write_checked_file_atomically(path, [&](std::ostream& out) { out << std::string(3 << 20, 'n'); });
    FAIL() << "a write past the file-size limit succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": File too large");
  }
  // The writer fails half way through its bytes.
  try {
    write_checked_file_atomically(path, [&](std::ostream& out) {
      out << std::string(2 << 20, 'h');
      throw Error("serialising failed");
    });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "serialising failed");
  }
  EXPECT_EQ(read_checked_file(path), payload);
  EXPECT_EQ(dir.count(), 1u) << "no temporary left beside the file";
}

TEST(Files, AParentThatIsAFileIsOneLine) {
  TempDir dir;
  write_file_atomically(dir.file("plain"), "x");
  try {
    write_file_atomically(dir.file("plain/sub/r.json"), "{}");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find(dir.file("plain/sub")), std::string::npos) << m;
    EXPECT_NE(m.find("Not a directory"), std::string::npos) << m;
  }
}

TEST(Files, ALockThatCannotBeWrittenIsNotLeftBehind) {
  TempDir dir;
  const std::string lock = dir.file("r.json.lock");
  try {
    FileSizeLimit limit(0);  // creating the file works; writing its owner does not
    claim_lock(lock);
    FAIL() << "a lock was claimed on a full disk";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), lock + ": File too large");
  }
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_TRUE(claim_lock(lock));
}

TEST(Files, AnEmptyLockCountsAsHeldOnlyWhileFresh) {
  TempDir dir;
  const std::string lock = dir.file("r.json.lock");
  std::ofstream(lock).close();  // its owner is between creating and writing it
  EXPECT_TRUE(lock_held(lock));
  EXPECT_FALSE(claim_lock(lock));
  // Left empty by a process that died there: stale after a few seconds, and taken over.
  std::filesystem::last_write_time(lock, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(1));
  EXPECT_FALSE(lock_held(lock));
  EXPECT_TRUE(claim_lock(lock));
}
