#include "models/common/checkpoint_writer.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"

namespace vg::models {
namespace {

namespace fs = std::filesystem;
constexpr const char* kComponent = "checkpoint";
constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// transformers' shard names: model-00001-of-00003.safetensors.
std::string shard_name(size_t index, size_t count) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return buf;
}

bool is_shard_name(const std::string& name) {
  // "model-" 5 digits "-of-" 5 digits ".safetensors"
  const std::string suffix = ".safetensors";
  if (name.size() != 6 + 5 + 4 + 5 + suffix.size() || name.rfind("model-", 0) != 0) return false;
  if (name.compare(11, 4, "-of-") != 0 || name.compare(20, suffix.size(), suffix) != 0) return false;
  for (size_t i : {6, 7, 8, 9, 10, 15, 16, 17, 18, 19}) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return true;
}

void remove_if_present(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  VG_CHECK(!ec, kComponent, "cannot remove the stale file ", path.string(), ": ", ec.message());
}

}  // namespace

std::string torch_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::BF16: return "bfloat16";
    case DType::F16: return "float16";
    default: throw Error(kComponent, str("checkpoint weights must be floating, got ", dtype));
  }
}

std::vector<std::string> write_checkpoint_folder(const std::string& folder, const std::string& config_json,
                                                 const std::map<std::string, Tensor>& weights,
                                                 int64_t max_shard_bytes) {
  VG_CHECK(!weights.empty(), kComponent, "no tensors to write to ", folder);
  VG_CHECK(max_shard_bytes > 0, kComponent, "the shard size must be positive, got ", max_shard_bytes);
  std::error_code ec;
  fs::create_directories(folder, ec);
  VG_CHECK(!ec && io::is_directory(folder), kComponent, "cannot create the folder ", folder, ": ", ec.message());

  // Greedy shards in name order, the order the index and the files list the tensors in.
  std::vector<std::map<std::string, Tensor>> shards(1);
  int64_t total_bytes = 0, shard_bytes = 0;
  for (const auto& [name, tensor] : weights) {
    VG_CHECK(tensor.defined(), kComponent, "tensor '", name, "' is undefined");
    const int64_t bytes = tensor.nbytes();
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace(name, tensor);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  const bool sharded = shards.size() > 1;
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};

  std::vector<std::string> files;
  std::set<std::string> written;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string file = sharded ? shard_name(i, shards.size()) : kSingleFile;
    const std::string path = (fs::path(folder) / file).string();
    io::save_safetensors(path, shards[i], metadata);
    for (const auto& entry : shards[i]) weight_map[entry.first] = file;
    files.push_back(path);
    written.insert(file);
  }
  if (sharded) {
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total_bytes}};
    index["weight_map"] = weight_map;
    io::write_file_atomically((fs::path(folder) / kIndexFile).string(), index.dump(2) + "\n");
    remove_if_present(fs::path(folder) / kSingleFile);
  } else {
    // io::Checkpoint prefers an index to model.safetensors: a stale one must go.
    remove_if_present(fs::path(folder) / kIndexFile);
  }
  io::write_file_atomically((fs::path(folder) / "config.json").string(), config_json);

  // Shards of an earlier save that the new checkpoint does not use.
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_shard_name(name) && written.count(name) == 0) remove_if_present(entry.path());
  }
  VG_CHECK(!ec, kComponent, "cannot list ", folder, ": ", ec.message());
  return files;
}

}  // namespace vg::models
