#include "models/videomamba/init.h"

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "models/common/weight_init.h"
#include "ops/ops.h"

namespace vg::videomamba {
namespace {

using models::constant_init;
using models::InitRule;
using models::TensorSpec;

constexpr const char* kComponent = "videomamba";
constexpr const char* kDefaultPrefix = "vision_encoder.";

// timm.models.layers.trunc_normal_(std=.02): bounds a=-2, b=2 in absolute value.
InitRule timm_trunc_normal(double std) { return models::trunc_normal_init(std, -2.0, 2.0); }

// A = repeat(arange(1, N + 1), "n -> d n"); A_log = log(A): [E, N], the same row for every channel.
InitRule s4d_real_a_log() {
  return models::computed_init([](const Shape& shape, Generator&) {
    const int64_t E = shape[0], N = shape[1];
    std::vector<double> values(static_cast<size_t>(E * N));
    for (int64_t d = 0; d < E; ++d) {
      for (int64_t n = 0; n < N; ++n) values[static_cast<size_t>(d * N + n)] = std::log(static_cast<double>(n + 1));
    }
    return Tensor::from_vector(values, shape);
  });
}

// Mamba.__init__'s dt bias: dt = exp(U[0,1) (ln dt_max - ln dt_min) + ln dt_min), clamped below at
// the floor; bias = dt + log(-expm1(-dt)), the inverse of softplus.
InitRule inverse_softplus_dt_bias(const InitOptions& o) {
  return models::computed_init([o](const Shape& shape, Generator& gen) {
    Tensor u = rand(shape, gen, DType::F64);
    double* p = u.data<double>();
    const double lo = std::log(o.dt_min), hi = std::log(o.dt_max);
    for (int64_t i = 0; i < u.numel(); ++i) {
      const double dt = std::max(std::exp(p[i] * (hi - lo) + lo), o.dt_init_floor);
      p[i] = dt + std::log(-std::expm1(-dt));
    }
    return u;
  });
}

std::vector<TensorSpec> tensor_specs(const Config& c, const InitOptions& o) {
  c.validate();
  VG_CHECK(o.dt_min > 0 && o.dt_min <= o.dt_max && o.dt_init_floor > 0 && o.dt_scale > 0, kComponent, "dt_min ",
           o.dt_min, ", dt_max ", o.dt_max, ", dt_scale ", o.dt_scale, " and dt_init_floor ", o.dt_init_floor,
           " must be positive with dt_min <= dt_max");
  const std::string prefix = c.weight_prefix.value_or(kDefaultPrefix);
  const int64_t C = c.embed_dim, E = c.d_inner(), N = c.d_state, R = c.dt_rank, W = c.d_conv;
  const int64_t k = c.tubelet, P = c.patch_size;
  const InitRule zeros = constant_init(0.0), ones = constant_init(1.0);
  const InitRule linear = timm_trunc_normal(0.02);  // segm_init_weights on every nn.Linear

  std::vector<TensorSpec> specs;
  auto add = [&](const std::string& name, const Shape& shape, const InitRule& init) {
    specs.push_back({prefix + name, shape, init});
  };
  const InitRule patch = models::torch_default_init(c.channels * k * P * P);
  add("patch_embed.proj.weight", {C, c.channels, k, P, P}, patch);
  add("patch_embed.proj.bias", {C}, patch);
  add("cls_token", {1, 1, C}, zeros);
  add("pos_embed", {1, 1 + c.patches_per_frame(), C}, timm_trunc_normal(0.02));
  add("temporal_pos_embedding", {1, c.temporal_positions(), C}, zeros);

  // kaiming_uniform_(a=sqrt(5)) bounds at 1/sqrt(fan_in); then p /= sqrt(n_layer).
  const double out_bound = 1.0 / std::sqrt(static_cast<double>(E) * static_cast<double>(c.depth));
  const double dt_weight_bound = std::pow(static_cast<double>(R), -0.5) * o.dt_scale;
  const InitRule conv = models::torch_default_init(W);  // depthwise: fan_in = (E / groups) * W = W
  for (int64_t i = 0; i < c.depth; ++i) {
    const std::string layer = "layers." + std::to_string(i) + ".", m = layer + "mixer.";
    add(layer + "norm.weight", {C}, ones);
    add(m + "in_proj.weight", {2 * E, C}, linear);
    for (const std::string suffix : {"", "_b"}) {
      if (!suffix.empty() && !c.bidirectional) continue;
      add(m + "conv1d" + suffix + ".weight", {E, 1, W}, conv);
      add(m + "conv1d" + suffix + ".bias", {E}, conv);
      add(m + "x_proj" + suffix + ".weight", {c.x_proj_rows(), E}, linear);
      add(m + "dt_proj" + suffix + ".weight", {E, R},
          o.mamba_dt_init ? models::uniform_init(-dt_weight_bound, dt_weight_bound) : linear);
      add(m + "dt_proj" + suffix + ".bias", {E}, o.mamba_dt_init ? inverse_softplus_dt_bias(o) : zeros);
      add(m + (suffix.empty() ? "A_log" : "A_b_log"), {E, N}, s4d_real_a_log());
      add(m + "D" + suffix, {E}, ones);
    }
    add(m + "out_proj.weight", {C, E}, models::uniform_init(-out_bound, out_bound));
  }
  add("norm.weight", {C}, ones);
  return specs;
}

}  // namespace

std::map<std::string, Tensor> initial_weights(const Config& config, uint64_t seed, DType dtype,
                                              const InitOptions& options) {
  return models::materialize(tensor_specs(config, options), seed, dtype);
}

void save_checkpoint(const std::string& path, const Config& config, const std::map<std::string, Tensor>& weights) {
  models::check_against_specs(tensor_specs(config, {}), weights, kComponent);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    VG_CHECK(!ec, kComponent, "cannot create the folder ", parent.string(), ": ", ec.message());
  }
  io::save_safetensors(path, weights, {{"format", "pt"}});
}

Config small_config() {
  Config c;
  c.embed_dim = 64;
  c.depth = 2;
  c.d_state = 16;
  c.d_conv = 4;
  c.expand = 2;
  c.dt_rank = 4;  // ceil(64 / 16), Mamba's "auto"
  c.img_size = 224;
  c.patch_size = 16;
  c.tubelet = 1;
  c.num_frames = 8;
  c.channels = 3;
  c.bidirectional = true;
  c.validate();
  return c;
}

}  // namespace vg::videomamba
