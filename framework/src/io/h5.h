#pragma once
// Small RAII helpers over the HDF5 C API, shared by the dataset cache and the rank files.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/error.h"

namespace seqrec::h5 {

/// Closes an HDF5 handle on scope exit.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5Handle() {
    if (id >= 0) close(id);
  }
};

template <typename T>
hid_t h5_type();
template <>
inline hid_t h5_type<int64_t>() { return H5T_NATIVE_INT64; }
template <>
inline hid_t h5_type<int32_t>() { return H5T_NATIVE_INT32; }
template <>
inline hid_t h5_type<double>() { return H5T_NATIVE_DOUBLE; }
template <>
inline hid_t h5_type<char>() { return H5T_NATIVE_CHAR; }

template <typename T>
inline void write_vec(hid_t file, const char* name, const std::vector<T>& v) {
  hsize_t dims[1] = {v.size()};
  H5Handle space{H5Screate_simple(1, dims, nullptr), H5Sclose};
  H5Handle plist{H5Pcreate(H5P_DATASET_CREATE), H5Pclose};
  H5Pset_obj_track_times(plist.id, 0);  // no clock in the bytes: the same data, the same file
  if (!v.empty()) {
    hsize_t chunk[1] = {std::min<hsize_t>(v.size(), 1 << 16)};
    H5Pset_chunk(plist.id, 1, chunk);
    H5Pset_deflate(plist.id, 1);
  }
  H5Handle ds{H5Dcreate2(file, name, h5_type<T>(), space.id, H5P_DEFAULT, plist.id, H5P_DEFAULT), H5Dclose};
  if (ds.id < 0) throw Error(std::string("HDF5: cannot create dataset ") + name);
  if (!v.empty() && H5Dwrite(ds.id, h5_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    throw Error(std::string("HDF5: cannot write dataset ") + name);
}

/// The size in bytes of an open file (its image, for files read from memory).
inline hsize_t file_size(hid_t file) {
  hsize_t n = 0;
  return H5Fget_filesize(file, &n) < 0 ? 0 : n;
}

/// Whether `bytes` of data can come from a file of `file_bytes`: deflate expands at most
/// ~1032-fold, and a dataset with no storage reads as fill values, which seqrec never writes.
inline bool plausible_size(hsize_t bytes, hsize_t file_bytes) { return bytes / 1100 <= file_bytes; }

template <typename T>
inline bool read_vec(hid_t file, const char* name, std::vector<T>* v) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return false;
  H5Handle ds{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
  if (ds.id < 0) throw Error(std::string("HDF5: ") + name + " is not a dataset");
  H5Handle space{H5Dget_space(ds.id), H5Sclose};
  if (H5Sget_simple_extent_ndims(space.id) != 1) throw Error(std::string("HDF5: dataset ") + name + " is not one-dimensional");
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  if (dims[0] > (hsize_t{1} << 40) / sizeof(T) || !plausible_size(dims[0] * sizeof(T), file_size(file)))
    throw Error(std::string("HDF5: dataset ") + name + " claims " + std::to_string(dims[0]) +
                " elements, more than its file can hold");
  v->resize(dims[0]);
  if (dims[0] > 0 && H5Dread(ds.id, h5_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, v->data()) < 0)
    throw Error(std::string("HDF5: cannot read dataset ") + name);
  return true;
}

inline void write_strings(hid_t file, const std::string& prefix, const std::vector<std::string>& s) {
  std::vector<char> blob;
  std::vector<int64_t> off{0};
  for (const auto& x : s) {
    blob.insert(blob.end(), x.begin(), x.end());
    off.push_back(static_cast<int64_t>(blob.size()));
  }
  write_vec(file, (prefix + "_blob").c_str(), blob);
  write_vec(file, (prefix + "_offsets").c_str(), off);
}

inline std::vector<std::string> read_strings(hid_t file, const std::string& prefix) {
  std::vector<char> blob;
  std::vector<int64_t> off;
  std::vector<std::string> out;
  if (!read_vec(file, (prefix + "_blob").c_str(), &blob) || !read_vec(file, (prefix + "_offsets").c_str(), &off))
    return out;
  for (size_t i = 0; i + 1 < off.size(); ++i)
    if (off[0] != 0 || off[i] > off[i + 1] || off[i + 1] > static_cast<int64_t>(blob.size()))
      throw Error("HDF5: " + prefix + "_offsets do not index " + prefix + "_blob");
  for (size_t i = 0; i + 1 < off.size(); ++i) out.emplace_back(blob.data() + off[i], blob.data() + off[i + 1]);
  return out;
}

inline void write_attr_string(hid_t obj, const char* name, const std::string& value) {
  H5Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, std::max<size_t>(1, value.size()));
  H5Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  H5Handle attr{H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  H5Awrite(attr.id, type.id, value.empty() ? " " : value.c_str());
}

inline std::string read_attr_string(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return "";
  H5Handle attr{H5Aopen(obj, name, H5P_DEFAULT), H5Aclose};
  H5Handle type{H5Aget_type(attr.id), H5Tclose};
  size_t n = H5Tget_size(type.id);
  if (H5Tget_class(type.id) != H5T_STRING || H5Tis_variable_str(type.id) != 0 || !plausible_size(n, file_size(obj)))
    throw Error(std::string("HDF5: attribute ") + name + " is not a fixed-length string");
  std::string s(n, '\0');
  H5Handle mem{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(mem.id, n);
  H5Aread(attr.id, mem.id, s.data());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

inline void write_attr_int(hid_t obj, const char* name, int64_t v) {
  H5Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  H5Handle attr{H5Acreate2(obj, name, H5T_NATIVE_INT64, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  H5Awrite(attr.id, H5T_NATIVE_INT64, &v);
}

inline int64_t read_attr_int(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return -1;
  H5Handle attr{H5Aopen(obj, name, H5P_DEFAULT), H5Aclose};
  int64_t v = -1;
  H5Aread(attr.id, H5T_NATIVE_INT64, &v);
  return v;
}

/// Turns HDF5's automatic error printing off: a failure is reported by the caller, in one
/// line, never as HDF5's stack on stderr.
inline void quiet() {
  static const bool done = (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), true);
  (void)done;
}

/// Opens the HDF5 file whose bytes are `image` (read and checked by the caller) read-only
/// from memory, or returns -1 (without printing HDF5's error stack).
inline hid_t open_image(const std::string& image) {
  quiet();
  if (image.empty()) return -1;
  static int serial = 0;  // distinct names for HDF5's open-file table
  H5Handle fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  if (fapl.id < 0 || H5Pset_fapl_core(fapl.id, 1 << 20, /*backing_store=*/0) < 0 ||
      H5Pset_file_image(fapl.id, const_cast<char*>(image.data()), image.size()) < 0)
    return -1;
  const std::string name = "seqrec-read-" + std::to_string(serial++) + ".h5";
  return H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.id);
}

/// The bytes of an HDF5 file that `fill(file_id)` writes, built in memory (the core driver,
/// no backing store). Pass them to write_file_atomically: HDF5 itself never writes to disk,
/// so a full disk or a failed close cannot leave a partial file or crash at exit.
template <typename Fill>
std::string file_image(Fill&& fill) {
  quiet();
  static int serial = 0;  // distinct names for HDF5's open-file table
  H5Handle fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  if (fapl.id < 0 || H5Pset_fapl_core(fapl.id, 1 << 20, /*backing_store=*/0) < 0)
    throw Error("HDF5: cannot set up an in-memory file");
  const std::string name = "seqrec-image-" + std::to_string(serial++) + ".h5";
  H5Handle file{H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id), H5Fclose};
  if (file.id < 0) throw Error("HDF5: cannot create an in-memory file");
  fill(file.id);
  if (H5Fflush(file.id, H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5: cannot flush an in-memory file");
  const ssize_t n = H5Fget_file_image(file.id, nullptr, 0);
  if (n < 0) throw Error("HDF5: cannot read back an in-memory file");
  std::string image(static_cast<size_t>(n), '\0');
  if (H5Fget_file_image(file.id, image.data(), image.size()) != n) throw Error("HDF5: cannot read back an in-memory file");
  return image;
}

}  // namespace seqrec::h5
