// A reader and writer for the small pickle subset that PyTorch state dicts use.
// LibTorch 1.13's own unpickler refuses CUDA storages and turns OrderedDict into None, so
// this file parses the pickles itself: data.pkl on top of caffe2's zip reader, and the
// legacy (pre-1.6) format, a run of pickles followed by the raw storages.
#include "seqrec/checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/utils.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "seqrec/error.h"
#include "seqrec/files.h"

namespace seqrec {
namespace {

struct PyObject;
using Obj = std::shared_ptr<PyObject>;

/// The values a state-dict pickle can hold.
struct PyObject {
  enum Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kStorage, kTensor, kMark };
  Kind kind = kNone;
  int64_t i = 0;
  double f = 0;
  std::string s;                               // string value; "module.name" for globals
  std::vector<Obj> items;                      // tuple/list elements
  std::vector<std::pair<Obj, Obj>> dict;       // dict entries in order
  torch::Tensor tensor;                        // storage (1-D raw) or tensor
};

Obj make(PyObject::Kind k) {
  auto o = std::make_shared<PyObject>();
  o->kind = k;
  return o;
}

/// Storage element types by pickle class name ("torch.cuda.FloatStorage" is a FloatStorage
/// saved from a GPU; tensors are always loaded to the CPU).
torch::ScalarType storage_dtype(std::string cls, const std::string& path) {
  if (cls.rfind("torch.cuda.", 0) == 0) cls.erase(6, 5);
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat},   {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},     {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},     {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},   {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},     {"torch.BoolStorage", torch::kBool}};
  auto it = types.find(cls);
  if (it == types.end()) throw Error(path + ": unsupported storage type " + cls);
  return it->second;
}

/// A storage's elements by its key, type and element count (the persistent id's fields).
using StorageSource = std::function<torch::Tensor(const std::string& key, torch::ScalarType dtype, int64_t numel)>;

