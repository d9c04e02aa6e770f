#include "train/adamw.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "autograd/grad_mode.h"
#include "backend/cpu/adamw.h"
#include "io/safetensors.h"
#include "ops/dispatch.h"
#include "ops/ops.h"

namespace vg::train {
namespace {

constexpr const char* kComponent = "train";
constexpr const char* kStepSuffix = ".step";
constexpr const char* kExpAvgSuffix = ".exp_avg";
constexpr const char* kExpAvgSqSuffix = ".exp_avg_sq";

void check_group(const ParamGroup& g, size_t index) {
  const std::string which = str("parameter group ", index, g.label.empty() ? "" : " (" + g.label + ")");
  VG_CHECK(std::isfinite(g.lr) && g.lr >= 0, kComponent, which, ": invalid learning rate ", g.lr);
  VG_CHECK(std::isfinite(g.eps) && g.eps >= 0, kComponent, which, ": invalid eps ", g.eps);
  VG_CHECK(g.beta1 >= 0 && g.beta1 < 1, kComponent, which, ": invalid beta1 ", g.beta1, " (must be in [0, 1))");
  VG_CHECK(g.beta2 >= 0 && g.beta2 < 1, kComponent, which, ": invalid beta2 ", g.beta2, " (must be in [0, 1))");
  VG_CHECK(std::isfinite(g.weight_decay) && g.weight_decay >= 0, kComponent, which, ": invalid weight_decay ",
           g.weight_decay);
}

}  // namespace

AdamW::AdamW(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::set<std::string> names;
  std::set<const TensorImpl*> tensors;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    check_group(g, gi);
    for (const NamedParameter& p : g.params) {
      VG_CHECK(!p.name.empty(), kComponent, "parameter group ", gi, " has a parameter without a name");
      VG_CHECK(names.insert(p.name).second, kComponent, "parameter '", p.name,
               "' appears twice in the optimizer (names must be unique)");
      VG_CHECK(p.tensor.defined(), kComponent, "parameter '", p.name, "' is undefined");
      VG_CHECK(tensors.insert(p.tensor.impl()).second, kComponent, "parameter '", p.name,
               "' is a tensor already given under another name");
      VG_CHECK(p.tensor.dtype() == DType::F32 || p.tensor.dtype() == DType::F64, kComponent, "parameter '", p.name,
               "' is ", p.tensor.describe(), "; AdamW keeps f32 or f64 parameters (master copies)");
      VG_CHECK(p.tensor.is_contiguous(), kComponent, "parameter '", p.name, "' is not contiguous");
      VG_CHECK(p.tensor.is_leaf() && p.tensor.requires_grad(), kComponent, "parameter '", p.name,
               "' must be a leaf that requires grad");
    }
  }
}

void AdamW::set_lr(size_t group, double lr) {
  VG_CHECK(group < groups_.size(), kComponent, "set_lr: no parameter group ", group, " (", groups_.size(),
           " groups)");
  VG_CHECK(std::isfinite(lr) && lr >= 0, kComponent, "set_lr: invalid learning rate ", lr);
  groups_[group].lr = lr;
}

double AdamW::lr(size_t group) const {
  VG_CHECK(group < groups_.size(), kComponent, "lr: no parameter group ", group);
  return groups_[group].lr;
}

void AdamW::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& g : groups_) {
    for (const NamedParameter& p : g.params) {
      Tensor grad = p.tensor.grad();
      if (!grad.defined()) continue;
      VG_CHECK(grad.shape() == p.tensor.shape() && grad.dtype() == p.tensor.dtype(), kComponent, "gradient of '",
               p.name, "' is ", grad.describe(), " for a parameter ", p.tensor.describe());
      VG_CHECK(grad.device() == p.tensor.device(), kComponent, "gradient of '", p.name, "' is on ", grad.device(),
               ", its parameter on ", p.tensor.device());
      grad = grad.contiguous();
      State& s = state_[p.name];
      if (!s.exp_avg.defined()) {
        s.exp_avg = zeros(p.tensor.shape(), p.tensor.dtype(), p.tensor.device());
        s.exp_avg_sq = zeros(p.tensor.shape(), p.tensor.dtype(), p.tensor.device());
      }
      s.step += 1;
      const cpu::AdamWScalars scalars = cpu::adamw_scalars(g.lr, g.weight_decay, g.beta1, g.beta2, g.eps, s.step);
      VG_CUDA_OR_CPU(p.tensor.device(), adamw_update(p.tensor, grad, s.exp_avg, s.exp_avg_sq, scalars));
    }
  }
}

void AdamW::zero_grad() {
  for (ParamGroup& g : groups_) {
    for (NamedParameter& p : g.params) p.tensor.zero_grad();
  }
}

int64_t AdamW::steps_of(const std::string& name) const {
  VG_CHECK(find(name) != nullptr, kComponent, "steps_of: no parameter '", name, "'");
  auto it = state_.find(name);
  return it == state_.end() ? 0 : it->second.step;
}

const NamedParameter* AdamW::find(const std::string& name) const {
  for (const ParamGroup& g : groups_) {
    for (const NamedParameter& p : g.params) {
      if (p.name == name) return &p;
    }
  }
  return nullptr;
}

std::map<std::string, Tensor> AdamW::state_dict() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, s] : state_) {
    out[name + kStepSuffix] = Tensor::from_vector(std::vector<int64_t>{s.step}, Shape{});
    out[name + kExpAvgSuffix] = s.exp_avg;
    out[name + kExpAvgSqSuffix] = s.exp_avg_sq;
  }
  return out;
}

