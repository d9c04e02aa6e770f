// A checkpoint as Hugging Face stores it: one .safetensors file, or a folder with
// model.safetensors, or shards listed by a *.safetensors.index.json ("weight_map").
// Tensors are looked up by name across all shards; loading checks shapes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace vg::io {

class Checkpoint {
 public:
  // A .safetensors file or a folder; throws vg::Error("[checkpoint] ...") naming what is wrong.
  static Checkpoint open(const std::string& path);

  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;
  Tensor get(const std::string& name) const;
  // get() that also checks the shape: "[checkpoint] tensor 'x' has shape [..], expected [..]".
  Tensor get(const std::string& name, const Shape& expected) const;
  size_t num_files() const { return files_.size(); }

 private:
  std::string path_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> where_;  // tensor name -> file
};

}  // namespace vg::io
