#include "models/gemma3n/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/mapped_file.h"

namespace vg::gemma3n {
namespace {

constexpr const char* kComponent = "gemma3n";

LayerKind parse_kind(const std::string& name, const std::string& source) {
  if (name == "sliding_attention") return LayerKind::Sliding;
  if (name == "full_attention") return LayerKind::Full;
  throw Error(kComponent, str(source, ": unknown layer type '", name, "' (sliding_attention or full_attention)"));
}

// RoPE theta of one layer kind: transformers 5.x nests it in rope_parameters, 4.x has flat keys.
double rope_theta(const io::JsonConfig& c, const char* kind, const char* legacy_key, double fallback) {
  if (c.has("rope_parameters")) {
    io::JsonConfig params = c.sub("rope_parameters");
    if (params.has(kind)) {
      io::JsonConfig p = params.sub(kind);
      const std::string type = p.get_string("rope_type", "default");
      VG_CHECK(type == "default", kComponent, c.source(), ": rope_type '", type, "' for ", kind,
               " is not supported (only the default RoPE Gemma 3n uses)");
      return p.get_double("rope_theta");
    }
  }
  if (c.has("rope_scaling")) {
    throw Error(kComponent, str(c.source(), ": rope_scaling is not supported (Gemma 3n uses plain RoPE)"));
  }
  return c.get_double(legacy_key, fallback);
}

// transformers' default when the key is absent; an explicit null turns the feature off (0).
double optional_double(const io::JsonConfig& c, const char* key, double fallback) {
  const auto& raw = c.raw();
  if (raw.contains(key) && raw.at(key).is_null()) return 0.0;
  return c.get_double(key, fallback);
}

}  // namespace

bool Config::is_kv_consumer(int64_t layer) const {
  const int64_t first = first_kv_shared_layer();
  return first > 0 && layer >= first;
}

int64_t Config::kv_source(int64_t layer) const {
  if (!is_kv_consumer(layer)) return layer;
  const LayerKind kind = layer_types[static_cast<size_t>(layer)];
  for (int64_t i = first_kv_shared_layer() - 1; i >= 0; --i) {
    if (layer_types[static_cast<size_t>(i)] == kind) return i;
  }
  return -1;  // validate() rejects this
}

void Config::validate() const {
  const auto L = static_cast<size_t>(num_hidden_layers);
  VG_CHECK(num_hidden_layers > 0, kComponent, "num_hidden_layers must be positive, got ", num_hidden_layers);
  VG_CHECK(hidden_size > 0 && head_dim > 0 && head_dim % 2 == 0, kComponent, "hidden_size ", hidden_size,
           " and head_dim ", head_dim, " must be positive (head_dim even for RoPE)");
  VG_CHECK(num_attention_heads > 0 && num_key_value_heads > 0 && num_attention_heads % num_key_value_heads == 0,
           kComponent, "num_attention_heads ", num_attention_heads, " must be a multiple of num_key_value_heads ",
           num_key_value_heads);
  VG_CHECK(vocab_size > 0 && vocab_size_per_layer_input > 0 && vocab_size_per_layer_input <= vocab_size, kComponent,
           "vocab sizes ", vocab_size, " / ", vocab_size_per_layer_input, " are inconsistent");
  VG_CHECK(hidden_size_per_layer_input > 0 && laurel_rank > 0, kComponent,
           "hidden_size_per_layer_input and laurel_rank must be positive");
  VG_CHECK(intermediate_size.size() == L, kComponent, "intermediate_size has ", intermediate_size.size(),
           " entries for ", L, " layers");
  for (int64_t f : intermediate_size) VG_CHECK(f > 0, kComponent, "intermediate_size entries must be positive");
  VG_CHECK(layer_types.size() == L, kComponent, "layer_types has ", layer_types.size(), " entries for ", L, " layers");
  VG_CHECK(activation_sparsity.size() == L, kComponent, "activation_sparsity_pattern has ", activation_sparsity.size(),
           " entries for ", L, " layers");
  for (double s : activation_sparsity) {
    VG_CHECK(s >= 0.0 && s < 1.0, kComponent, "activation sparsity ", s, " must be in [0, 1)");
  }
  VG_CHECK(altup_num_inputs >= 2 && altup_active_idx >= 0 && altup_active_idx < altup_num_inputs, kComponent,
           "altup_num_inputs ", altup_num_inputs, " / altup_active_idx ", altup_active_idx, " are inconsistent");
  VG_CHECK(num_kv_shared_layers >= 0 && num_kv_shared_layers < num_hidden_layers, kComponent, "num_kv_shared_layers ",
           num_kv_shared_layers, " must be below num_hidden_layers ", num_hidden_layers);
  VG_CHECK(sliding_window > 0, kComponent, "sliding_window must be positive, got ", sliding_window);
  VG_CHECK(rope_theta_full > 0 && rope_theta_sliding > 0, kComponent, "RoPE thetas must be positive");
  for (int64_t l = 0; l < num_hidden_layers; ++l) {
    VG_CHECK(kv_source(l) >= 0, kComponent, "layer ", l, " shares K/V but no earlier layer of its kind (",
             layer_types[static_cast<size_t>(l)] == LayerKind::Sliding ? "sliding" : "full",
             ") comes before the first shared layer ", first_kv_shared_layer());
  }
}

Config Config::from_json(const io::JsonConfig& root) {
  const std::string model_type = root.get_string("model_type", "");
  io::JsonConfig c = root;
  Config cfg;
  if (model_type == "gemma3n") {
    c = root.sub("text_config");
    cfg.weight_prefix = "model.language_model.";
  } else {
    VG_CHECK(model_type == "gemma3n_text", kComponent, root.source(), " describes a '", model_type,
             "' model, not Gemma 3n (model_type gemma3n or gemma3n_text)");
    cfg.weight_prefix = "model.";
  }
  cfg.vocab_size = c.get_int("vocab_size", cfg.vocab_size);
  cfg.vocab_size_per_layer_input = c.get_int("vocab_size_per_layer_input", cfg.vocab_size_per_layer_input);
  cfg.hidden_size = c.get_int("hidden_size", cfg.hidden_size);
  cfg.hidden_size_per_layer_input = c.get_int("hidden_size_per_layer_input", cfg.hidden_size_per_layer_input);
  cfg.num_hidden_layers = c.get_int("num_hidden_layers", 35);
  cfg.num_attention_heads = c.get_int("num_attention_heads", cfg.num_attention_heads);
  cfg.num_key_value_heads = c.get_int("num_key_value_heads", cfg.num_key_value_heads);
  cfg.head_dim = c.get_int("head_dim", cfg.head_dim);
  const auto L = static_cast<size_t>(std::max<int64_t>(cfg.num_hidden_layers, 0));

  if (c.has("intermediate_size") && c.raw().at("intermediate_size").is_array()) {
    cfg.intermediate_size = c.get_int_list("intermediate_size");
  } else {
    cfg.intermediate_size.assign(L, c.get_int("intermediate_size", 16384));
  }
  if (c.has("layer_types")) {
    for (const std::string& t : c.get_string_list("layer_types")) cfg.layer_types.push_back(parse_kind(t, c.source()));
  } else {
    for (size_t i = 0; i < L; ++i) cfg.layer_types.push_back((i + 1) % 5 == 0 ? LayerKind::Full : LayerKind::Sliding);
  }
  if (c.has("activation_sparsity_pattern")) {
    cfg.activation_sparsity = c.get_double_list("activation_sparsity_pattern");
  } else {
    // transformers' default, which only fits models of at least 10 layers.
    VG_CHECK(L >= 10, kComponent, c.source(), ": activation_sparsity_pattern is missing and the default needs at ",
             "least 10 layers");
    cfg.activation_sparsity.assign(L, 0.0);
    std::fill(cfg.activation_sparsity.begin(), cfg.activation_sparsity.begin() + 10, 0.95);
  }
  cfg.rms_norm_eps = c.get_double("rms_norm_eps", cfg.rms_norm_eps);
  cfg.rope_theta_full = rope_theta(c, "full_attention", "rope_theta", cfg.rope_theta_full);
  cfg.rope_theta_sliding = rope_theta(c, "sliding_attention", "rope_local_base_freq", cfg.rope_theta_sliding);
  cfg.sliding_window = c.get_int("sliding_window", cfg.sliding_window);
  cfg.final_logit_softcapping = optional_double(c, "final_logit_softcapping", 30.0);
  VG_CHECK(!c.has("attn_logit_softcapping"), kComponent, c.source(),
           ": attn_logit_softcapping is set, which Gemma 3n does not use");
  cfg.altup_num_inputs = c.get_int("altup_num_inputs", cfg.altup_num_inputs);
  cfg.altup_active_idx = c.get_int("altup_active_idx", cfg.altup_active_idx);
  cfg.altup_coef_clip = optional_double(c, "altup_coef_clip", 120.0);
  cfg.altup_correct_scale = c.get_bool("altup_correct_scale", cfg.altup_correct_scale);
  cfg.num_kv_shared_layers = c.get_int("num_kv_shared_layers", 15);
  cfg.laurel_rank = c.get_int("laurel_rank", cfg.laurel_rank);
  cfg.max_position_embeddings = c.get_int("max_position_embeddings", cfg.max_position_embeddings);
  const std::string act = c.get_string("hidden_activation", "gelu_pytorch_tanh");
  VG_CHECK(act == "gelu_pytorch_tanh", kComponent, c.source(), ": hidden_activation '", act,
           "' is not supported (Gemma 3n uses gelu_pytorch_tanh)");
  VG_CHECK(!c.get_bool("attention_bias", false), kComponent, c.source(), ": attention_bias is not supported");
  cfg.pad_token_id = c.get_int("pad_token_id", cfg.pad_token_id);
  cfg.bos_token_id = c.get_int("bos_token_id", cfg.bos_token_id);
  if (c.has("eos_token_id")) {
    cfg.eos_token_ids = c.raw().at("eos_token_id").is_array() ? c.get_int_list("eos_token_id")
                                                              : std::vector<int64_t>{c.get_int("eos_token_id")};
  }
  cfg.validate();
  return cfg;
}

Config Config::load(const std::string& path) { return from_json(io::JsonConfig::load(path)); }

std::string Config::to_json() const {
  validate();
  VG_CHECK(weight_prefix == "model.", kComponent,
           "to_json writes a text checkpoint's config, whose weights live under ",
           "'model.', but this config's weights live under '", weight_prefix, "'");
  using json = nlohmann::json;  // keys sorted, as transformers' to_json_string writes them
  json layer_kinds = json::array();
  for (LayerKind kind : layer_types) {
    layer_kinds.push_back(kind == LayerKind::Sliding ? "sliding_attention" : "full_attention");
  }
  auto rope = [](double theta) { return json{{"rope_theta", theta}, {"rope_type", "default"}}; };
  auto nullable = [](double value) { return value > 0 ? json(value) : json(nullptr); };  // 0 = off = null
  json j = {
      {"activation_sparsity_pattern", activation_sparsity},
      {"altup_active_idx", altup_active_idx},
      {"altup_coef_clip", nullable(altup_coef_clip)},
      {"altup_correct_scale", altup_correct_scale},
      {"altup_num_inputs", altup_num_inputs},
      {"architectures", json::array({"Gemma3nForCausalLM"})},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"bos_token_id", bos_token_id},
      {"eos_token_id", eos_token_ids.size() == 1 ? json(eos_token_ids[0]) : json(eos_token_ids)},
      {"final_logit_softcapping", nullable(final_logit_softcapping)},
      {"head_dim", head_dim},
      {"hidden_activation", "gelu_pytorch_tanh"},
      {"hidden_size", hidden_size},
      {"hidden_size_per_layer_input", hidden_size_per_layer_input},
      {"initializer_range", 0.02},  // the std gemma3n/init.h draws Linear and Embedding weights with
      {"intermediate_size", intermediate_size},
      {"laurel_rank", laurel_rank},
      {"layer_types", layer_kinds},
      {"max_position_embeddings", max_position_embeddings},
      {"model_type", "gemma3n_text"},
      {"num_attention_heads", num_attention_heads},
      {"num_hidden_layers", num_hidden_layers},
      {"num_key_value_heads", num_key_value_heads},
      {"num_kv_shared_layers", num_kv_shared_layers},
      {"pad_token_id", pad_token_id},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_parameters", {{"full_attention", rope(rope_theta_full)}, {"sliding_attention", rope(rope_theta_sliding)}}},
      {"sliding_window", sliding_window},
      {"tie_word_embeddings", true},
      {"use_cache", true},
      {"vocab_size", vocab_size},
      {"vocab_size_per_layer_input", vocab_size_per_layer_input},
  };
  return j.dump(2) + "\n";
}

