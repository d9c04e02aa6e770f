// A WeightSource over a PyTorch checkpoint (.pth / .pt written by torch.save), so any model
// loader reads .pth files as it reads safetensors: the official VideoMamba weights, say, whose
// tensors sit under "model" (or "module") with names prefixed "vision_encoder.".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/pth.h"
#include "models/common/weight_source.h"

namespace vg::models {

class PthSource final : public WeightSource {
 public:
  // The file's model weights (io::PthFile::model_state_dict(): a top-level "state_dict", "model"
  // or "module" dict is unwrapped). With a `strip_prefix` such as "vision_encoder.", only the
  // tensors whose names start with it are offered, under their names without it.
  explicit PthSource(const std::string& path, const std::string& strip_prefix = "", const io::PthOptions& options = {});
  PthSource(const io::PthFile& file, const std::string& strip_prefix = "");

  bool contains(const std::string& name) const override { return tensors_.count(name) != 0; }
  Shape shape(const std::string& name) const override { return find(name).shape(); }
  Tensor get(const std::string& name) const override { return find(name); }
  std::vector<std::string> names() const override;  // sorted
  std::string describe() const override { return description_; }

  size_t size() const { return tensors_.size(); }

 private:
  const Tensor& find(const std::string& name) const;

  std::map<std::string, Tensor> tensors_;
  std::string description_;
};

}  // namespace vg::models
