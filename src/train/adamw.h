// AdamW exactly as torch.optim.AdamW steps on the CPU (the single-tensor path, foreach=False,
// amsgrad and maximize off): for each parameter with a gradient, in torch's operation order,
//   step += 1
//   p *= 1 - lr * weight_decay                       (decoupled decay, skipped when 0)
//   m = lerp(m, g, 1 - beta1)                        (torch's fused lerp)
//   v = v * beta2 + (1 - beta2) * g * g
//   p += -(lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
// Scalars are computed in double as Python does and rounded to the parameter's dtype where torch
// rounds them, so f32 results equal torch's to the last bit or within an ulp (docs/training.md).
// Parameter groups carry their own lr, weight decay, betas and eps. The state (step, exp_avg,
// exp_avg_sq per parameter) is saved to and restored from safetensors under names derived from
// the parameter names, so a resumed run continues bit for bit. On a GPU the state lives beside
// its parameter and the kernel (backend/cuda/adamw.cu) gives the CPU's bits.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vg::train {

// A trainable tensor and the name it is known by (checkpoint or PEFT name). The name picks its
// optimizer group (param_groups.h) and names its optimizer state.
struct NamedParameter {
  std::string name;
  Tensor tensor;  // a leaf that requires grad: f32 or f64 on the CPU, f32 on a GPU
};

struct ParamGroup {
  std::string label;  // for messages, e.g. "lora" or "projector, no decay"
  std::vector<NamedParameter> params;
  double lr = 1e-3;
  double weight_decay = 1e-2;  // torch.optim.AdamW's default
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class AdamW {
 public:
  // Throws "[train] ..." for an empty or duplicate parameter name, a parameter that is not a
  // floating leaf requiring grad, a tensor listed twice, or hyperparameters torch rejects.
  explicit AdamW(std::vector<ParamGroup> groups);

  const std::vector<ParamGroup>& groups() const { return groups_; }
  // The learning rate of group `group` from now on (what a scheduler sets before each step).
  void set_lr(size_t group, double lr);
  double lr(size_t group) const;

  // One update of every parameter whose gradient is defined; the others keep their state, as in
  // torch. Gradients must match their parameter's shape, dtype and device.
  void step();
  // Drops every gradient (torch's zero_grad(set_to_none=True)).
  void zero_grad();

  // Updates taken so far by the parameter `name` (0 before its first gradient).
  int64_t steps_of(const std::string& name) const;

  // The state as tensors: "<name>.step" (i64 scalar), "<name>.exp_avg", "<name>.exp_avg_sq" for
  // each parameter that has stepped. load_state_dict checks names, shapes and dtypes.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);

  // The state plus each group's hyperparameters and parameter names (safetensors metadata),
  // written atomically. load() restores both, as torch's Optimizer.load_state_dict does, and
  // refuses a file whose groups hold other parameters.
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  struct State {
    int64_t step = 0;
    Tensor exp_avg;     // same shape and dtype as the parameter
    Tensor exp_avg_sq;  // ditto
  };
  const NamedParameter* find(const std::string& name) const;

  std::vector<ParamGroup> groups_;
  std::map<std::string, State> state_;  // by parameter name
};

}  // namespace vg::train