/// One pickle. Tensors it rebuilds are views of the storages `storages` returns, so a
/// storage whose bytes come after the pickle (the legacy format) may be filled later.
class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, StorageSource storages, std::string path, std::string what)
      : p_(data), end_(data + size), storages_source_(std::move(storages)), path_(std::move(path)), what_(std::move(what)) {}

  /// Where the pickle that run() read ended.
  const uint8_t* end_of_pickle() const { return p_; }

  Obj run() {
    while (true) {
      uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                                       // PROTO
        case 0x95: skip(8); break;                                      // FRAME
        case '}': push(make(PyObject::kDict)); break;                   // EMPTY_DICT
        case ']': push(make(PyObject::kList)); break;                   // EMPTY_LIST
        case ')': push(make(PyObject::kTuple)); break;                  // EMPTY_TUPLE
        case '(': push(make(PyObject::kMark)); break;                   // MARK
        case 'N': push(make(PyObject::kNone)); break;                   // NONE
        case 0x88: push(bool_obj(true)); break;                         // NEWTRUE
        case 0x89: push(bool_obj(false)); break;                        // NEWFALSE
        case 'K': push(int_obj(byte())); break;                         // BININT1
        case 'M': push(int_obj(uint_le(2))); break;                     // BININT2
        case 'J': push(int_obj(static_cast<int32_t>(uint_le(4)))); break;  // BININT
        case 0x8a: push(int_obj(long1())); break;                       // LONG1
        case 'G': push(float_obj()); break;                             // BINFLOAT
        case 'X': push(string_obj(uint_le(4))); break;                  // BINUNICODE
        case 0x8c: push(string_obj(byte())); break;                     // SHORT_BINUNICODE
        case 'U': push(string_obj(byte())); break;                      // SHORT_BINSTRING
        case 'T': push(string_obj(uint_le(4))); break;                  // BINSTRING
        case 'c': push(global()); break;                                // GLOBAL
        case 0x93: {                                                    // STACK_GLOBAL
          Obj name = pop(), module = pop();
          auto g = make(PyObject::kGlobal);
          g->s = module->s + "." + name->s;
          push(g);
          break;
        }
        case 'q': memo_[byte()] = top(); break;                         // BINPUT
        case 'r': memo_[uint_le(4)] = top(); break;                     // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;                  // MEMOIZE
        case 'h': push(memo_get(byte())); break;                        // BINGET
        case 'j': push(memo_get(uint_le(4))); break;                    // LONG_BINGET
        case 't': {                                                     // TUPLE
          auto t = make(PyObject::kTuple);
          t->items = pop_to_mark();
          push(t);
          break;
        }
        case 0x85: case 0x86: case 0x87: {                              // TUPLE1..3
          auto t = make(PyObject::kTuple);
          t->items.resize(op - 0x84);
          for (size_t k = t->items.size(); k-- > 0;) t->items[k] = pop();
          push(t);
          break;
        }
        case 'a': {                                                     // APPEND
          Obj v = pop();
          top()->items.push_back(v);
          break;
        }
        case 'e': {                                                     // APPENDS
          auto vs = pop_to_mark();
          Obj list = top();
          list->items.insert(list->items.end(), vs.begin(), vs.end());
          break;
        }
        case 's': {                                                     // SETITEM
          Obj v = pop(), k = pop();
          top()->dict.emplace_back(k, v);
          break;
        }
        case 'u': {                                                     // SETITEMS
          auto kv = pop_to_mark();
          Obj d = top();
          if (d->kind != PyObject::kDict) fail("SETITEMS on a non-dict");
          for (size_t k = 0; k + 1 < kv.size(); k += 2) d->dict.emplace_back(kv[k], kv[k + 1]);
          break;
        }
        case 'R': {                                                     // REDUCE
          Obj args = pop(), fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'Q': push(persistent_load(pop())); break;                  // BINPERSID
        case 'b': pop(); break;  // BUILD: state (e.g. OrderedDict._metadata) is not needed
        case '.': return pop();                                         // STOP
        default: {
          char buf[64];
          std::snprintf(buf, sizeof buf, "unsupported pickle opcode 0x%02x", op);
          fail(buf);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error(path_ + ": " + what_ + ": " + why); }
  uint8_t byte() {
    if (p_ >= end_) fail("truncated pickle");
    return *p_++;
  }
  void skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) fail("truncated pickle");
    p_ += n;
  }
  uint64_t uint_le(int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(byte()) << (8 * k);
    return v;
  }
  int64_t long1() {
    int n = byte();
    if (n > 8) fail("integer too large");
    uint64_t v = uint_le(n);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~0ULL << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  Obj bool_obj(bool b) {
    auto o = make(PyObject::kBool);
    o->i = b;
    return o;
  }
  Obj int_obj(int64_t v) {
    auto o = make(PyObject::kInt);
    o->i = v;
    return o;
  }
  Obj float_obj() {
    uint64_t bits = 0;
    for (int k = 0; k < 8; ++k) bits = (bits << 8) | byte();  // big-endian
    auto o = make(PyObject::kFloat);
    std::memcpy(&o->f, &bits, 8);
    return o;
  }
  Obj string_obj(uint64_t n) {
    if (static_cast<uint64_t>(end_ - p_) < n) fail("truncated string");
    auto o = make(PyObject::kString);
    o->s.assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return o;
  }
  std::string line() {
    std::string s;
    for (uint8_t c = byte(); c != '\n'; c = byte()) s.push_back(static_cast<char>(c));
    return s;
  }
  Obj global() {
    auto g = make(PyObject::kGlobal);
    std::string module = line();
    g->s = module + "." + line();
    return g;
  }
  void push(Obj o) { stack_.push_back(std::move(o)); }
  Obj pop() {
    if (stack_.empty()) fail("stack underflow");
    Obj o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Obj top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  Obj memo_get(uint64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail("unknown memo key");
    return it->second;
  }
  std::vector<Obj> pop_to_mark() {
    std::vector<Obj> out;
    while (true) {
      Obj o = pop();
      if (o->kind == PyObject::kMark) break;
      out.push_back(o);
    }
    return {out.rbegin(), out.rend()};
  }
  int64_t as_int(const Obj& o, const char* what) {
    if (o->kind != PyObject::kInt) fail(std::string(what) + " is not an integer");
    return o->i;
  }
  std::vector<int64_t> as_ints(const Obj& o, const char* what) {
    if (o->kind != PyObject::kTuple) fail(std::string(what) + " is not a tuple");
    std::vector<int64_t> v;
    for (const Obj& x : o->items) v.push_back(as_int(x, what));
    return v;
  }

  Obj reduce(const Obj& fn, const Obj& args) {
    if (fn->kind != PyObject::kGlobal) fail("REDUCE of a non-callable");
    const std::string& f = fn->s;
    if (f == "collections.OrderedDict" || f == "builtins.dict") return make(PyObject::kDict);
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
      if (args->items.size() < 4) fail("_rebuild_tensor_v2 with too few arguments");
      Obj storage = args->items[0];
      if (storage->kind != PyObject::kStorage) fail("tensor without storage");
      const int64_t offset = as_int(args->items[1], "storage offset");
      auto size = as_ints(args->items[2], "size"), stride = as_ints(args->items[3], "stride");
      if (size.size() != stride.size()) fail("size and stride differ in rank");
      int64_t last = offset;
      for (size_t k = 0; k < size.size(); ++k) {
        if (size[k] < 0 || stride[k] < 0) fail("negative size or stride");
        if (size[k] == 0) last = -1;
        if (last >= 0) last += (size[k] - 1) * stride[k];
      }
      if (last >= storage->tensor.numel()) fail("tensor reaches beyond its storage");
      auto t = make(PyObject::kTensor);
      t->tensor = storage->tensor.as_strided(size, stride, storage->tensor.storage_offset() + offset);  // a view starts inside its storage
      return t;
    }
    if (f == "torch._utils._rebuild_parameter") {
      if (args->items.empty() || args->items[0]->kind != PyObject::kTensor) fail("_rebuild_parameter without tensor");
      return args->items[0];
    }
    fail("unsupported callable " + f);
  }

  /// ('storage', class, key, location, numel[, view]): view is None or (view key, offset,
  /// size), a slice of the storage that older PyTorch versions pickled as a storage of its own.
  Obj persistent_load(const Obj& pid) {
    if (pid->kind != PyObject::kTuple || pid->items.size() < 5 || pid->items[0]->s != "storage")
      fail("unsupported persistent id (a whole pickled module?)");
    const std::string& cls = pid->items[1]->s;
    const std::string& key = pid->items[2]->s;
    const int64_t numel = as_int(pid->items[4], "storage size");
    if (numel < 0) fail("negative storage size");
    auto cached = storages_.find(key);
    Obj s = cached != storages_.end() ? cached->second : make(PyObject::kStorage);
    if (cached == storages_.end()) {
      s->tensor = storages_source_(key, storage_dtype(cls, path_), numel);
      storages_[key] = s;
    }
    if (pid->items.size() < 6 || pid->items[5]->kind == PyObject::kNone) return s;
    const Obj& view = pid->items[5];
    if (view->kind != PyObject::kTuple || view->items.size() != 3) fail("storage view is not (key, offset, size)");
    const int64_t offset = as_int(view->items[1], "view offset"), size = as_int(view->items[2], "view size");
    if (offset < 0 || size < 0 || offset + size > s->tensor.numel()) fail("storage view reaches beyond its storage");
    auto v = make(PyObject::kStorage);
    v->tensor = s->tensor.narrow(0, offset, size);
    return v;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  StorageSource storages_source_;
  std::string path_;
  std::string what_;
  std::vector<Obj> stack_;
  std::map<uint64_t, Obj> memo_;
  std::map<std::string, Obj> storages_;
};

// --- zip integrity -------------------------------------------------------------------
// PyTorch's reader does not check the CRC-32 each zip entry carries, so a flipped bit in a
// tensor would load silently. seqrec checks every entry against the central directory
// before reading any of it; torch.save and seqrec both write the CRCs.

/// Little-endian fields of a byte string, each read bounds-checked.
struct ZipBytes {
  const std::string& b;
  const std::string& path;
  [[noreturn]] void damaged(const std::string& why) const { throw Error(path + ": damaged: " + why); }
  uint64_t get(uint64_t at, int width) const {
    if (at > b.size() || b.size() - at < static_cast<uint64_t>(width)) damaged("zip structure points past the end of the file");
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= uint64_t{static_cast<uint8_t>(b[at + i])} << (8 * i);
    return v;
  }
};

void check_zip_crcs(const std::string& bytes, const std::string& path) {
  const ZipBytes z{bytes, path};
  // The end record: within the last 22 + 65535 bytes (a zip comment may follow it).
  const Error not_zip(path + ": not a PyTorch checkpoint (neither the zip format nor the legacy one)");
  if (bytes.size() < 22) throw not_zip;
  uint64_t eocd = bytes.size() - 22;
  const uint64_t lowest = eocd > 0xFFFF ? eocd - 0xFFFF : 0;
  while (z.get(eocd, 4) != 0x06054b50) {
    if (eocd == lowest) throw not_zip;
    --eocd;
  }
  uint64_t entries = z.get(eocd + 10, 2), dir = z.get(eocd + 16, 4);
  if ((entries == 0xFFFF || dir == 0xFFFFFFFF) && eocd >= 20 && z.get(eocd - 20, 4) == 0x07064b50) {
    const uint64_t eocd64 = z.get(eocd - 20 + 8, 8);
    if (z.get(eocd64, 4) != 0x06064b50) z.damaged("bad zip64 end record");
    entries = z.get(eocd64 + 32, 8);
    dir = z.get(eocd64 + 48, 8);
  }
  for (uint64_t e = 0, at = dir; e < entries; ++e) {
    if (z.get(at, 4) != 0x02014b50) z.damaged("bad zip central directory");
    const uint64_t method = z.get(at + 10, 2), crc = z.get(at + 16, 4);
    uint64_t size = z.get(at + 20, 4), local = z.get(at + 42, 4);
    const uint64_t name_len = z.get(at + 28, 2), extra_len = z.get(at + 30, 2), comment_len = z.get(at + 32, 2);
    if (bytes.size() - at < 46 + name_len) z.damaged("zip structure points past the end of the file");
    const std::string name = bytes.substr(at + 46, name_len);
    // Zip64: the 32-bit fields that overflowed (0xFFFFFFFF) follow in the extra field id 1.
    for (uint64_t x = at + 46 + name_len, end = x + extra_len; x + 4 <= end;) {
      const uint64_t id = z.get(x, 2), len = z.get(x + 2, 2);
      if (id == 1) {
        uint64_t f = x + 4;
        if (z.get(at + 24, 4) == 0xFFFFFFFF) f += 8;  // uncompressed size
        if (size == 0xFFFFFFFF) size = z.get(f, 8), f += 8;
        if (local == 0xFFFFFFFF) local = z.get(f, 8);
      }
      x += 4 + len;
    }
    // PyTorch stores every entry uncompressed (method 0), and so does seqrec.
    if (method != 0) z.damaged(name + " is compressed (zip method " + std::to_string(method) + "); checkpoints store entries");
    if (z.get(local, 4) != 0x04034b50) z.damaged("bad zip entry header for " + name);
    // The name is in both headers (no CRC covers it): a record renamed by a flipped bit
    // would otherwise just go missing.
    const uint64_t local_name_len = z.get(local + 26, 2);
    if (local_name_len != name_len || bytes.size() - local - 30 < name_len || bytes.compare(local + 30, name_len, name) != 0)
      z.damaged("zip entry " + name + " has another name in its local header");
    const uint64_t data = local + 30 + local_name_len + z.get(local + 28, 2);
    if (data > bytes.size() || bytes.size() - data < size) z.damaged(name + " runs past the end of the file");
    if (crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data() + data), size) != crc) z.damaged(name + " fails its CRC-32");
    at += 46 + name_len + extra_len + comment_len;
  }
}

