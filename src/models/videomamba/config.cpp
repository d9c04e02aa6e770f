#include "models/videomamba/config.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vg::videomamba {
namespace {

constexpr const char* kComponent = "videomamba";

int64_t auto_dt_rank(int64_t embed_dim) { return (embed_dim + 15) / 16; }  // math.ceil(d_model / 16)

Config sized(int64_t embed_dim, int64_t depth) {
  Config c;
  c.embed_dim = embed_dim;
  c.depth = depth;
  c.dt_rank = auto_dt_rank(embed_dim);
  return c;
}

// The shape of `name`, which must exist and have `rank` dims.
Shape shape_of(const models::WeightSource& source, const std::string& name, int rank) {
  VG_CHECK(source.contains(name), kComponent, source.describe(), " has no tensor '", name,
           "' (is this a VideoMamba checkpoint?)");
  Shape s = source.shape(name);
  VG_CHECK(s.rank() == rank, kComponent, "tensor '", name, "' in ", source.describe(), " has shape ", s, ", expected ",
           rank, " dims");
  return s;
}

}  // namespace

void Config::validate() const {
  VG_CHECK(embed_dim > 0 && depth > 0, kComponent, "embed_dim ", embed_dim, " and depth ", depth, " must be positive");
  VG_CHECK(d_state > 0 && d_conv >= 1 && expand > 0 && dt_rank > 0, kComponent, "d_state ", d_state, ", d_conv ",
           d_conv, ", expand ", expand, " and dt_rank ", dt_rank, " must be positive");
  VG_CHECK(patch_size > 0 && img_size > 0 && img_size % patch_size == 0, kComponent, "img_size ", img_size,
           " must be a positive multiple of patch_size ", patch_size);
  VG_CHECK(tubelet > 0 && num_frames > 0 && num_frames % tubelet == 0, kComponent, "num_frames ", num_frames,
           " must be a positive multiple of the tubelet (kernel_size) ", tubelet);
  VG_CHECK(channels > 0, kComponent, "channels must be positive, got ", channels);
  VG_CHECK(norm_eps > 0, kComponent, "norm_eps must be positive, got ", norm_eps);
}

Config Config::tiny() { return sized(192, 24); }
Config Config::small() { return sized(384, 24); }
Config Config::middle() { return sized(576, 32); }

Config Config::preset(const std::string& name) {
  std::string n = name;
  if (n.rfind("videomamba_", 0) == 0) n = n.substr(11);
  if (n == "tiny" || n == "t") return tiny();
  if (n == "small" || n == "s") return small();
  if (n == "middle" || n == "m") return middle();
  throw Error(kComponent,
              str("unknown VideoMamba size '", name, "' (videomamba_tiny, videomamba_small or ", "videomamba_middle)"));
}

Config Config::from_json(const io::JsonConfig& root) {
  const io::JsonConfig c = root.has("vision_encoder") ? root.sub("vision_encoder") : root;
  Config cfg = c.has("name") ? preset(c.get_string("name")) : middle();
  cfg.embed_dim = c.get_int("embed_dim", cfg.embed_dim);
  cfg.depth = c.get_int("depth", cfg.depth);
  cfg.img_size = c.get_int("img_size", cfg.img_size);
  cfg.patch_size = c.get_int("patch_size", cfg.patch_size);
  cfg.tubelet = c.get_int("kernel_size", cfg.tubelet);
  cfg.num_frames = c.get_int("num_frames", cfg.num_frames);
  cfg.channels = c.get_int("channels", cfg.channels);
  cfg.norm_eps = c.get_double("norm_epsilon", cfg.norm_eps);
  cfg.bidirectional = c.get_bool("bimamba", cfg.bidirectional);
  cfg.dt_rank = auto_dt_rank(cfg.embed_dim);
  if (c.has("ssm_cfg")) {
    const io::JsonConfig ssm = c.sub("ssm_cfg");
    cfg.d_state = ssm.get_int("d_state", cfg.d_state);
    cfg.d_conv = ssm.get_int("d_conv", cfg.d_conv);
    cfg.expand = ssm.get_int("expand", cfg.expand);
    const bool auto_rank = !ssm.has("dt_rank") || ssm.raw().at("dt_rank").is_string();
    if (auto_rank) {
      const std::string v = ssm.get_string("dt_rank", "auto");
      VG_CHECK(v == "auto", kComponent, ssm.source(), ": dt_rank '", v, "' must be an integer or \"auto\"");
    } else {
      cfg.dt_rank = ssm.get_int("dt_rank");
    }
    // The loader knows Mamba's default layout only: no in/out projection bias, a conv bias.
    VG_CHECK(!ssm.get_bool("bias", false) && ssm.get_bool("conv_bias", true), kComponent, ssm.source(),
             ": only Mamba's default biases are supported (bias false, conv_bias true)");
  }
  VG_CHECK(c.get_bool("rms_norm", true), kComponent, c.source(),
           ": rms_norm false (LayerNorm blocks) is not supported; VideoMamba uses RMSNorm");
  // ckpt_num_frame is not kept: when the checkpoint's temporal embedding has another length than
  // num_frames, the loader reads that length from the tensor and interpolates, as upstream does.
  cfg.validate();
  return cfg;
}

