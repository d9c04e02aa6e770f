#include "models/clip/config.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vg::clip {
namespace {

constexpr const char* kComponent = "clip";

Activation parse_activation(const std::string& name, const std::string& source) {
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "gelu") return Activation::Gelu;
  throw Error(kComponent,
              str(source, ": hidden_act '", name, "' is not supported (CLIP towers use quick_gelu or gelu)"));
}

}  // namespace

int64_t Config::resolve_hidden_state(int64_t index) const {
  const int64_t n = num_hidden_states();
  const int64_t resolved = index < 0 ? index + n : index;
  VG_CHECK(resolved >= 0 && resolved < n, kComponent, "hidden state ", index, " does not exist: the tower has ", n,
           " (indices ", -n, "..", n - 1, "; 0 = embeddings, -1 = the last layer)");
  return resolved;
}

void Config::validate() const {
  VG_CHECK(num_hidden_layers > 0, kComponent, "num_hidden_layers must be positive, got ", num_hidden_layers);
  VG_CHECK(hidden_size > 0 && intermediate_size > 0, kComponent, "hidden_size ", hidden_size, " and intermediate_size ",
           intermediate_size, " must be positive");
  VG_CHECK(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, kComponent, "hidden_size ", hidden_size,
           " must be a multiple of num_attention_heads ", num_attention_heads);
  VG_CHECK(num_channels > 0, kComponent, "num_channels must be positive, got ", num_channels);
  VG_CHECK(patch_size > 0 && image_size >= patch_size, kComponent, "image_size ", image_size,
           " must be at least patch_size ", patch_size, " (both positive)");
  VG_CHECK(layer_norm_eps > 0, kComponent, "layer_norm_eps must be positive, got ", layer_norm_eps);
}

Config Config::from_json(const io::JsonConfig& root) {
  const std::string model_type = root.get_string("model_type", "");
  io::JsonConfig c = root;
  if (model_type == "clip") {
    // CLIPConfig builds CLIPVisionConfig() when vision_config is absent: all defaults.
    c = root.has("vision_config") ? root.sub("vision_config")
                                  : io::JsonConfig::parse("{}", root.source() + ": vision_config");
    const std::string inner = c.get_string("model_type", "clip_vision_model");
    VG_CHECK(inner == "clip_vision_model", kComponent, root.source(), ": vision_config describes a '", inner,
             "' model, not a CLIP vision tower");
  } else {
    VG_CHECK(model_type == "clip_vision_model", kComponent, root.source(), " describes a '", model_type,
             "' model, not a CLIP vision tower (model_type clip or clip_vision_model)");
  }
  Config cfg;
  cfg.hidden_size = c.get_int("hidden_size", cfg.hidden_size);
  cfg.intermediate_size = c.get_int("intermediate_size", cfg.intermediate_size);
  cfg.num_hidden_layers = c.get_int("num_hidden_layers", cfg.num_hidden_layers);
  cfg.num_attention_heads = c.get_int("num_attention_heads", cfg.num_attention_heads);
  cfg.num_channels = c.get_int("num_channels", cfg.num_channels);
  cfg.image_size = c.get_int("image_size", cfg.image_size);
  cfg.patch_size = c.get_int("patch_size", cfg.patch_size);
  cfg.hidden_act = parse_activation(c.get_string("hidden_act", "quick_gelu"), c.source());
  cfg.layer_norm_eps = c.get_double("layer_norm_eps", cfg.layer_norm_eps);
  cfg.validate();
  return cfg;
}

Config Config::load(const std::string& path) { return from_json(io::JsonConfig::load(path)); }

std::string Config::to_json() const {
  validate();
  // Keys sorted, as transformers' to_json_string writes them. The init scales are
  // CLIPVisionConfig's defaults, which clip/init.h follows.
  const nlohmann::json j = {
      {"architectures", nlohmann::json::array({"CLIPVisionModel"})},
      {"attention_dropout", 0.0},
      {"hidden_act", hidden_act == Activation::QuickGelu ? "quick_gelu" : "gelu"},
      {"hidden_size", hidden_size},
      {"image_size", image_size},
      {"initializer_factor", 1.0},
      {"initializer_range", 0.02},
      {"intermediate_size", intermediate_size},
      {"layer_norm_eps", layer_norm_eps},
      {"model_type", "clip_vision_model"},
      {"num_attention_heads", num_attention_heads},
      {"num_channels", num_channels},
      {"num_hidden_layers", num_hidden_layers},
      {"patch_size", patch_size},
      {"projection_dim", 512},  // CLIPVisionConfig's default; a CLIPVisionModel has no projection
  };
  return j.dump(2) + "\n";
}

}  // namespace vg::clip
