#include "models/projector/etp.h"

#include <cmath>

#include "models/common/open_weights.h"
#include "ops/ops.h"

namespace vg::projector {
namespace {

void validate(const EtpConfig& c) {
  VG_CHECK(c.in_features > 0 && c.out_features > 0 && c.grid > 0 && c.pooled > 0, "etp",
           "projector sizes must be positive");
}

// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): what nn.Linear (kaiming_uniform with a = sqrt(5)) and its
// bias, and nn.Conv2d, draw by default.
Tensor uniform_init(const Shape& shape, int64_t fan_in, Generator& gen, DType dtype) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return sub(mul(rand(shape, gen, DType::F64), 2.0 * bound), bound).to(dtype);
}

}  // namespace

int64_t EtpConfig::parameter_count() const {
  return in_features * out_features + out_features + out_features * out_features + out_features + out_features * 9 +
         out_features;
}

Etp Etp::load(const models::WeightSource& source, const std::string& prefix, const EtpConfig& config, DType dtype) {
  validate(config);
  models::WeightLoader w(source, "etp", dtype);
  const int64_t in = config.in_features, out = config.out_features;
  Etp p;
  p.config_ = config;
  p.fc1_ = {w.load(prefix + "mlp.mlp.0.weight", {out, in}), w.load(prefix + "mlp.mlp.0.bias", {out}),
            prefix + "mlp.mlp.0.weight"};
  p.fc2_ = {w.load(prefix + "mlp.mlp.2.weight", {out, out}), w.load(prefix + "mlp.mlp.2.bias", {out}),
            prefix + "mlp.mlp.2.weight"};
  p.peg_weight_ = w.load(prefix + "peg.peg.0.weight", {out, 1, 3, 3});
  p.peg_bias_ = w.load(prefix + "peg.peg.0.bias", {out});
  return p;
}

Etp Etp::load_file(const std::string& path, int64_t pooled, DType dtype) {
  std::unique_ptr<models::WeightSource> source = models::open_weights(path);
  // The one prefix in front of "mlp.mlp.0.weight".
  const std::string key = "mlp.mlp.0.weight";
  std::string prefix;
  int found = 0;
  for (const std::string& name : source->names()) {
    if (name.size() >= key.size() && name.compare(name.size() - key.size(), key.size(), key) == 0) {
      prefix = name.substr(0, name.size() - key.size());
      ++found;
    }
  }
  VG_CHECK(found == 1, "etp", path, found == 0 ? ": holds no projector (no tensor named *mlp.mlp.0.weight)"
                                               : ": holds several projectors; save each on its own");
  const Shape fc1 = source->shape(prefix + key);
  VG_CHECK(fc1.rank() == 2, "etp", path, ": ", prefix, key, " should be [out, in], got ", fc1);
  return load(*source, prefix, EtpConfig{fc1[1], fc1[0], 14, pooled}, dtype);
}

Etp Etp::initialize(const EtpConfig& config, Generator& gen, DType dtype) {
  validate(config);
  NoGradGuard no_grad;
  const int64_t in = config.in_features, out = config.out_features;
  Etp p;
  p.config_ = config;
  p.fc1_ = {uniform_init({out, in}, in, gen, dtype), uniform_init({out}, in, gen, dtype), "mlp.mlp.0.weight"};
  p.fc2_ = {uniform_init({out, out}, out, gen, dtype), uniform_init({out}, out, gen, dtype), "mlp.mlp.2.weight"};
  p.peg_weight_ = uniform_init({out, 1, 3, 3}, 9, gen, dtype);
  p.peg_bias_ = uniform_init({out}, 9, gen, dtype);
  return p;
}

Tensor Etp::forward(const Tensor& x, const models::LoraSet* lora) const {
  const EtpConfig& c = config_;
  VG_CHECK(x.rank() == 3 && x.size(1) == c.grid * c.grid && x.size(2) == c.in_features, "etp", "input ", x.describe(),
           " must be [B, ", c.grid * c.grid, ", ", c.in_features, "] (", c.grid, "x", c.grid,
           " tokens of the encoder)");
  const int64_t B = x.size(0), D = c.out_features;
  Tensor h = models::apply_linear(fc2_, gelu(models::apply_linear(fc1_, x, lora)), lora);  // [B, 196, D]
  // The tokens as a row-major grid: [B, 196, D] -> [B, 14, 14, D] -> [B, D, 14, 14]
  h = h.view({B, c.grid, c.grid, D}).permute({0, 3, 1, 2});
  h = adaptive_avg_pool2d(h, {c.pooled, c.pooled});                             // [B, D, s, s]
  h = add(h, conv2d(h, peg_weight_, peg_bias_, {1, 1}, {1, 1}, /*groups=*/D));  // + depthwise 3x3
  return h.permute({0, 2, 3, 1}).reshape({B, c.pooled * c.pooled, D});          // [B, s*s, D]
}

std::map<std::string, Tensor*> Etp::parameters() {
  return {{"mlp.mlp.0.weight", &fc1_.weight}, {"mlp.mlp.0.bias", &fc1_.bias},     {"mlp.mlp.2.weight", &fc2_.weight},
          {"mlp.mlp.2.bias", &fc2_.bias},     {"peg.peg.0.weight", &peg_weight_}, {"peg.peg.0.bias", &peg_bias_}};
}

Etp& Etp::to(Device device) {
  NoGradGuard no_grad;
  for (auto& [name, tensor] : parameters()) {
    if (!tensor->defined()) continue;
    VG_CHECK(!tensor->requires_grad(), "etp", "move the projector before making '", name, "' trainable");
    *tensor = tensor->to(device).set_name(tensor->name());
  }
  return *this;
}

std::map<std::string, Tensor> Etp::state_dict() const {
  return {{"mlp.mlp.0.weight", fc1_.weight}, {"mlp.mlp.0.bias", fc1_.bias},     {"mlp.mlp.2.weight", fc2_.weight},
          {"mlp.mlp.2.bias", fc2_.bias},     {"peg.peg.0.weight", peg_weight_}, {"peg.peg.0.bias", peg_bias_}};
}

}  // namespace vg::projector
