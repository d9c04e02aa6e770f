#include "io/pth.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <unordered_map>

#include "io/zip_reader.h"

namespace vg::io {
namespace {

using pickle::Kind;
using pickle::Value;

constexpr int kMaxNesting = 64;                // dicts within dicts
constexpr size_t kMaxFlattenVisits = 1 << 22;  // values visited while naming tensors (shared subtrees)
constexpr uint64_t kStorageAlignment = 8;      // wider than any element videogemma reads

// The legacy format starts with a pickled magic number: protocol 2, LONG1 of 10 bytes.
constexpr uint8_t kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr uint8_t kLegacyPrefix[] = {0x80, 0x02, 0x8a, 0x0a};

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error("pth", path + ": " + message);
}

bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

// Where a storage's bytes are: in the mapped file (or nowhere when the file lacks them).
struct StorageBytes {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  std::string name;  // for messages: "data/3"
};

std::string dims_text(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(d[i]);
  }
  return s + "]";
}

// Builds every tensor of `doc` as a view of its storage (a copy when the storage is misaligned),
// after checking that the view stays inside the storage.
void materialize(const pickle::Document& doc, const std::string& path,
                 const std::function<StorageBytes(const pickle::StorageRef&)>& locate,
                 const std::shared_ptr<MappedFile>& owner) {
  std::unordered_map<std::string, std::shared_ptr<Storage>> storages;
  for (Value* v : doc.tensors()) {
    pickle::TensorRef& t = *v->tensor;
    if (!t.dtype || !t.storage.dtype) continue;  // named by flatten_tensors() if anyone asks for it
    const DType dtype = *t.dtype;
    if (t.size.size() > static_cast<size_t>(kMaxRank)) {
      fail(path, str("a tensor of shape ", dims_text(t.size), " has rank ", t.size.size(),
                     "; videogemma supports up to ", kMaxRank));
    }
    const StorageBytes bytes = locate(t.storage);
    int64_t storage_bytes = 0;
    if (mul_overflows(t.storage.numel, static_cast<int64_t>(dtype_size(*t.storage.dtype)), &storage_bytes) ||
        static_cast<uint64_t>(storage_bytes) > bytes.size) {
      fail(path,
           str("storage '", bytes.name, "' holds ", bytes.size, " bytes, but data.pkl says it holds ", t.storage.numel,
               " values of ", t.storage.torch_dtype.empty() ? "uint8" : t.storage.torch_dtype, " (", t.storage.numel,
               " x ", dtype_size(*t.storage.dtype), " bytes): the file is truncated or damaged"));
    }
    const Shape shape(t.size);
    int64_t numel = 1, extent = 1;  // extent: the product of the non-zero dims, which views must not overflow
    for (int64_t d : t.size) {
      if (mul_overflows(numel, d, &numel) || mul_overflows(extent, std::max<int64_t>(d, 1), &extent)) {
        fail(path, str("a tensor has the impossible shape ", dims_text(t.size)));
      }
    }
    if (numel == 0) {
      v->tensor->tensor = Tensor::empty(shape, dtype);
      continue;
    }
    // The last element the view reaches must lie inside the storage.
    const int64_t elem = static_cast<int64_t>(dtype_size(dtype));
    const int64_t capacity = storage_bytes / elem;
    int64_t last = t.offset;
    for (size_t i = 0; i < t.size.size(); ++i) {
      int64_t span = 0;
      if (mul_overflows(t.size[i] - 1, t.stride[i], &span) || __builtin_add_overflow(last, span, &last)) {
        fail(path, str("a tensor has the impossible strides ", dims_text(t.stride)));
      }
    }
    if (last >= capacity) {
      fail(path, str("a ", t.torch_dtype, " tensor of shape ", dims_text(t.size), ", strides ", dims_text(t.stride),
                     " and offset ", t.offset, " reaches element ", last, " of storage '", bytes.name,
                     "', which holds ", capacity, ": the file is damaged"));
    }
    std::shared_ptr<Storage>& storage = storages[t.storage.key];
    if (!storage) {
      if (reinterpret_cast<uintptr_t>(bytes.data) % kStorageAlignment == 0) {
        storage = Storage::wrap(bytes.data, static_cast<size_t>(storage_bytes), Device::cpu(), owner);
      } else {  // e.g. an archive re-zipped without torch's 64-byte alignment
        storage = Storage::allocate(static_cast<size_t>(storage_bytes), Device::cpu());
        std::memcpy(storage->data(), bytes.data, static_cast<size_t>(storage_bytes));
      }
    }
    VG_CHECK(static_cast<int64_t>(storage->bytes()) >= (last + 1) * elem, "pth", path, ": storage '", bytes.name,
             "' is used by tensors that need more bytes than it holds");
    v->tensor->tensor = Tensor::from_storage(storage, shape, Strides(t.stride), t.offset, dtype);
  }
}