// --- writer ---------------------------------------------------------------------------

struct PickleWriter {
  std::string out;
  void op(uint8_t c) { out.push_back(static_cast<char>(c)); }
  void u32(uint32_t v) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  }
  void str(const std::string& s) {
    op('X');
    u32(static_cast<uint32_t>(s.size()));
    out += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      op(static_cast<uint8_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      u32(static_cast<uint32_t>(static_cast<int32_t>(v)));
    } else {
      op(0x8a);
      op(8);
      for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * k)) & 0xff));
    }
  }
  void global(const std::string& module, const std::string& name) {
    op('c');
    out += module + "\n" + name + "\n";
  }
  void int_tuple(const std::vector<int64_t>& v) {
    op('(');
    for (int64_t x : v) integer(x);
    op('t');
  }
};

std::string storage_class(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "FloatStorage";
    case torch::kDouble: return "DoubleStorage";
    case torch::kHalf: return "HalfStorage";
    case torch::kBFloat16: return "BFloat16Storage";
    case torch::kLong: return "LongStorage";
    case torch::kInt: return "IntStorage";
    case torch::kShort: return "ShortStorage";
    case torch::kChar: return "CharStorage";
    case torch::kByte: return "ByteStorage";
    case torch::kBool: return "BoolStorage";
    default: throw Error(std::string("cannot save tensors of type ") + c10::toString(t));
  }
}

}  // namespace

