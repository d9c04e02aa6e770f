#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"

namespace vg::io {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the reference implementation's limit

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error("safetensors", path + ": " + message);
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t json_uint(const json& v, const std::string& path, const std::string& what) {
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)) {
    fail(path, what + " must be a non-negative integer, found " + v.dump());
  }
  return v.get<uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const json& entry, uint64_t data_size, const std::string& path) {
  const std::string where = "tensor '" + name + "'";
  if (!entry.is_object()) fail(path, where + " is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) fail(path, where + " has no '" + key + "'");
  }
  TensorInfo info;
  info.name = name;
  const json& dtype = entry["dtype"];
  if (!dtype.is_string()) fail(path, where + " has a non-string dtype " + dtype.dump());
  std::optional<DType> parsed = dtype_from_safetensors(dtype.get<std::string>());
  if (!parsed) {
    fail(path, where + " has dtype '" + dtype.get<std::string>() +
                   "', which videogemma does not read (F64, F32, BF16, F16, I64, I32, I16, I8, U8, BOOL)");
  }
  info.dtype = *parsed;

  const json& shape = entry["shape"];
  if (!shape.is_array()) fail(path, where + " has a shape that is not a list: " + shape.dump());
  if (shape.size() > static_cast<size_t>(kMaxRank)) {
    fail(path, where + " has rank " + std::to_string(shape.size()) + "; at most " + std::to_string(kMaxRank) +
                   " is supported");
  }
  uint64_t count = 1;
  for (const json& d : shape) {
    uint64_t extent = json_uint(d, path, where + " shape extent");
    if (extent > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(count, extent, &count)) {
      fail(path, where + " has an impossibly large shape " + shape.dump());
    }
    info.shape.push_back(static_cast<int64_t>(extent));
  }

  const json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) fail(path, where + " needs data_offsets [begin, end]");
  info.begin = json_uint(offsets[0], path, where + " data offset");
  info.end = json_uint(offsets[1], path, where + " data offset");
  if (info.begin > info.end) {
    fail(path, where + " has data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                   "] that end before they begin");
  }
  if (info.end > data_size) {
    fail(path, where + " has data [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                   ") past the end of the data section (" + std::to_string(data_size) +
                   " bytes): the file is truncated or the header is wrong");
  }
  const uint64_t elem = dtype_size(info.dtype);
  uint64_t expected = 0;
  if (__builtin_mul_overflow(count, elem, &expected) || expected != info.end - info.begin) {
    fail(path, where + " has " + std::to_string(info.end - info.begin) + " bytes of data, but shape " +
                   info.shape.to_string() + " of " + dtype_name(info.dtype) + " needs " + std::to_string(count * elem));
  }
  return info;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.file_ = MappedFile::open(path);
  const uint64_t size = f.file_->size();
  if (size < 8) fail(path, "file is " + std::to_string(size) + " bytes, too short to hold a header");
  const uint64_t header_len = read_u64_le(f.file_->data());
  if (header_len > size - 8) {
    fail(path, "header length " + std::to_string(header_len) + " exceeds the file size " + std::to_string(size) +
                   " (truncated file, or not a safetensors file)");
  }
  if (header_len > kMaxHeaderBytes) fail(path, "header length " + std::to_string(header_len) + " is too large");
  f.data_start_ = 8 + header_len;
  const uint64_t data_size = size - f.data_start_;

  json header;
  try {
    header = json::parse(f.file_->data() + 8, f.file_->data() + 8 + header_len);
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) fail(path, "__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) fail(path, "__metadata__ value for '" + m.key() + "' is not a string");
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    f.tensors_.push_back(parse_entry(it.key(), it.value(), data_size, path));
  }

  std::sort(f.tensors_.begin(), f.tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // Sorted by start, a tensor overlaps an earlier one iff it starts before the furthest end so
  // far. Empty tensors occupy no bytes and overlap nothing.
  const TensorInfo* furthest = nullptr;
  for (const TensorInfo& cur : f.tensors_) {
    if (cur.end == cur.begin) continue;
    if (furthest != nullptr && cur.begin < furthest->end) {
      fail(path, "tensors '" + furthest->name + "' [" + std::to_string(furthest->begin) + ", " +
                     std::to_string(furthest->end) + ") and '" + cur.name + "' [" + std::to_string(cur.begin) + ", " +
                     std::to_string(cur.end) + ") overlap");
    }
    if (furthest == nullptr || cur.end > furthest->end) furthest = &cur;
  }
  for (size_t i = 0; i < f.tensors_.size(); ++i) f.index_[f.tensors_[i].name] = i;
  return f;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Tensor SafetensorsFile::get(const std::string& name) const {
  const TensorInfo* info = find(name);
  VG_CHECK(info != nullptr, "safetensors", path(), ": no tensor named '", name, "'");
  uint8_t* bytes = file_->mutable_data() + data_start_ + info->begin;
  const size_t nbytes = info->end - info->begin;
  const size_t align = dtype_size(info->dtype);
  Tensor t;
  if (nbytes == 0 || reinterpret_cast<uintptr_t>(bytes) % align != 0) {
    // Misaligned data (or none): copy into our own aligned memory.
    t = Tensor::from_bytes(bytes, info->shape, info->dtype);
  } else {
    auto storage = Storage::wrap(bytes, nbytes, Device::cpu(), file_);
    t = Tensor::from_storage(std::move(storage), info->shape, contiguous_strides(info->shape), 0, info->dtype);
  }
  t.set_name(name);
  return t;
}

std::map<std::string, Tensor> load_safetensors(const std::string& path) {
  SafetensorsFile file = SafetensorsFile::open(path);
  std::map<std::string, Tensor> out;
  for (const TensorInfo& info : file.tensors()) out[info.name] = file.get(info.name);
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  autograd::NoGradGuard no_grad;
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    VG_CHECK(!name.empty() && name != "__metadata__", "safetensors", "invalid tensor name '", name, "'");
    VG_CHECK(tensor.defined(), "safetensors", "tensor '", name, "' is undefined");
    const char* dtype = dtype_info(tensor.dtype()).safetensors_name;
    VG_CHECK(dtype != nullptr, "safetensors", "tensor '", name, "' has dtype ", tensor.dtype(),
             ", which safetensors cannot store");
    Tensor t = tensor.to(Device::cpu()).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(t.nbytes());
    header[name] = {{"dtype", dtype}, {"shape", t.shape().to_vector()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    host.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned, as the reference writer does
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  AtomicFileWriter writer(path);
  writer.write(len, sizeof len);
  writer.write(text.data(), text.size());
  for (const Tensor& t : host) writer.write(t.data_ptr(), static_cast<size_t>(t.nbytes()));
  writer.commit();
}

}  // namespace vg::io
