// The one linear layer of every model: y = x W^T (+ b), with an optional LoRA adapter keyed by
// the base weight's name (PEFT's convention: y += scale * dropout(x) A^T B^T, scale = alpha / r).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace vg::models {

struct Linear {
  Tensor weight;     // [out, in]
  Tensor bias;       // [out] or undefined
  std::string name;  // the weight's checkpoint name, e.g. "model.layers.3.self_attn.q_proj.weight"
  int64_t out_features() const { return weight.size(0); }
  int64_t in_features() const { return weight.size(1); }
};

struct LoraAdapter {
  Tensor a;  // [r, in]
  Tensor b;  // [out, r]
  double scale = 1.0;
};

// Adapters by base weight name, plus the dropout applied to their input while training.
class LoraSet {
 public:
  void add(const std::string& weight_name, LoraAdapter adapter);
  const LoraAdapter* find(const std::string& weight_name) const;
  const std::map<std::string, LoraAdapter>& adapters() const { return adapters_; }
  bool empty() const { return adapters_.empty(); }

  double dropout = 0.0;
  bool training = false;

 private:
  std::map<std::string, LoraAdapter> adapters_;
};

// x [..., in] -> [..., out], adding the adapter registered for layer.name, if any.
Tensor apply_linear(const Linear& layer, const Tensor& x, const LoraSet* lora = nullptr);

// apply_linear of each layer to the same x; one kernel for all of them on CUDA when x has few
// rows and none of them has a bias or an adapter (a decode step's q/k/v, gate/up).
std::vector<Tensor> apply_linears(const std::vector<const Linear*>& layers, const Tensor& x,
                                  const LoraSet* lora = nullptr);
// apply_linear(layers[i], xs[i]) for every i (the xs with the same leading dims), likewise in
// one kernel: independent products ready at the same time (attention's output and LAuReL's).
std::vector<Tensor> apply_linears_each(const std::vector<const Linear*>& layers, const std::vector<Tensor>& xs,
                                       const LoraSet* lora = nullptr);

// gated_gelu(apply_linear(gate, x), apply_linear(up, x)): a gated MLP's hidden activations, in
// one kernel on CUDA when x has few rows and neither layer has a bias or an adapter.
Tensor apply_gated_linears(const Linear& gate, const Linear& up, const Tensor& x, const LoraSet* lora = nullptr);
// gated_gelu(apply_linear(gate, x), multiplier), likewise.
Tensor apply_gated_linear(const Linear& gate, const Tensor& x, const Tensor& multiplier, const LoraSet* lora = nullptr);

}  // namespace vg::models
