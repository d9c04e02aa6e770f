// Fresh LoRA adapters for a Gemma 3n model, as PEFT's LoraConfig + get_peft_model create them:
// every linear layer whose module name equals a target or ends with "." + target (PEFT's rule
// for a list of target_modules) gets A [r, in] and B [out, r]; A is drawn as
// nn.init.kaiming_uniform_(A, a=sqrt(5)) draws it, uniform in (-bound, bound) with torch's bound
// (1/sqrt(in) up to rounding), from a seeded vg::Generator; B is zero, so the model's output is
// unchanged until training moves B. scale = alpha / r, or alpha / sqrt(r) with use_rslora.
// Only layers whose base weight exists take part: KV-consumer layers have no k/v projections.
//
// Names: an adapter is keyed by its base weight's name ("model.layers.0.self_attn.q_proj.weight",
// see models/common/linear.h); its trainable tensors are named with PEFT's saved keys
// ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").
#pragma once

#include <string>
#include <vector>

#include "core/random.h"
#include "models/common/linear.h"
#include "models/gemma3n/model.h"
#include "train/adamw.h"

namespace vg::train {

// q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj: the language model's attention
// and MLP projections (the vision and audio towers are not part of our model).
std::vector<std::string> default_lora_targets();

struct LoraOptions {
  int64_t rank = 64;      // r
  double alpha = 128;     // lora_alpha
  double dropout = 0.05;  // lora_dropout, on the adapter's input while training
  bool use_rslora = false;
  std::vector<std::string> target_modules = default_lora_targets();
  DType dtype = DType::F32;  // of A and B (trainable master copies)

  // Throws "[lora] ..." for a rank < 1, a non-finite alpha, dropout outside [0, 1), no targets.
  void validate() const;
};

// alpha / r, or alpha / sqrt(r) with rsLoRA (PEFT's LoraLayer.update_layer).
double lora_scale(double alpha, int64_t rank, bool use_rslora);

// The bound of torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)) for fan_in, in torch's double
// arithmetic: gain = sqrt(2 / (1 + a^2)), std = gain / sqrt(fan_in), bound = sqrt(3) * std.
double kaiming_uniform_bound(int64_t fan_in);

// "model.layers.0.self_attn.q_proj.weight" -> "model.layers.0.self_attn.q_proj".
std::string module_name_of(const std::string& weight_name);
// PEFT's list rule: module == target, or module ends with "." + target.
bool matches_target(const std::string& module_name, const std::vector<std::string>& targets);

// Every linear layer of the model in transformers' module order (each decoder layer's q, k, v,
// o, gate, up, down, LAuReL and per-layer-input projections, then the model-level projections);
// KV-consumer layers' absent k/v are left out.
std::vector<const models::Linear*> model_linear_layers(const gemma3n::Model& model);

// New adapters for the matching layers on the model's device (drawn on the host, so a seed gives
// the same adapters everywhere), drawn from `gen` in model order, with requires_grad set
// on A and B; the set's dropout is options.dropout and it starts in training mode. Throws
// "[lora] ..." when no layer matches the targets.
models::LoraSet create_lora(const gemma3n::Model& model, const LoraOptions& options, Generator& gen);

// PEFT's key of an adapter matrix in adapter_model.safetensors:
// "base_model.model." + module name + ".lora_A.weight" (or ".lora_B.weight").
std::string peft_lora_key(const std::string& weight_name, bool matrix_b);

// The trainable tensors of a set (A and B of each adapter, in name order) under their PEFT keys,
// for the optimizer. They share storage with the set's tensors.
std::vector<NamedParameter> lora_parameters(const models::LoraSet& lora);

}  // namespace vg::train