std::string trimmed(std::span<const uint8_t> b) {
  std::string s(reinterpret_cast<const char*>(b.data()), b.size());
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

void flatten(const Value& v, const std::string& name, int depth, size_t& visits, const std::string& path,
             std::map<std::string, Tensor>& out) {
  if (++visits > kMaxFlattenVisits) fail(path, "the checkpoint's object graph is too large to name its tensors");
  switch (v.kind) {
    case Kind::Tensor: {
      const pickle::TensorRef& t = *v.tensor;
      if (!t.tensor.defined()) {
        fail(path, str("tensor '", name, "' has dtype ", t.torch_dtype.empty() ? "?" : t.torch_dtype,
                       ", which videogemma does not read (float32/64, bfloat16, float16, int8/16/32/64, uint8, bool)"));
      }
      Tensor named = Tensor::from_storage(t.tensor.storage(), t.tensor.shape(), t.tensor.strides(), t.tensor.offset(),
                                          t.tensor.dtype());
      named.set_name(name);
      if (!out.emplace(name, named).second) fail(path, str("two tensors are named '", name, "'"));
      return;
    }
    case Kind::Dict:
    case Kind::List:
    case Kind::Tuple: {
      if (depth >= kMaxNesting) fail(path, str("the checkpoint nests containers more than ", kMaxNesting, " deep"));
      auto child = [&](const std::string& key) { return name.empty() ? key : name + "." + key; };
      if (v.kind == Kind::Dict) {
        for (const auto& [key, value] : v.entries) {
          if (key->kind == Kind::String) flatten(*value, child(key->text), depth + 1, visits, path, out);
          if (key->kind == Kind::Int)
            flatten(*value, child(std::to_string(key->integer)), depth + 1, visits, path, out);
        }
      } else {
        for (size_t i = 0; i < v.items.size(); ++i) {
          flatten(*v.items[i], child(std::to_string(i)), depth + 1, visits, path, out);
        }
      }
      return;
    }
    default: return;  // numbers, strings, None, opaque objects: not weights
  }
}

bool ends_with_ci(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  }
  return true;
}

}  // namespace

PthFile PthFile::open(const std::string& path, const PthOptions& options) {
  PthFile f;
  f.file_ = MappedFile::open(path);
  const uint8_t* d = f.file_->data();
  const size_t n = f.file_->size();
  if (looks_like_zip(d, n)) {
    f.open_zip(options);
  } else if (n >= sizeof kLegacyPrefix && std::memcmp(d, kLegacyPrefix, sizeof kLegacyPrefix) == 0) {
    f.open_legacy(options);
  } else {
    std::string hint;
    if (n >= 9 && d[8] == '{') hint = " (it looks like a safetensors file)";
    if (n >= 1 && d[0] == 0x80) hint = " (it is a pickle, but not one written by torch.save)";
    fail(path,
         "is not a PyTorch checkpoint: it is neither a zip archive (torch.save since torch 1.6) nor a legacy "
         "torch.save file" +
             hint);
  }
  return f;
}