const torch::Tensor* StateDict::find(const std::string& name) const {
  for (const auto& [k, v] : tensors)
    if (k == name) return &v;
  return nullptr;
}

void rename_tensors(StateDict& sd, const std::vector<std::pair<std::string, std::string>>& rules) {
  std::vector<std::pair<std::regex, std::string>> compiled;
  for (const auto& [pattern, replacement] : rules) compiled.emplace_back(std::regex(pattern), replacement);
  for (auto& [name, t] : sd.tensors)
    for (const auto& [pattern, replacement] : compiled)
      if (std::regex_match(name, pattern)) {
        name = std::regex_replace(name, pattern, replacement);
        break;
      }
}

void append_mask_row(StateDict& sd, const std::string& name) {
  for (auto& [k, t] : sd.tensors)
    if (k == name) {
      t = torch::cat({t, torch::zeros({1, t.size(1)}, t.options())});
      return;
    }
  throw Error("append_mask_row: the state dict has no tensor " + name);
}

namespace {

/// The state dict a pickle's root object holds, each tensor copied out of its storage.
StateDict state_dict_from(const Obj& root, const std::string& path, const std::string& what) {
  if (root->kind != PyObject::kDict) throw Error(path + ": " + what + " does not hold a dict of tensors (a whole pickled module?)");
  StateDict sd;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != PyObject::kString) throw Error(path + ": state dict key is not a string");
    if (v->kind != PyObject::kTensor) throw Error(path + ": entry '" + k->s + "' is not a tensor");
    sd.tensors.emplace_back(k->s, v->tensor.clone());
  }
  return sd;
}

