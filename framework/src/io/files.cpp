#include "seqrec/files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "seqrec/error.h"
#include "seqrec/hash.h"

namespace seqrec {
namespace fs = std::filesystem;

namespace {

Error os_error(const std::string& path, int err) { return Error(path + ": " + std::strerror(err)); }

/// A temporary name beside `path`, unique across processes and threads.
std::string temp_name(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

constexpr std::string_view kChecksumTag = "SQRCHK01";

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

/// Syncs a directory so a rename in it survives a crash; best effort (some file systems
/// refuse to open or sync directories, and the file itself is already on disk).
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

/// The trailer after a payload whose FNV-1a is `h`: its 8 bytes, then the tag.
std::string checksum_trailer(uint64_t h) {
  std::string t;
  for (int i = 0; i < 8; ++i) t.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
  t.append(kChecksumTag);
  return t;
}

/// Writes all of `bytes` to `fd`; false with `*err` set when it cannot.
bool write_all(int fd, std::string_view bytes, int* err) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = n < 0 ? errno : ENOSPC;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

/// A stream buffer that writes to a file descriptor in 1 MiB pieces and hashes what it writes.
class HashingFileBuf : public std::streambuf {
 public:
  explicit HashingFileBuf(int fd) : fd_(fd), buf_(1 << 20) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int err = 0;  ///< errno of the first failed write
  uint64_t hash = kFnv1aOffset;
  int64_t written = 0;

 protected:
  int_type overflow(int_type c) override {
    drain();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    drain();
    return 0;
  }

 private:
  /// Writes the buffer out. After a failed write the rest is dropped rather than refused:
  /// LibTorch's archive writer throws from its destructor when its stream fails, which ends
  /// the process (abort, temporary and lock left behind); the caller reports `err` instead.
  void drain() {
    const std::string_view chunk(pbase(), static_cast<size_t>(pptr() - pbase()));
    if (!err && write_all(fd_, chunk, &err)) {
      hash = fnv1a(chunk, hash);
      written += static_cast<int64_t>(chunk.size());
    }
    setp(buf_.data(), buf_.data() + buf_.size());
  }
  int fd_;
  std::vector<char> buf_;
};

/// The one atomic write: `body` writes the file's bytes to a temporary beside `path` (false with
/// an errno on failure; an exception also removes the temporary), which is synced and renamed
/// over `path`.
void write_atomically(const std::string& path, const std::function<bool(int fd, int* err)>& body) {
  const fs::path target(path);
  if (target.has_parent_path()) create_directories(target.parent_path().string());
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw os_error(path, errno);
  // The temporary file goes on every failure (errno is read before the clean-up).
  auto fail = [&](int err, bool still_open) {
    if (still_open) ::close(fd);
    ::unlink(tmp.c_str());
    return os_error(path, err);
  };
  int err = 0;
  bool written = false;
  try {
    written = body(fd, &err);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (!written) throw fail(err, true);
  if (::fsync(fd) != 0) throw fail(errno, true);
  if (::close(fd) != 0) throw fail(errno, false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail(errno, false);
  sync_directory(target.parent_path());
}

}  // namespace

std::string with_checksum(std::string payload) {
  payload.append(checksum_trailer(fnv1a(payload)));
  return payload;  // moved; returning append's reference would copy it
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw os_error(path, errno);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw os_error(path, errno ? errno : EIO);
  return s.str();
}

bool has_checksum(std::string_view bytes) {
  return bytes.size() >= 8 + kChecksumTag.size() && bytes.substr(bytes.size() - kChecksumTag.size()) == kChecksumTag;
}

std::string checked_payload(std::string bytes, const std::string& path) {
  if (!has_checksum(bytes)) throw Error(path + ": damaged: no checksum trailer (truncated, or not written by seqrec)");
  bytes.resize(bytes.size() - kChecksumTag.size());
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) want |= uint64_t{static_cast<unsigned char>(bytes[bytes.size() - 8 + i])} << (8 * i);
  bytes.resize(bytes.size() - 8);
  if (fnv1a(bytes) != want) throw Error(path + ": damaged: checksum mismatch");
  return bytes;
}

std::string read_checked_file(const std::string& path) { return checked_payload(read_file(path), path); }

bool lock_held(const std::string& lock) {
  std::ifstream in(lock);
  if (!in) return false;
  std::string host;
  pid_t pid = 0;
  in >> host >> pid;
  if (host.empty() || pid <= 0) {  // being written by its owner this instant, or left empty by a crash
    std::error_code ec;
    const auto age = fs::file_time_type::clock::now() - fs::last_write_time(lock, ec);
    return !ec && age < std::chrono::seconds(10);
  }
  return host != host_name() || kill(pid, 0) == 0 || errno != ESRCH;
}

bool claim_lock(const std::string& lock) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(lock.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string owner = host_name() + " " + std::to_string(getpid()) + "\n";
      const ssize_t n = ::write(fd, owner.data(), owner.size());
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      if (n != static_cast<ssize_t>(owner.size())) {
        ::unlink(lock.c_str());  // an empty lock would read as "being written" for good
        throw os_error(lock, err);
      }
      return true;
    }
    if (errno != EEXIST) throw os_error(lock, errno);
    if (lock_held(lock)) return false;
    std::error_code ec;
    fs::remove(lock, ec);
  }
  return false;
}

void create_directories(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": " + ec.message());
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  write_atomically(path, [&](int fd, int* err) { return write_all(fd, bytes, err); });
}

int64_t write_checked_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill) {
  int64_t size = 0;
  write_atomically(path, [&](int fd, int* err) {
    HashingFileBuf buf(fd);
    std::ostream out(&buf);
    fill(out);
    out.flush();
    if (buf.err || !out) {
      *err = buf.err ? buf.err : EIO;
      return false;
    }
    const std::string trailer = checksum_trailer(buf.hash);
    size = buf.written + static_cast<int64_t>(trailer.size());
    return write_all(fd, trailer, err);
  });
  return size;
}

}  // namespace seqrec
