// HDF5 cache in CSR layout. Datasets: /offsets (int64), /items (int32), optional
// /timestamps (float64), /user_tokens and /item_tokens (char blob + int64 offsets).
// Attributes on the root: format_version, source_hash, options, num_items, name. The HDF5
// image is followed by with_checksum's trailer and is parsed from memory once it passes.
#include "seqrec/cache.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "io/h5.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/hash.h"

namespace seqrec {
namespace {

std::string options_key(const PrepareOptions& o) {
  // min_rating only when set, so every cache made before it existed keeps its key.
  std::string key = "format=" + o.format + ";k_core=" + std::to_string(o.k_core);
  if (o.min_rating) {
    std::ostringstream r;
    r << std::setprecision(17) << *o.min_rating;
    key += ";min_rating=" + r.str();
  }
  return key;
}

}  // namespace

std::string expand_home(const std::string& path) {
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + path.substr(1);
  }
  return path;
}

std::string hash_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data_error(path, 0, "cannot open for reading");
  uint64_t h = kFnv1aOffset;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), buf.size());
    h = fnv1a(std::string_view(buf.data(), static_cast<size_t>(in.gcount())), h);
  }
  return hex_digits(h);
}

std::string cache_path_for(const std::string& data_path, const std::string& cache_dir, const PrepareOptions& o) {
  namespace fs = std::filesystem;
  std::string abs = fs::absolute(data_path).lexically_normal().string();
  const std::string tag = hex_digits(fnv1a(abs + "|" + options_key(o)), 8);
  return (fs::path(expand_home(cache_dir)) / (fs::path(data_path).stem().string() + "-" + tag + ".h5")).string();
}

void write_cache(const Dataset& d, const std::string& path, const std::string& source_hash, const PrepareOptions& o) {
  write_file_atomically(path, with_checksum(h5::file_image([&](hid_t file) {
                          h5::write_vec(file, "offsets", d.offsets);
                          h5::write_vec(file, "items", d.items);
                          if (!d.timestamps.empty()) h5::write_vec(file, "timestamps", d.timestamps);
                          h5::write_strings(file, "user_tokens", d.user_ids);
                          h5::write_strings(file, "item_tokens", d.item_ids);
                          h5::write_attr_int(file, "format_version", kCacheFormatVersion);
                          h5::write_attr_int(file, "num_items", d.num_items);
                          h5::write_attr_string(file, "source_hash", source_hash);
                          h5::write_attr_string(file, "options", options_key(o));
                          h5::write_attr_string(file, "name", d.name);
                        })));
}

bool read_cache(const std::string& path, const std::string& source_hash, const PrepareOptions& o, Dataset* out) {
  if (!std::filesystem::exists(path)) return false;
  // A cache that is damaged, from another format or for another source is rebuilt; only
  // damage is worth a note (the others are the cache doing its job).
  std::string image;
  try {
    image = read_file(path);
    if (!has_checksum(image)) return false;  // written before caches carried checksums
    image = checked_payload(std::move(image), path);
    h5::H5Handle file{h5::open_image(image), H5Fclose};
    if (file.id < 0) throw Error(path + ": damaged: not an HDF5 file");
    if (h5::read_attr_int(file.id, "format_version") != kCacheFormatVersion) return false;
    if (h5::read_attr_string(file.id, "source_hash") != source_hash) return false;
    if (h5::read_attr_string(file.id, "options") != options_key(o)) return false;
    Dataset d;
    d.num_items = h5::read_attr_int(file.id, "num_items");
    d.name = h5::read_attr_string(file.id, "name");
    if (!h5::read_vec(file.id, "offsets", &d.offsets) || !h5::read_vec(file.id, "items", &d.items))
      throw Error(path + ": damaged: lacks /offsets or /items");
    h5::read_vec(file.id, "timestamps", &d.timestamps);
    d.user_ids = h5::read_strings(file.id, "user_tokens");
    d.item_ids = h5::read_strings(file.id, "item_tokens");
    const std::string defect = dataset_defect(d);
    if (!defect.empty()) throw Error(path + ": damaged: " + defect);
    *out = std::move(d);
    return true;
  } catch (const Error& e) {
    std::fprintf(stderr, "note: %s; rebuilding it\n", e.what());
    return false;
  }
}

Dataset load_dataset(const std::string& data_path, const PrepareOptions& o, const std::string& cache_dir,
                     CacheInfo* info) {
  if (std::filesystem::is_directory(data_path)) throw data_error(data_path, 0, "is a directory, expected a data file");
  if (!std::filesystem::exists(data_path)) throw data_error(data_path, 0, "no such file");
  CacheInfo local;
  local.path = cache_path_for(data_path, cache_dir, o);
  local.source_hash = hash_file(data_path);
  Dataset d;
  if (!read_cache(local.path, local.source_hash, o, &d)) {
    d = read_dataset(data_path, o);
    write_cache(d, local.path, local.source_hash, o);
    local.rebuilt = true;
  }
  if (info) *info = local;
  return d;
}

}  // namespace seqrec
