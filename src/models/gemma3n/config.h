// Gemma 3n text-decoder configuration, read from a Hugging Face config.json: either a text-only
// checkpoint (model_type "gemma3n_text", weights under "model.") or the multimodal one
// ("gemma3n", the text part in "text_config", weights under "model.language_model."). Both the
// transformers 4.x keys (rope_theta, rope_local_base_freq) and 5.x keys (rope_parameters) are read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/json_config.h"

namespace vg::gemma3n {

enum class LayerKind { Sliding, Full };

struct Config {
  int64_t vocab_size = 262400;
  int64_t vocab_size_per_layer_input = 262144;
  int64_t hidden_size = 2048;                 // D
  int64_t hidden_size_per_layer_input = 256;  // P
  int64_t num_hidden_layers = 30;             // L
  int64_t num_attention_heads = 8;            // H
  int64_t num_key_value_heads = 2;            // K
  int64_t head_dim = 256;
  std::vector<int64_t> intermediate_size;  // F_l per layer
  std::vector<LayerKind> layer_types;
  std::vector<double> activation_sparsity;  // per layer; > 0 enables Gaussian top-k
  double rms_norm_eps = 1e-6;
  double rope_theta_full = 1e6;
  double rope_theta_sliding = 1e4;
  int64_t sliding_window = 512;
  double final_logit_softcapping = 30.0;  // 0: none
  int64_t altup_num_inputs = 4;           // N
  int64_t altup_active_idx = 0;
  double altup_coef_clip = 120.0;  // 0: none
  bool altup_correct_scale = true;
  int64_t num_kv_shared_layers = 10;
  int64_t laurel_rank = 64;
  int64_t max_position_embeddings = 32768;
  int64_t pad_token_id = 0;
  int64_t bos_token_id = 2;
  std::vector<int64_t> eos_token_ids = {1};
  std::string weight_prefix = "model.";  // where the text weights live in the checkpoint

  // Layers >= this index reuse the K/V of an earlier layer of the same kind.
  int64_t first_kv_shared_layer() const { return num_hidden_layers - num_kv_shared_layers; }
  bool is_kv_consumer(int64_t layer) const;
  // The layer whose K/V `layer` attends with: itself, or for a consumer the last layer of the
  // same kind before the first shared layer (HF's kv_shared_layer_index).
  int64_t kv_source(int64_t layer) const;
  int64_t window_of(int64_t layer) const {
    return layer_types[static_cast<size_t>(layer)] == LayerKind::Sliding ? sliding_window : 0;
  }
  double rope_theta_of(int64_t layer) const {
    return layer_types[static_cast<size_t>(layer)] == LayerKind::Sliding ? rope_theta_sliding : rope_theta_full;
  }

  // Throws "[gemma3n] ..." naming the first inconsistent field.
  void validate() const;

  // From a config.json object (the multimodal wrapper or the text config itself).
  static Config from_json(const io::JsonConfig& json);
  // From a checkpoint folder (its config.json) or a config.json path.
  static Config load(const std::string& path);

  // The config.json of a text checkpoint (Gemma3nForCausalLM, model_type gemma3n_text, weights
  // under "model."), as transformers 5 writes it: every field from_json reads, under transformers'
  // key names (rope_parameters per layer kind, layer_types, null for a disabled softcap or clip),
  // so from_json(to_json()) gives this config back. Throws for a multimodal weight_prefix.
  std::string to_json() const;
};

// MatFormer Mix-n-Match (the Gemma 3n MatFormer Lab recipe): keep a prefix of each layer's FFN
// and drop whole layers. Applied to a config it renumbers the kept layers; the loader slices the
// weights of a checkpoint made for the unsliced config.
struct MatformerSlice {
  std::vector<int64_t> ffn_widths;   // one per kept layer; empty keeps the widths
  std::vector<int64_t> skip_layers;  // indices in the unsliced model
  bool empty() const { return ffn_widths.empty() && skip_layers.empty(); }
};

struct SlicedConfig {
  Config config;                     // the model after slicing
  std::vector<int64_t> kept_layers;  // new index -> index in the unsliced checkpoint
};

// Checks the slice against the config (widths within each layer, KV producers kept, KV sharing
// and layer kinds consistent afterwards) and returns the sliced configuration.
SlicedConfig apply_slice(const Config& config, const MatformerSlice& slice);

// Parses "2048*4, 2048*8, ..." or "[8192, 16384]" (the published slicing table's notation).
std::vector<int64_t> parse_width_list(const std::string& text);
std::vector<int64_t> parse_index_list(const std::string& text);

}  // namespace vg::gemma3n
