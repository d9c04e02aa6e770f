// BERT encoder configuration (transformers' BertConfig), read from a Hugging Face config.json with
// model_type "bert". Absent keys take BertConfig's defaults (bert-base-uncased's geometry).
#pragma once

#include <cstdint>
#include <string>

#include "io/json_config.h"

namespace vg::bert {

enum class Activation { Gelu, GeluTanh, Relu };  // "gelu" (exact, erf), "gelu_new"/"gelu_pytorch_tanh", "relu"

struct Config {
  int64_t vocab_size = 30522;             // V
  int64_t hidden_size = 768;              // D
  int64_t num_hidden_layers = 12;         // L
  int64_t num_attention_heads = 12;       // H
  int64_t intermediate_size = 3072;       // F
  int64_t max_position_embeddings = 512;  // P
  int64_t type_vocab_size = 2;
  Activation hidden_act = Activation::Gelu;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t num_hidden_states() const { return num_hidden_layers + 1; }  // embeddings + one per layer

  // Throws "[bert] ..." naming the first inconsistent field.
  void validate() const;
  // From a config.json object; `json.source()` names it in messages.
  static Config from_json(const io::JsonConfig& json);
  // From a checkpoint folder (its config.json) or a config.json path. Throws "[bert] ..." when the
  // file is missing or malformed or describes another kind of model.
  static Config load(const std::string& path);
};

}  // namespace vg::bert