void AdamW::load_state_dict(const std::map<std::string, Tensor>& state) {
  NoGradGuard no_grad;
  struct Parts {
    Tensor step, exp_avg, exp_avg_sq;
  };
  std::map<std::string, Parts> parts;
  for (const auto& [key, tensor] : state) {
    std::string name;
    Tensor Parts::*slot = nullptr;
    // ".exp_avg_sq" also ends like nothing else, but test it before ".exp_avg" for clarity.
    if (key.ends_with(kExpAvgSqSuffix)) {
      name = key.substr(0, key.size() - std::string(kExpAvgSqSuffix).size());
      slot = &Parts::exp_avg_sq;
    } else if (key.ends_with(kExpAvgSuffix)) {
      name = key.substr(0, key.size() - std::string(kExpAvgSuffix).size());
      slot = &Parts::exp_avg;
    } else if (key.ends_with(kStepSuffix)) {
      name = key.substr(0, key.size() - std::string(kStepSuffix).size());
      slot = &Parts::step;
    } else {
      throw Error(kComponent, str("optimizer state entry '", key,
                                  "' is not '<parameter>.step', '.exp_avg' or '.exp_avg_sq'"));
    }
    VG_CHECK(find(name) != nullptr, kComponent, "optimizer state entry '", key, "' is for a parameter '", name,
             "' that this optimizer does not have");
    parts[name].*slot = tensor;
  }
  std::map<std::string, State> loaded;
  for (const auto& [name, p] : parts) {
    const Tensor& param = find(name)->tensor;
    VG_CHECK(p.step.defined() && p.exp_avg.defined() && p.exp_avg_sq.defined(), kComponent,
             "optimizer state of '", name, "' is incomplete (needs .step, .exp_avg and .exp_avg_sq)");
    VG_CHECK(p.step.numel() == 1 && (p.step.dtype() == DType::I64 || p.step.dtype() == DType::I32 ||
                                     is_floating(p.step.dtype())),
             kComponent, "optimizer state '", name, ".step' must be one number, got ", p.step.describe());
    const double step = p.step.item();
    VG_CHECK(step >= 0 && step == std::floor(step), kComponent, "optimizer state '", name,
             ".step' must be a whole number >= 0, got ", step);
    for (const Tensor* t : {&p.exp_avg, &p.exp_avg_sq}) {
      VG_CHECK(t->shape() == param.shape() && t->dtype() == param.dtype(), kComponent, "optimizer state of '", name,
               "' is ", t->describe(), " for a parameter ", param.describe());
    }
    State s;
    s.step = static_cast<int64_t>(step);
    // The state lives with its parameter (a CPU file's tensors go to the GPU of a GPU run).
    s.exp_avg = p.exp_avg.to(param.device()).contiguous().clone();
    s.exp_avg_sq = p.exp_avg_sq.to(param.device()).contiguous().clone();
    loaded[name] = std::move(s);
  }
  state_ = std::move(loaded);
}

void AdamW::save(const std::string& path) const {
  nlohmann::json groups = nlohmann::json::array();
  for (const ParamGroup& g : groups_) {
    nlohmann::json names = nlohmann::json::array();
    for (const NamedParameter& p : g.params) names.push_back(p.name);
    groups.push_back({{"label", g.label},
                      {"lr", g.lr},
                      {"weight_decay", g.weight_decay},
                      {"betas", {g.beta1, g.beta2}},
                      {"eps", g.eps},
                      {"params", names}});
  }
  io::save_safetensors(path, state_dict(), {{"optimizer", "AdamW"}, {"param_groups", groups.dump()}});
}

void AdamW::load(const std::string& path) {
  io::SafetensorsFile file = io::SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  auto kind = meta.find("optimizer");
  VG_CHECK(kind != meta.end() && kind->second == "AdamW", kComponent, path,
           ": not an AdamW state file (its metadata has no \"optimizer\": \"AdamW\")");
  auto groups_it = meta.find("param_groups");
  VG_CHECK(groups_it != meta.end(), kComponent, path, ": the metadata has no param_groups");
  nlohmann::json groups;
  try {
    groups = nlohmann::json::parse(groups_it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(kComponent, str(path, ": param_groups in the metadata is not valid JSON: ", e.what()));
  }
  VG_CHECK(groups.is_array() && groups.size() == groups_.size(), kComponent, path, ": the file has ",
           groups.is_array() ? groups.size() : 0, " parameter groups, this optimizer ", groups_.size());
  std::vector<ParamGroup> restored = groups_;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const nlohmann::json& g = groups[gi];
    std::set<std::string> saved, current;
    try {
      for (const auto& n : g.at("params")) saved.insert(n.get<std::string>());
      restored[gi].lr = g.at("lr").get<double>();
      restored[gi].weight_decay = g.at("weight_decay").get<double>();
      restored[gi].beta1 = g.at("betas").at(0).get<double>();
      restored[gi].beta2 = g.at("betas").at(1).get<double>();
      restored[gi].eps = g.at("eps").get<double>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(kComponent, str(path, ": parameter group ", gi, " in the metadata is malformed: ", e.what()));
    }
    for (const NamedParameter& p : groups_[gi].params) current.insert(p.name);
    VG_CHECK(saved == current, kComponent, path, ": parameter group ", gi, " was saved with ", saved.size(),
             " parameters", saved.empty() ? "" : " (first '" + *saved.begin() + "')", " and now has ",
             current.size(), current.empty() ? "" : " (first '" + *current.begin() + "')",
             ": the optimizer state belongs to another set of trainable parameters");
    check_group(restored[gi], gi);
  }
  std::map<std::string, Tensor> state;
  for (const io::TensorInfo& info : file.tensors()) state[info.name] = file.get(info.name);
  load_state_dict(state);
  groups_ = std::move(restored);
}

}  // namespace vg::train
