#include "io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace vg::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> files_ending_with(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(entry.path().string());
    }
  }
  VG_CHECK(!ec, "checkpoint", "cannot list ", dir, ": ", ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Shard files named by an index, in order of first appearance, after checking the index.
std::vector<std::string> shards_from_index(const std::string& index_path, const std::string& dir,
                                           std::map<std::string, std::string>* weight_map) {
  json index;
  try {
    index = json::parse(read_text_file(index_path));
  } catch (const json::exception& e) {
    throw Error("checkpoint", str(index_path, " is not valid JSON: ", e.what()));
  }
  VG_CHECK(index.is_object() && index.contains("weight_map") && index["weight_map"].is_object(), "checkpoint",
           index_path, " has no \"weight_map\" object");
  std::vector<std::string> shards;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    VG_CHECK(it.value().is_string(), "checkpoint", index_path, ": the shard of '", it.key(), "' is not a file name");
    const std::string file = it.value().get<std::string>();
    VG_CHECK(file.find('/') == std::string::npos && file != ".." && !file.empty(), "checkpoint", index_path,
             ": shard name '", file, "' must be a plain file name in the same folder");
    (*weight_map)[it.key()] = file;
    if (std::find(shards.begin(), shards.end(), file) == shards.end()) shards.push_back(file);
  }
  for (std::string& s : shards) {
    const std::string full = (fs::path(dir) / s).string();
    VG_CHECK(file_exists(full), "checkpoint", index_path, " lists shard ", s, ", which is missing from ", dir);
    s = full;
  }
  return shards;
}

}  // namespace

Checkpoint Checkpoint::open(const std::string& path) {
  Checkpoint ckpt;
  ckpt.path_ = path;
  VG_CHECK(file_exists(path), "checkpoint", path, " does not exist");
  std::vector<std::string> files;
  std::map<std::string, std::string> weight_map;
  std::string index_path;
  if (!is_directory(path)) {
    files.push_back(path);
  } else {
    const std::string standard = (fs::path(path) / "model.safetensors.index.json").string();
    std::vector<std::string> indexes = files_ending_with(path, ".safetensors.index.json");
    if (file_exists(standard)) {
      index_path = standard;
    } else if (indexes.size() == 1) {
      index_path = indexes[0];
    } else {
      VG_CHECK(indexes.empty(), "checkpoint", path, " has several index files and no model.safetensors.index.json");
    }
    if (!index_path.empty()) {
      files = shards_from_index(index_path, path, &weight_map);
    } else if (file_exists((fs::path(path) / "model.safetensors").string())) {
      files.push_back((fs::path(path) / "model.safetensors").string());
    } else {
      files = files_ending_with(path, ".safetensors");
    }
  }
  VG_CHECK(!files.empty(), "checkpoint", path, " contains no .safetensors files");

  for (const std::string& file : files) {
    ckpt.files_.push_back(SafetensorsFile::open(file));
    const size_t k = ckpt.files_.size() - 1;
    for (const TensorInfo& info : ckpt.files_[k].tensors()) {
      auto [it, inserted] = ckpt.where_.emplace(info.name, k);
      VG_CHECK(inserted, "checkpoint", "tensor '", info.name, "' appears in both ", ckpt.files_[it->second].path(),
               " and ", file);
    }
  }
  for (const auto& [name, shard] : weight_map) {
    auto it = ckpt.where_.find(name);
    VG_CHECK(it != ckpt.where_.end(), "checkpoint", index_path, " says '", name, "' is in ", shard,
             ", but no shard contains it");
    VG_CHECK(fs::path(ckpt.files_[it->second].path()).filename() == shard, "checkpoint", index_path, " says '", name,
             "' is in ", shard, ", but it is in ", ckpt.files_[it->second].path());
  }
  return ckpt;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, file] : where_) out.push_back(name);
  return out;
}

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = where_.find(name);
  VG_CHECK(it != where_.end(), "checkpoint", path_, " has no tensor named '", name, "'");
  return *files_[it->second].find(name);
}

Tensor Checkpoint::get(const std::string& name) const {
  auto it = where_.find(name);
  VG_CHECK(it != where_.end(), "checkpoint", path_, " has no tensor named '", name, "'");
  return files_[it->second].get(name);
}

Tensor Checkpoint::get(const std::string& name, const Shape& expected) const {
  const TensorInfo& i = info(name);
  VG_CHECK(i.shape == expected, "checkpoint", "tensor '", name, "' in ", path_, " has shape ", i.shape, ", expected ",
           expected);
  return get(name);
}

}  // namespace vg::io
