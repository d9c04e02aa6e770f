#include "models/common/linear.h"

#include "ops/fused.h"
#include "ops/ops.h"

namespace vg::models {

void LoraSet::add(const std::string& weight_name, LoraAdapter adapter) {
  VG_CHECK(adapter.a.rank() == 2 && adapter.b.rank() == 2 && adapter.a.size(0) == adapter.b.size(1), "lora",
           "adapter for '", weight_name, "' needs A [r, in] and B [out, r], got ", adapter.a.describe(), " and ",
           adapter.b.describe());
  adapters_[weight_name] = std::move(adapter);
}

const LoraAdapter* LoraSet::find(const std::string& weight_name) const {
  auto it = adapters_.find(weight_name);
  return it == adapters_.end() ? nullptr : &it->second;
}

Tensor apply_linear(const Linear& layer, const Tensor& x, const LoraSet* lora) {
  Tensor y = linear(x, layer.weight, layer.bias);
  const LoraAdapter* adapter = lora != nullptr ? lora->find(layer.name) : nullptr;
  if (adapter == nullptr) return y;
  VG_CHECK(adapter->a.size(1) == layer.in_features() && adapter->b.size(0) == layer.out_features(), "lora",
           "adapter for '", layer.name, "' (A ", adapter->a.describe(), ", B ", adapter->b.describe(),
           ") does not fit the weight ", layer.weight.describe());
  Tensor xa = lora->training ? dropout(x, lora->dropout, true) : x;
  // [..., in] -> [..., r] -> [..., out]. Adapters kept in f32 (master copies) under a bf16 model
  // are cast for the product; the cast's backward returns their gradients in f32. The scale
  // multiplies the rank-r activations, not the [..., out] ones: the same sum, a fraction of the
  // work (and the same bits when it is a power of two, as alpha / r usually is).
  Tensor down = mul(linear(xa, adapter->a.to(x.dtype())), adapter->scale);  // [..., r]
  return add(y, linear(down, adapter->b.to(x.dtype())));
}

namespace {

// No bias and no adapter: the layer is its weight alone.
bool plain(const Linear& layer, const LoraSet* lora) {
  return !layer.bias.defined() && (lora == nullptr || lora->find(layer.name) == nullptr);
}

}  // namespace

std::vector<Tensor> apply_linears(const std::vector<const Linear*>& layers, const Tensor& x, const LoraSet* lora) {
  return apply_linears_each(layers, std::vector<Tensor>(layers.size(), x), lora);
}

std::vector<Tensor> apply_linears_each(const std::vector<const Linear*>& layers, const std::vector<Tensor>& xs,
                                       const LoraSet* lora) {
  VG_CHECK(layers.size() == xs.size(), "linear", layers.size(), " layers for ", xs.size(), " inputs");
  bool all_plain = true;
  for (const Linear* layer : layers) all_plain = all_plain && plain(*layer, lora);
  if (all_plain) {
    std::vector<Tensor> weights;
    for (const Linear* layer : layers) weights.push_back(layer->weight);
    return linear_each(xs, weights);
  }
  std::vector<Tensor> out;
  for (size_t i = 0; i < layers.size(); ++i) out.push_back(apply_linear(*layers[i], xs[i], lora));
  return out;
}

Tensor apply_gated_linears(const Linear& gate, const Linear& up, const Tensor& x, const LoraSet* lora) {
  if (plain(gate, lora) && plain(up, lora)) return linear_gated_gelu(x, gate.weight, up.weight);
  return gated_gelu(apply_linear(gate, x, lora), apply_linear(up, x, lora));
}

Tensor apply_gated_linear(const Linear& gate, const Tensor& x, const Tensor& multiplier, const LoraSet* lora) {
  if (plain(gate, lora)) return linear_gated_gelu_by(x, gate.weight, multiplier);
  return gated_gelu(apply_linear(gate, x, lora), multiplier);
}

}  // namespace vg::models