/// The state dict in a zip checkpoint's bytes, which check_zip_crcs has passed.
StateDict parse_checkpoint(const std::string& bytes, const std::string& path) {
  std::istringstream stream(bytes);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(&stream);
  } catch (const std::exception& e) {
    throw Error(path + ": not a PyTorch checkpoint (neither the zip format nor the legacy one)");
  }
  if (!zip->hasRecord("data.pkl")) throw Error(path + ": archive has no data.pkl");
  auto [pkl, size] = zip->getRecord("data.pkl");
  auto storage = [&](const std::string& key, torch::ScalarType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    if (!zip->hasRecord(record)) throw Error(path + ": data.pkl: missing storage record " + record);
    auto [ptr, bytes] = zip->getRecord(record);
    const size_t elem = torch::elementSize(dtype);
    if (bytes != static_cast<size_t>(numel) * elem)
      throw Error(path + ": data.pkl: storage " + key + " holds " + std::to_string(bytes) + " bytes, expected " +
                  std::to_string(numel * elem));
    torch::Tensor t = torch::empty({numel}, dtype);
    std::memcpy(t.data_ptr(), ptr.get(), bytes);  // little-endian on both sides
    return t;
  };
  Unpickler up(static_cast<const uint8_t*>(pkl.get()), size, storage, path, "data.pkl");
  StateDict sd = state_dict_from(up.run(), path, "data.pkl");
  if (zip->hasRecord("seqrec.json")) {
    auto [meta, n] = zip->getRecord("seqrec.json");
    sd.metadata_json.assign(static_cast<const char*>(meta.get()), n);
  }
  return sd;
}

