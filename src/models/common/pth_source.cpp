#include "models/common/pth_source.h"

namespace vg::models {

PthSource::PthSource(const std::string& path, const std::string& strip_prefix, const io::PthOptions& options)
    : PthSource(io::PthFile::open(path, options), strip_prefix) {}

PthSource::PthSource(const io::PthFile& file, const std::string& strip_prefix) {
  description_ = file.path();
  std::map<std::string, Tensor> all = file.model_state_dict();
  if (strip_prefix.empty()) {
    tensors_ = std::move(all);
    return;
  }
  description_ += " (tensors under '" + strip_prefix + "')";
  for (auto& [name, tensor] : all) {
    if (name.size() > strip_prefix.size() && name.starts_with(strip_prefix)) {
      Tensor t = tensor;
      tensors_.emplace(name.substr(strip_prefix.size()), std::move(t));
    }
  }
  VG_CHECK(!tensors_.empty(), "pth", file.path(), ": no tensor name starts with '", strip_prefix, "' (", all.size(),
           " tensors, e.g. '", all.empty() ? std::string() : all.begin()->first, "')");
}

std::vector<std::string> PthSource::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

const Tensor& PthSource::find(const std::string& name) const {
  auto it = tensors_.find(name);
  VG_CHECK(it != tensors_.end(), "pth", description_, " has no tensor '", name, "'");
  return it->second;
}

}  // namespace vg::models