void PthFile::open_zip(const PthOptions& options) {
  const std::string& p = path();
  ZipArchive archive = ZipArchive::open(file_, "pth");
  if (archive.entries().empty()) fail(p, "the zip archive is empty: not a torch.save checkpoint");
  // torch.save puts everything into one folder, named after the file ("archive" for a buffer).
  const std::string& first = archive.entries().front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos || slash == 0) {
    fail(p, str("the archive's entries are not inside a folder ('", first, "'): not a torch.save checkpoint"));
  }
  archive_name_ = first.substr(0, slash);
  const std::string prefix = archive_name_ + "/";
  for (const ZipEntry& e : archive.entries()) {
    if (!e.name.starts_with(prefix)) {
      fail(p, str("entry '", e.name, "' lies outside the archive folder '", prefix, "': not a torch.save checkpoint"));
    }
    if (e.name == prefix + "constants.pkl" || e.name.starts_with(prefix + "code/")) {
      fail(p,
           "is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; in Python, load it and save "
           "its state_dict() with torch.save");
    }
  }
  auto small_entry = [&](const std::string& name) -> const ZipEntry* {
    const ZipEntry* e = archive.find(prefix + name);
    if (e != nullptr && e->crc32 != 0) archive.verify_crc(*e);  // torch may be told to write no CRC (0)
    return e;
  };
  const ZipEntry* pkl = small_entry("data.pkl");
  if (pkl == nullptr) fail(p, str("the archive has no '", prefix, "data.pkl': not a torch.save checkpoint"));

  if (const ZipEntry* order = small_entry("byteorder")) {  // absent in files of torch < 1.10: little-endian
    const std::string value = trimmed(archive.bytes(*order));
    if (value == "big") {
      fail(p,
           "was saved on a big-endian machine; videogemma reads little-endian checkpoints only (load it with "
           "torch on a little-endian machine and save it again)");
    }
    if (value != "little") fail(p, str("unknown byteorder '", value.substr(0, 16), "'"));
  }
  const ZipEntry* version = small_entry("version");
  if (version == nullptr) version = small_entry(".data/version");
  if (version == nullptr) fail(p, str("the archive has no '", prefix, "version' record: not a torch.save checkpoint"));
  const std::string text = trimmed(archive.bytes(*version));
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version_);
  if (ec != std::errc() || end != text.data() + text.size() || version_ < 1) {
    fail(p, str("the archive's version record '", text.substr(0, 16), "' is not a positive number"));
  }

  pickle::UnpickleOptions po;
  po.component = "pth";
  po.where = p;
  po.skip_unknown_objects = options.skip_unknown_objects;
  doc_ = std::make_shared<pickle::Document>(pickle::unpickle(archive.bytes(*pkl), po));

  materialize(
      *doc_, p,
      [&](const pickle::StorageRef& ref) {
        const std::string name = "data/" + ref.key;
        const ZipEntry* e = archive.find(prefix + name);
        if (e == nullptr) {
          fail(p, str("data.pkl refers to the storage '", name,
                      "', which the archive does not hold (truncated or "
                      "damaged file)"));
        }
        if (options.verify_checksums) archive.verify_crc(*e);
        return StorageBytes{archive.mutable_data(*e), e->size, name};
      },
      file_);
}

