#pragma once
/// The HDF5 dataset cache: every command loads data through it.
#include <string>

#include "seqrec/dataset.h"

namespace seqrec {

/// Bumped whenever the cache layout changes; part of the cache key.
constexpr int kCacheFormatVersion = 2;

/// 64-bit FNV-1a of a file's bytes, as 16 hex digits.
std::string hash_file(const std::string& path);

/// The cache file that `load_dataset` uses for `data_path` inside `cache_dir`.
std::string cache_path_for(const std::string& data_path, const std::string& cache_dir,
                           const PrepareOptions& options);

/// What load_dataset did.
struct CacheInfo {
  std::string path;         ///< the cache file
  std::string source_hash;  ///< hash of the source file's content
  bool rebuilt = false;     ///< true when the source was parsed (cache missing or stale)
};

/// Loads `data_path` through the cache: reads the cache when its key (format version,
/// source hash, options) matches, otherwise parses the source and rewrites the cache
/// atomically (temporary file + rename). Throws seqrec::Error on malformed input, leaving
/// no cache file behind.
Dataset load_dataset(const std::string& data_path, const PrepareOptions& options,
                     const std::string& cache_dir, CacheInfo* info = nullptr);

/// Low-level: writes `d` with the given key attributes to `path` atomically.
void write_cache(const Dataset& d, const std::string& path, const std::string& source_hash,
                 const PrepareOptions& options);
/// Low-level: reads a cache file, checking its checksum trailer and its contents; returns
/// false (with a one-line note on stderr when it is damaged) if it cannot be used.
bool read_cache(const std::string& path, const std::string& source_hash,
                const PrepareOptions& options, Dataset* out);

/// Expands a leading "~/" using $HOME.
std::string expand_home(const std::string& path);

}  // namespace seqrec
