#include "models/common/weight_source.h"

#include "autograd/grad_mode.h"

namespace vg::models {

std::vector<std::string> MapSource::names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

Shape WeightLoader::shape_of(const std::string& name) const {
  VG_CHECK(source_.contains(name), component_, source_.describe(), " has no tensor '", name,
           "' (is this the right checkpoint for the model?)");
  return source_.shape(name);
}

Tensor WeightLoader::load(const std::string& name, const Shape& expected, bool host_table) {
  const Shape actual = shape_of(name);
  VG_CHECK(actual == expected, component_, "tensor '", name, "' in ", source_.describe(), " has shape ", actual,
           ", expected ", expected);
  used_[name] = true;
  autograd::NoGradGuard no_grad;
  Tensor t = source_.get(name);
  VG_CHECK(is_floating(t.dtype()), component_, "tensor '", name, "' in ", source_.describe(), " has dtype ", t.dtype(),
           "; a floating dtype is needed");
  if (!host_table) t = t.to(dtype_).to(device_);
  t.set_name(name);
  return t;
}

std::vector<std::string> WeightLoader::unused_names() const {
  std::vector<std::string> out;
  for (const std::string& name : source_.names()) {
    if (!used_.count(name)) out.push_back(name);
  }
  return out;
}

}  // namespace vg::models