// --- the legacy format (torch.save before PyTorch 1.6) ---------------------------------
// Five pickles one after another: the magic number 0x1950a86a20f9469cfc6c, the format
// version 1001, the saving system's info (byte order, type sizes), the object, whose
// storages are persistent ids, and the sorted list of storage keys; then, per key in that
// order, the storage's element count (int64, little-endian) and its raw elements.

constexpr uint8_t kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};  // little-endian

/// Whether the bytes open with the legacy format's magic-number pickle (PROTO n, LONG1 10 bytes).
bool is_legacy(const std::string& b) {
  return b.size() >= 14 && static_cast<uint8_t>(b[0]) == 0x80 && static_cast<uint8_t>(b[2]) == 0x8a && b[3] == 10 &&
         std::memcmp(b.data() + 4, kLegacyMagic, sizeof kLegacyMagic) == 0;
}

StateDict parse_legacy(const std::string& bytes, const std::string& path) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* const end = p + bytes.size();
  p += 4 + sizeof kLegacyMagic;
  if (p >= end || *p++ != '.') throw Error(path + ": legacy checkpoint: bad magic-number pickle");
  auto no_storages = [&](const std::string&, torch::ScalarType, int64_t) -> torch::Tensor {
    throw Error(path + ": legacy checkpoint: a storage in its header");
  };
  auto next = [&](const char* what, const StorageSource& source) {
    Unpickler up(p, end - p, source, path, what);
    Obj o = up.run();
    p = up.end_of_pickle();
    return o;
  };
  Obj version = next("format version", no_storages);
  if (version->kind != PyObject::kInt || version->i != 1001)
    throw Error(path + ": legacy checkpoint of format version " + (version->kind == PyObject::kInt ? std::to_string(version->i) : "?") +
                ", expected 1001");
  Obj info = next("system info", no_storages);
  for (const auto& [k, v] : info->dict)
    if (k->s == "little_endian" && v->kind == PyObject::kBool && !v->i)
      throw Error(path + ": legacy checkpoint saved on a big-endian machine (not supported)");
  std::map<std::string, torch::Tensor> storages;
  auto allocate = [&](const std::string& key, torch::ScalarType dtype, int64_t numel) {
    return storages[key] = torch::empty({numel}, dtype);  // filled after the key list
  };
  Obj root = next("state dict pickle", allocate);
  Obj keys = next("storage key list", no_storages);
  if (keys->kind != PyObject::kList) throw Error(path + ": legacy checkpoint: storage key list is not a list");
  for (const Obj& k : keys->items) {
    auto it = storages.find(k->s);
    if (it == storages.end()) throw Error(path + ": legacy checkpoint: storage " + k->s + " is listed but never used");
    if (end - p < 8) throw Error(path + ": truncated: storage " + k->s + " is missing");
    int64_t numel = 0;
    std::memcpy(&numel, p, 8);  // little-endian, checked above
    p += 8;
    torch::Tensor& t = it->second;
    if (numel != t.numel())
      throw Error(path + ": legacy checkpoint: storage " + k->s + " holds " + std::to_string(numel) + " elements, its tensors expect " +
                  std::to_string(t.numel()));
    const size_t n = t.nbytes();
    if (static_cast<size_t>(end - p) < n) throw Error(path + ": truncated: storage " + k->s + " ends past the end of the file");
    std::memcpy(t.data_ptr(), p, n);
    p += n;
    storages.erase(it);
  }
  if (!storages.empty()) throw Error(path + ": legacy checkpoint: storage " + storages.begin()->first + " has no data");
  if (p != end) throw Error(path + ": legacy checkpoint: " + std::to_string(end - p) + " bytes after the last storage");
  return state_dict_from(root, path, "legacy checkpoint");
}

}  // namespace

StateDict read_state_dict(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw Error(path + ": is a directory, expected a checkpoint file");
  if (!std::filesystem::exists(path)) throw Error(path + ": no such checkpoint file");
  const std::string bytes = read_file(path);
  if (is_legacy(bytes)) return parse_legacy(bytes, path);
  check_zip_crcs(bytes, path);
  try {
    return parse_checkpoint(bytes, path);
  } catch (const c10::Error& e) {  // the zip reader's own refusals, as one line
    const std::string why = e.what_without_backtrace();
    throw Error(path + ": damaged: " + why.substr(0, why.find('\n')));
  }
}

