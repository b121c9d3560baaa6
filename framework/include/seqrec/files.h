#pragma once
/// The one way seqrec writes a file (results, rank files, caches, checkpoints, tables, plot
/// data): a reader sees the old file or the whole new one, never a part.
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace seqrec {

/// Writes `bytes` to `path`: a temporary file with a unique name in the target's directory,
/// written, flushed to disk (fsync), renamed over `path`, then the directory synced. Missing
/// parent directories are created. On any failure the temporary file is removed, `path` is
/// left as it was, and Error says "PATH: reason" in one line (the reason in errno's words).
void write_file_atomically(const std::string& path, std::string_view bytes);

/// The same for the bytes `fill` writes to the stream it is given, followed by with_checksum's
/// trailer over them, streamed to the file rather than held in memory (a training state, as
/// large as the model and its optimiser). An exception from `fill` leaves `path` as it was and
/// propagates. Returns the bytes written, trailer included.
int64_t write_checked_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill);

/// `payload` followed by a trailer that read_checked_file verifies: 8 bytes of FNV-1a over
/// the payload, then the tag "SQRCHK01". For binary files seqrec reads back whole.
std::string with_checksum(std::string payload);

/// Whether `bytes` end in with_checksum's trailer (not whether it matches).
bool has_checksum(std::string_view bytes);

/// The payload of `bytes` made by with_checksum. Error in one line ("PATH: damaged: ...")
/// when they are shorter than the trailer, lack it, or do not match the checksum.
std::string checked_payload(std::string bytes, const std::string& path);

/// A whole file's bytes; Error "PATH: reason" (errno's words) when it cannot be read.
std::string read_file(const std::string& path);

/// checked_payload of the file at `path`.
std::string read_checked_file(const std::string& path);

/// Claims `lock` for this process: creates it exclusively with "HOST PID", taking over a lock
/// whose owner has died on this host (a process killed by SIGKILL leaves its lock behind).
/// False when a live process holds it (one on another host always counts as live: a
/// cluster's shared disk). Error in one line when the file cannot be created.
bool claim_lock(const std::string& lock);

/// Whether `lock` names a live process (as claim_lock judges it).
bool lock_held(const std::string& lock);

/// Creates `dir` and its missing parents; Error "DIR: reason" in one line on failure.
void create_directories(const std::string& dir);

}  // namespace seqrec
