// A restricted unpickler for what torch.save writes (pickle protocols 2 to 5): it reads the
// pickle into a small value tree (dict, list, tuple, str, bytes, int, float, bool, None, and
// tensor references) and NEVER executes anything. Python would import and call every GLOBAL a
// pickle names; here a GLOBAL is only looked up in an allow-list of what a tensor checkpoint needs
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and friends, torch storage classes and
// dtypes, torch.device, ...), whose effect is reproduced in C++. Any other name is refused with an
// error that names it. Limits on the number of objects and on nesting keep hostile inputs cheap.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace vg::io::pickle {

enum class Kind : uint8_t {
  None,
  Bool,
  Int,
  BigInt,  // an integer wider than 64 bits: `text` holds its two's-complement bytes, little-endian
  Float,
  String,  // UTF-8 text
  Bytes,
  List,     // also what sets and frozensets become
  Tuple,    // also torch.Size
  Dict,     // also OrderedDict; insertion order is kept
  Global,   // an allow-listed class or constant, named in `text` ("torch.float16", "torch.FloatStorage")
  Storage,  // a storage torch.save wrote beside the pickle (a persistent id)
  Tensor,
  Object,  // an unknown object, kept opaque when UnpickleOptions::skip_unknown_objects is set
};

const char* kind_name(Kind kind);

// A storage as torch.save refers to it: the persistent id ('storage', type, key, location, numel).
struct StorageRef {
  std::string key;             // "0", "1", ...: the archive entry data/<key> (an id in legacy files)
  std::string type;            // "torch.FloatStorage", "torch.storage.UntypedStorage", ...
  std::string torch_dtype;     // "float32", ...; empty for an untyped storage (bytes)
  std::optional<DType> dtype;  // when videogemma reads that dtype; U8 for untyped storages
  std::string location;        // "cpu", "cuda:0": ignored, everything loads to the CPU
  int64_t numel = 0;           // elements of the storage's dtype (bytes when untyped)
};

// What torch._utils._rebuild_tensor_v2 / _v3 were asked to build: a view of a storage.
struct TensorRef {
  StorageRef storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> size, stride;
  std::string torch_dtype;     // "float32", "uint16", ...
  std::optional<DType> dtype;  // nullopt: a dtype videogemma does not read (named by torch_dtype)
  bool requires_grad = false;
  Tensor tensor;  // filled in by the caller that holds the storages (io/pth.cpp)
};

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                                // String, Bytes, BigInt, Global, Object
  std::vector<Value*> items;                       // List, Tuple
  std::vector<std::pair<Value*, Value*>> entries;  // Dict
  std::unique_ptr<StorageRef> storage;             // Storage
  std::unique_ptr<TensorRef> tensor;               // Tensor

  bool is(Kind k) const { return kind == k; }
  // A Dict's value for a string key, or nullptr.
  const Value* get(std::string_view key) const;
  // A short description for messages: "str 'abc'", "int 3", "dict of 2", ...
  std::string describe() const;

  // Dict bookkeeping: a later SETITEM with an equal str/int key replaces the value, as in Python.
  std::unique_ptr<std::unordered_map<std::string, size_t>> key_index;
};

struct UnpickleOptions {
  std::string component = "pickle";  // the error component: "[pth] ..."
  std::string where;                 // names the input in messages, e.g. "model.pth: data.pkl"
  // Keep objects of classes outside the allow-list as opaque Object values instead of refusing the
  // file (nothing is ever called either way). Names that would run code on load in Python (os.*,
  // subprocess, eval, exec, ...) are refused even then.
  bool skip_unknown_objects = false;
  size_t max_values = size_t{1} << 23;  // objects created, memo entries included
  size_t max_marks = size_t{1} << 16;   // open MARKs at once
};

// The result: owns every value (values may refer to each other, even in cycles).
class Document {
 public:
  const Value& root() const { return *root_; }
  size_t end() const { return end_; }  // bytes read, the STOP opcode included
  // Every tensor reference built, in pickle order; the caller materializes their `tensor`.
  const std::vector<Value*>& tensors() const { return tensors_; }

 private:
  friend class Unpickler;
  std::vector<std::unique_ptr<Value>> arena_;
  std::vector<Value*> tensors_;
  Value* root_ = nullptr;
  size_t end_ = 0;
};

// Reads one pickle from the start of `bytes` (which may continue after its STOP).
// Throws vg::Error(options.component, "<where>: ...") for anything it does not accept.
Document unpickle(std::span<const uint8_t> bytes, const UnpickleOptions& options = {});

// torch's dtype names ("float32", "half", ...) to ours; nullopt for those we do not read.
std::optional<DType> dtype_from_torch(std::string_view torch_name);

}  // namespace vg::io::pickle