void write_state_dict(const std::string& path, const StateDict& sd) {
  std::string bytes;
  {
    caffe2::serialize::PyTorchStreamWriter zip([&](const void* data, size_t n) {
      bytes.append(static_cast<const char*>(data), n);
      return n;
    });
    PickleWriter w;
    w.op(0x80);
    w.op(2);
    w.global("collections", "OrderedDict");
    w.op(')');
    w.op('R');
    std::vector<torch::Tensor> storages;
    for (const auto& [name, tensor] : sd.tensors) {
      torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
      const std::string key = std::to_string(storages.size());
      storages.push_back(t);
      w.str(name);
      w.global("torch._utils", "_rebuild_tensor_v2");
      w.op('(');
      w.op('(');  // persistent id: ('storage', class, key, location, numel)
      w.str("storage");
      w.global("torch", storage_class(t.scalar_type()));
      w.str(key);
      w.str("cpu");
      w.integer(t.numel());
      w.op('t');
      w.op('Q');
      w.integer(0);
      w.int_tuple(t.sizes().vec());
      w.int_tuple(t.strides().vec());
      w.op(0x89);  // requires_grad False
      w.global("collections", "OrderedDict");
      w.op(')');
      w.op('R');
      w.op('t');
      w.op('R');
      w.op('s');
    }
    w.op('.');
    zip.writeRecord("data.pkl", w.out.data(), w.out.size());
    for (size_t k = 0; k < storages.size(); ++k)
      zip.writeRecord("data/" + std::to_string(k), storages[k].data_ptr(), storages[k].nbytes());
    if (!sd.metadata_json.empty()) zip.writeRecord("seqrec.json", sd.metadata_json.data(), sd.metadata_json.size());
    zip.writeEndOfFile();
  }
  write_file_atomically(path, bytes);
}

StateDict state_dict_of(Model& model) {
  StateDict sd;
  for (const auto& p : model.named_parameters()) sd.tensors.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) sd.tensors.emplace_back(b.key(), b.value());
  return sd;
}

InitReport init_from(Model& model, const StateDict& sd) {
  torch::NoGradGuard guard;
  std::map<std::string, torch::Tensor> own;
  for (const auto& p : model.named_parameters()) own[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) own[b.key()] = b.value();
  InitReport r;
  for (const auto& [name, t] : sd.tensors) {
    auto it = own.find(name);
    if (it == own.end()) {
      r.unused.push_back(name);
      continue;
    }
    if (it->second.sizes() != t.sizes())
      throw Error("checkpoint tensor '" + name + "' has shape " + c10::str(t.sizes()) + ", the model's has " + c10::str(it->second.sizes()));
    r.loaded.push_back(name);
  }
  for (const auto& [name, t] : sd.tensors)
    if (own.count(name)) own[name].copy_(t);  // only once every shape is known to agree
  for (const auto& [name, t] : own)
    if (std::find(r.loaded.begin(), r.loaded.end(), name) == r.loaded.end()) r.kept.push_back(name);
  return r;
}

std::vector<std::string> load_state_dict(Model& model, const StateDict& sd) {
  torch::NoGradGuard guard;
  std::map<std::string, torch::Tensor> own;
  for (const auto& p : model.named_parameters()) own[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) own[b.key()] = b.value();
  std::vector<std::string> unused;
  std::map<std::string, bool> seen;
  for (const auto& [name, t] : sd.tensors) {
    auto it = own.find(name);
    if (it == own.end()) {
      unused.push_back(name);
      continue;
    }
    if (it->second.sizes() != t.sizes())
      throw Error("checkpoint tensor '" + name + "' has shape " + c10::str(t.sizes()) + ", the model expects " +
                  c10::str(it->second.sizes()));
    it->second.copy_(t);
    seen[name] = true;
  }
  for (const auto& [name, t] : own)
    if (!seen.count(name)) throw Error("checkpoint lacks the model's tensor '" + name + "'");
  return unused;
}

}  // namespace seqrec
