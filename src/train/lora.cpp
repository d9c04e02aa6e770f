#include "train/lora.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace vg::train {
namespace {

constexpr const char* kComponent = "lora";

void push_if_present(std::vector<const models::Linear*>& out, const models::Linear& layer) {
  if (layer.weight.defined()) out.push_back(&layer);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::vector<std::string> default_lora_targets() {
  return {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
}

void LoraOptions::validate() const {
  VG_CHECK(rank >= 1, kComponent, "rank r must be at least 1, got ", rank);
  VG_CHECK(std::isfinite(alpha), kComponent, "lora_alpha must be finite, got ", alpha);
  VG_CHECK(dropout >= 0 && dropout < 1, kComponent, "lora_dropout must be in [0, 1), got ", dropout);
  VG_CHECK(!target_modules.empty(), kComponent, "no target modules given");
  for (const std::string& t : target_modules) VG_CHECK(!t.empty(), kComponent, "an empty target module name");
  VG_CHECK(is_floating(dtype), kComponent, "adapters need a floating dtype, got ", dtype);
}

double lora_scale(double alpha, int64_t rank, bool use_rslora) {
  VG_CHECK(rank >= 1, kComponent, "rank r must be at least 1, got ", rank);
  const double r = static_cast<double>(rank);
  return use_rslora ? alpha / std::sqrt(r) : alpha / r;
}

double kaiming_uniform_bound(int64_t fan_in) {
  VG_CHECK(fan_in > 0, kComponent, "fan_in must be positive, got ", fan_in);
  // torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)) and kaiming_uniform_, step by step.
  const double a = std::sqrt(5.0);
  const double gain = std::sqrt(2.0 / (1.0 + std::pow(a, 2.0)));
  const double std_dev = gain / std::sqrt(static_cast<double>(fan_in));
  return std::sqrt(3.0) * std_dev;
}

std::string module_name_of(const std::string& weight_name) {
  static const std::string suffix = ".weight";
  return weight_name.ends_with(suffix) ? weight_name.substr(0, weight_name.size() - suffix.size()) : weight_name;
}

bool matches_target(const std::string& module_name, const std::vector<std::string>& targets) {
  for (const std::string& t : targets) {
    if (module_name == t || module_name.ends_with("." + t)) return true;
  }
  return false;
}

std::vector<const models::Linear*> model_linear_layers(const gemma3n::Model& model) {
  const gemma3n::Weights& w = model.weights();
  std::vector<const models::Linear*> out;
  for (const gemma3n::LayerWeights& l : w.layers) {
    for (const models::Linear* layer : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down, &l.laurel_left,
                                        &l.laurel_right, &l.ple_gate, &l.ple_projection}) {
      push_if_present(out, *layer);
    }
  }
  push_if_present(out, w.per_layer_model_projection);
  for (const models::Linear& p : w.altup_projections) push_if_present(out, p);
  for (const models::Linear& p : w.altup_unembed_projections) push_if_present(out, p);
  return out;
}

models::LoraSet create_lora(const gemma3n::Model& model, const LoraOptions& options, Generator& gen) {
  options.validate();
  NoGradGuard no_grad;
  const double scale = lora_scale(options.alpha, options.rank, options.use_rslora);
  models::LoraSet set;
  set.dropout = options.dropout;
  set.training = true;
  for (const models::Linear* layer : model_linear_layers(model)) {
    if (!matches_target(module_name_of(layer->name), options.target_modules)) continue;
    const int64_t in = layer->in_features(), out = layer->out_features(), r = options.rank;
    const double bound = kaiming_uniform_bound(in);
    // uniform_(-bound, bound) is from + (to - from) * u.
    Tensor u = rand({r, in}, gen, DType::F64);
    models::LoraAdapter adapter;
    adapter.a = add(mul(u, 2.0 * bound), -bound).to(options.dtype).contiguous().to(model.device());
    adapter.b = zeros({out, r}, options.dtype, model.device());
    adapter.a.set_requires_grad(true);
    adapter.b.set_requires_grad(true);
    adapter.scale = scale;
    set.add(layer->name, std::move(adapter));
  }
  VG_CHECK(!set.empty(), kComponent, "no linear layer of the model matches the target modules [",
           join(options.target_modules), "] (module names look like 'model.layers.0.self_attn.q_proj')");
  return set;
}

std::string peft_lora_key(const std::string& weight_name, bool matrix_b) {
  return "base_model.model." + module_name_of(weight_name) + (matrix_b ? ".lora_B.weight" : ".lora_A.weight");
}

std::vector<NamedParameter> lora_parameters(const models::LoraSet& lora) {
  std::vector<NamedParameter> out;
  for (const auto& [weight_name, adapter] : lora.adapters()) {
    out.push_back({peft_lora_key(weight_name, false), adapter.a});
    out.push_back({peft_lora_key(weight_name, true), adapter.b});
  }
  return out;
}

}  // namespace vg::train