void PthFile::open_legacy(const PthOptions& options) {
  const std::string& p = path();
  legacy_ = true;
  const std::span<const uint8_t> all(file_->data(), file_->size());
  size_t pos = 0;
  pickle::UnpickleOptions po;
  po.component = "pth";
  po.where = p;
  po.skip_unknown_objects = options.skip_unknown_objects;
  auto next = [&]() {
    pickle::Document d = pickle::unpickle(all.subspan(pos), po);
    pos += d.end();
    return d;
  };
  const pickle::Document magic = next();
  if (!magic.root().is(Kind::BigInt) ||
      magic.root().text != std::string(std::begin(kLegacyMagic), std::end(kLegacyMagic))) {
    fail(p, "is not a PyTorch checkpoint (a pickle, but without torch.save's magic number)");
  }
  const pickle::Document protocol = next();
  if (!protocol.root().is(Kind::Int) || protocol.root().integer != 1001) {
    fail(p, str("legacy torch.save protocol ", protocol.root().describe(), " is not supported (expected 1001)"));
  }
  const pickle::Document sys_info = next();
  if (const Value* le = sys_info.root().get("little_endian"); le != nullptr && le->is(Kind::Bool) && !le->boolean) {
    fail(p, "was saved on a big-endian machine; videogemma reads little-endian checkpoints only");
  }
  doc_ = std::make_shared<pickle::Document>(next());
  const pickle::Document keys = next();
  if (!keys.root().is(Kind::List)) fail(p, "the legacy file's list of storages is missing");

  // The storages follow, in the order of that list: an int64 element count, then the bytes.
  std::unordered_map<std::string, const pickle::StorageRef*> refs;
  for (const Value* t : doc_->tensors()) refs.emplace(t->tensor->storage.key, &t->tensor->storage);
  std::unordered_map<std::string, StorageBytes> located;
  for (const Value* key : keys.root().items) {
    if (!key->is(Kind::String)) fail(p, str("the legacy file lists the storage key ", key->describe()));
    auto it = refs.find(key->text);
    if (it == refs.end()) fail(p, str("the legacy file holds storage '", key->text, "', which no tensor uses"));
    const pickle::StorageRef& ref = *it->second;
    if (!ref.dtype)
      fail(p, str("storage '", key->text, "' has dtype ", ref.torch_dtype, ", which videogemma does not read"));
    if (file_->size() - pos < 8) fail(p, str("the file ends before storage '", key->text, "' (truncated)"));
    int64_t count = 0;
    std::memcpy(&count, file_->data() + pos, 8);
    pos += 8;
    int64_t nbytes = 0;
    if (count != ref.numel || mul_overflows(count, static_cast<int64_t>(dtype_size(*ref.dtype)), &nbytes) ||
        static_cast<uint64_t>(nbytes) > file_->size() - pos) {
      fail(p, str("storage '", key->text, "' claims ", count, " values (the pickle says ", ref.numel,
                  ") and the file has ", file_->size() - pos, " bytes left: the file is truncated or damaged"));
    }
    located[key->text] = StorageBytes{file_->mutable_data() + pos, static_cast<uint64_t>(nbytes), key->text};
    pos += static_cast<size_t>(nbytes);
  }
  materialize(
      *doc_, p,
      [&](const pickle::StorageRef& ref) {
        auto it = located.find(ref.key);
        if (it == located.end()) fail(p, str("the legacy file does not hold storage '", ref.key, "' (truncated?)"));
        return it->second;
      },
      file_);
}

std::map<std::string, Tensor> PthFile::state_dict() const { return flatten_tensors(root(), path()); }

std::map<std::string, Tensor> PthFile::model_state_dict() const {
  return flatten_tensors(unwrap_state_dict(root()), path());
}

const pickle::Value& unwrap_state_dict(const pickle::Value& root) {
  const Value* v = &root;
  for (int level = 0; level < 4; ++level) {
    const Value* inner = nullptr;
    for (const char* key : {"state_dict", "model", "module"}) {
      const Value* candidate = v->get(key);
      if (candidate != nullptr && candidate->is(Kind::Dict)) {
        inner = candidate;
        break;
      }
    }
    if (inner == nullptr) break;
    v = inner;
  }
  return *v;
}

std::map<std::string, Tensor> flatten_tensors(const pickle::Value& value, const std::string& path) {
  std::map<std::string, Tensor> out;
  size_t visits = 0;
  flatten(value, "", 0, visits, path, out);
  return out;
}

std::map<std::string, Tensor> load_pth(const std::string& path, const PthOptions& options) {
  return PthFile::open(path, options).model_state_dict();
}

bool is_pth_path(const std::string& path) {
  if (ends_with_ci(path, ".pth") || ends_with_ci(path, ".pt")) return true;
  if (ends_with_ci(path, ".safetensors") || !file_exists(path) || is_directory(path)) return false;
  std::ifstream in(path, std::ios::binary);
  uint8_t head[4] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  if (in.gcount() != sizeof head) return false;
  return looks_like_zip(head, sizeof head) || std::memcmp(head, kLegacyPrefix, sizeof kLegacyPrefix) == 0;
}

}  // namespace vg::io