SlicedConfig apply_slice(const Config& config, const MatformerSlice& slice) {
  SlicedConfig out;
  out.config = config;
  const int64_t L = config.num_hidden_layers;
  std::vector<bool> skip(static_cast<size_t>(L), false);
  for (int64_t s : slice.skip_layers) {
    VG_CHECK(s >= 0 && s < L, kComponent, "skipped layer ", s, " does not exist (", L, " layers)");
    VG_CHECK(!skip[static_cast<size_t>(s)], kComponent, "layer ", s, " is skipped twice");
    skip[static_cast<size_t>(s)] = true;
  }
  for (int64_t l = 0; l < L; ++l) {
    if (!skip[static_cast<size_t>(l)]) out.kept_layers.push_back(l);
  }
  VG_CHECK(!out.kept_layers.empty(), kComponent, "the slice skips every layer");
  const auto kept = static_cast<int64_t>(out.kept_layers.size());

  Config& c = out.config;
  c.num_hidden_layers = kept;
  c.layer_types.clear();
  c.activation_sparsity.clear();
  c.intermediate_size.clear();
  int64_t skipped_consumers = 0;
  for (int64_t s : slice.skip_layers) skipped_consumers += config.is_kv_consumer(s) ? 1 : 0;
  c.num_kv_shared_layers = config.num_kv_shared_layers - skipped_consumers;
  for (size_t i = 0; i < out.kept_layers.size(); ++i) {
    const auto old = static_cast<size_t>(out.kept_layers[i]);
    c.layer_types.push_back(config.layer_types[old]);
    c.activation_sparsity.push_back(config.activation_sparsity[old]);
    int64_t width = config.intermediate_size[old];
    if (!slice.ffn_widths.empty()) {
      VG_CHECK(static_cast<int64_t>(slice.ffn_widths.size()) == kept, kComponent, "the slice gives ",
               slice.ffn_widths.size(), " FFN widths for ", kept, " kept layers");
      width = slice.ffn_widths[i];
      VG_CHECK(width > 0 && width <= config.intermediate_size[old], kComponent, "FFN width ", width, " for layer ", old,
               " must be in [1, ", config.intermediate_size[old], "] (slicing keeps a prefix)");
    }
    c.intermediate_size.push_back(width);
  }
  // The KV-sharing roles must survive: consumers stay consumers of the same producer.
  for (int64_t n = 0; n < kept; ++n) {
    const int64_t old = out.kept_layers[static_cast<size_t>(n)];
    VG_CHECK(config.is_kv_consumer(old) == c.is_kv_consumer(n), kComponent, "skipping these layers changes ",
             "whether layer ", old, " shares K/V; skip only whole blocks of shared layers");
    if (c.is_kv_consumer(n)) {
      const int64_t source = c.kv_source(n);
      VG_CHECK(source >= 0 && out.kept_layers[static_cast<size_t>(source)] == config.kv_source(old), kComponent,
               "layer ", old, " reads the K/V of layer ", config.kv_source(old),
               ", which the slice skips or replaces (the KV producers must be kept)");
    }
  }
  c.validate();
  return out;
}

