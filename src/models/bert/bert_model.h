// The BERT encoder (transformers' BertModel, inference): word + position + token-type embeddings
// and a LayerNorm, then post-norm encoder layers (self-attention with a padding mask, residual,
// LayerNorm; feed-forward with GELU, residual, LayerNorm). Returns the hidden state of every layer
// as output_hidden_states does: hidden_states[0] is the embeddings' output, hidden_states[i] the
// output of layer i. The pooler and pre-training heads are not used.
//
// Weights come from a Hugging Face folder (config.json + model.safetensors or shards), named as
// BertModel saves them or with the "bert." prefix of BertForMaskedLM / BertForPreTraining files;
// LayerNorm parameters may also be called gamma/beta (old TensorFlow conversions).
#pragma once

#include <string>
#include <vector>

#include "models/bert/bert_config.h"
#include "models/common/linear.h"
#include "models/common/weight_source.h"

namespace vg::bert {

struct Norm {
  Tensor weight, bias;  // [D], [D]
};

struct LayerWeights {
  models::Linear query, key, value;  // [D, D] each, with bias
  models::Linear attention_output;   // [D, D]
  Norm attention_norm;
  models::Linear intermediate;  // [F, D]
  models::Linear output;        // [D, F]
  Norm output_norm;
};

struct Weights {
  std::string prefix;            // "bert." or "", as the checkpoint stores the encoder
  Tensor word_embeddings;        // [V, D]
  Tensor position_embeddings;    // [P, D]
  Tensor token_type_embeddings;  // [types, D]
  Norm embeddings_norm;
  std::vector<LayerWeights> layers;  // the loaded layers (LoadOptions::num_layers)
};

struct LoadOptions {
  DType dtype = DType::F32;  // compute dtype
  // Load only the first num_layers layers (-1: all), as bert_score drops the layers above the one it uses.
  int64_t num_layers = -1;
};

class Model {
 public:
  // A Hugging Face BERT folder. Throws vg::Error("[bert] ...") naming the file and the problem.
  static Model load(const std::string& folder, const LoadOptions& options = {});
  static Model from_source(const Config& config, const models::WeightSource& source, const LoadOptions& options = {});

  const Config& config() const { return config_; }
  const Weights& weights() const { return weights_; }
  int64_t num_loaded_layers() const { return static_cast<int64_t>(weights_.layers.size()); }

  // Token ids [B, T] (i64 or i32) -> embeddings after their LayerNorm, hidden state 0: [B, T, D].
  // Token types are all 0, what BertModel uses when none are given.
  Tensor embed(const Tensor& ids) const;
  // Encoder layer `layer` (0-based): [B, T, D] -> [B, T, D]. `key_mask` is [B, 1, 1, T] u8
  // (1 = a real token) or undefined (every key visible).
  Tensor encoder_layer(int64_t layer, const Tensor& x, const Tensor& key_mask) const;
  // Hidden states 0..num_layers (-1: every loaded layer) for ids [B, T] and attention_mask [B, T]
  // (1 = token, 0 = padding; any integer or bool dtype; undefined = no padding). [B, T, D] each.
  std::vector<Tensor> hidden_states(const Tensor& ids, const Tensor& attention_mask = Tensor(),
                                    int64_t num_layers = -1) const;

 private:
  Model() = default;
  Config config_;
  Weights weights_;
};

}  // namespace vg::bert