Config Config::load(const std::string& path) { return from_json(io::JsonConfig::load(path)); }

std::string detect_prefix(const models::WeightSource& source) {
  const std::string anchor = "patch_embed.proj.weight";
  std::vector<std::string> found;
  for (const std::string& name : source.names()) {
    if (!name.ends_with(anchor)) continue;
    const std::string prefix = name.substr(0, name.size() - anchor.size());
    if (!prefix.empty() && prefix.back() != '.') continue;
    if (source.contains(prefix + "cls_token") && source.contains(prefix + "pos_embed")) found.push_back(prefix);
  }
  VG_CHECK(!found.empty(), kComponent, source.describe(), " holds no VideoMamba encoder (no '<prefix>", anchor,
           "' next to cls_token and pos_embed)");
  VG_CHECK(found.size() == 1, kComponent, source.describe(), " holds ", found.size(), " VideoMamba encoders ('",
           found[0], "' and '", found[1], "'); give the prefix explicitly");
  return found[0];
}

Config Config::infer(const models::WeightSource& source, const std::optional<std::string>& prefix_arg) {
  const std::string p = prefix_arg.has_value() ? *prefix_arg : detect_prefix(source);
  Config c;
  c.weight_prefix = p;
  const Shape cls = shape_of(source, p + "cls_token", 3);
  c.embed_dim = cls[2];
  const Shape pos = shape_of(source, p + "pos_embed", 3);
  const std::string patch_name = p + "patch_embed.proj.weight";
  VG_CHECK(source.contains(patch_name), kComponent, source.describe(), " has no tensor '", patch_name, "'");
  const Shape patch = source.shape(patch_name);
  VG_CHECK(patch.rank() == 5 || patch.rank() == 4, kComponent, "tensor '", patch_name, "' has shape ", patch,
           ", expected [C, 3, k, p, p] (Conv3d) or [C, 3, p, p] (Conv2d)");
  c.channels = patch[1];
  c.patch_size = patch[patch.rank() - 1];
  c.tubelet = patch.rank() == 5 ? patch[2] : 1;
  const int64_t patches = pos[1] - 1;
  int64_t side = 0;
  while ((side + 1) * (side + 1) <= patches) ++side;
  VG_CHECK(side * side == patches && patches > 0, kComponent, "tensor '", p, "pos_embed' has shape ", pos, ": ",
           patches, " patch positions do not form a square grid");
  c.img_size = side * c.patch_size;
  const std::string temporal = p + "temporal_pos_embedding";
  // Classifier checkpoints made from image weights have no temporal embedding (upstream then
  // starts from zeros): keep the default frame count.
  c.num_frames = source.contains(temporal) ? shape_of(source, temporal, 3)[1] * c.tubelet : 8 * c.tubelet;

  c.depth = 0;
  while (source.contains(p + "layers." + std::to_string(c.depth) + ".norm.weight")) ++c.depth;
  VG_CHECK(c.depth > 0, kComponent, source.describe(), " has no '", p, "layers.0.norm.weight'");
  const std::string mixer = p + "layers.0.mixer.";
  const Shape in_proj = shape_of(source, mixer + "in_proj.weight", 2);
  const int64_t E = in_proj[0] / 2;
  VG_CHECK(E > 0 && E % c.embed_dim == 0, kComponent, "tensor '", mixer, "in_proj.weight' has shape ", in_proj,
           ": 2E = ", in_proj[0], " is not twice a multiple of embed_dim ", c.embed_dim);
  c.expand = E / c.embed_dim;
  c.d_state = shape_of(source, mixer + "A_log", 2)[1];
  c.d_conv = shape_of(source, mixer + "conv1d.weight", 3)[2];
  c.dt_rank = shape_of(source, mixer + "dt_proj.weight", 2)[1];
  c.bidirectional = source.contains(mixer + "A_b_log");
  c.validate();
  return c;
}

int64_t count_parameters(const Config& c) {
  const int64_t C = c.embed_dim, E = c.d_inner(), N = c.d_state, R = c.dt_rank, W = c.d_conv;
  const int64_t direction = E * W + E + c.x_proj_rows() * E + E * R + E + E * N + E;
  const int64_t layer = 3 * E * C + direction * (c.bidirectional ? 2 : 1) + C;
  const int64_t embeddings = C * c.channels * c.tubelet * c.patch_size * c.patch_size + C + C +
                             (1 + c.patches_per_frame()) * C + c.temporal_positions() * C;
  return embeddings + c.depth * layer + C;
}

}  // namespace vg::videomamba