namespace {

std::vector<std::string> split_items(const std::string& text) {
  std::string cleaned;
  for (char ch : text) {
    if (ch == '[' || ch == ']' || ch == '_' || ch == ' ' || ch == '\t') continue;
    cleaned += ch;
  }
  std::vector<std::string> items;
  std::string cur;
  for (char ch : cleaned) {
    if (ch == ',') {
      items.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty() || !items.empty()) items.push_back(cur);
  return items;
}

int64_t parse_int(const std::string& item, const std::string& text) {
  VG_CHECK(!item.empty() && std::all_of(item.begin(), item.end(), [](char ch) { return std::isdigit(ch) != 0; }),
           kComponent, "cannot read '", item, "' in '", text, "' as a number");
  return std::stoll(item);
}

}  // namespace

std::vector<int64_t> parse_width_list(const std::string& text) {
  std::vector<int64_t> out;
  for (const std::string& item : split_items(text)) {
    const size_t star = item.find('*');
    if (star == std::string::npos) {
      out.push_back(parse_int(item, text));
    } else {
      out.push_back(parse_int(item.substr(0, star), text) * parse_int(item.substr(star + 1), text));
    }
  }
  return out;
}

std::vector<int64_t> parse_index_list(const std::string& text) {
  std::vector<int64_t> out;
  for (const std::string& item : split_items(text)) out.push_back(parse_int(item, text));
  return out;
}

}  // namespace vg::gemma3n
