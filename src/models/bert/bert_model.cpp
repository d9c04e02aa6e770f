#include "models/bert/bert_model.h"

#include <cmath>

#include "io/checkpoint.h"
#include "io/mapped_file.h"
#include "ops/ops.h"

namespace vg::bert {
namespace {

using models::Linear;
using models::WeightLoader;

constexpr const char* kComponent = "bert";
constexpr const char* kWordEmbeddings = "embeddings.word_embeddings.weight";

Linear load_linear(WeightLoader& w, const std::string& name, int64_t out, int64_t in) {
  Linear l;
  l.weight = w.load(name + ".weight", {out, in});
  l.bias = w.load(name + ".bias", {out});
  l.name = name + ".weight";
  return l;
}

// weight/bias, or gamma/beta in checkpoints converted from TensorFlow (transformers renames them on load).
Norm load_norm(WeightLoader& w, const std::string& name, int64_t D) {
  const bool old_names = !w.contains(name + ".weight") && w.contains(name + ".gamma");
  return {w.load(name + (old_names ? ".gamma" : ".weight"), {D}), w.load(name + (old_names ? ".beta" : ".bias"), {D})};
}

LayerWeights load_layer(WeightLoader& w, const Config& c, const std::string& prefix, int64_t layer) {
  const int64_t D = c.hidden_size, F = c.intermediate_size;
  const std::string p = prefix + "encoder.layer." + std::to_string(layer) + ".";
  LayerWeights l;
  l.query = load_linear(w, p + "attention.self.query", D, D);
  l.key = load_linear(w, p + "attention.self.key", D, D);
  l.value = load_linear(w, p + "attention.self.value", D, D);
  l.attention_output = load_linear(w, p + "attention.output.dense", D, D);
  l.attention_norm = load_norm(w, p + "attention.output.LayerNorm", D);
  l.intermediate = load_linear(w, p + "intermediate.dense", F, D);
  l.output = load_linear(w, p + "output.dense", D, F);
  l.output_norm = load_norm(w, p + "output.LayerNorm", D);
  return l;
}

std::string detect_prefix(const models::WeightSource& source) {
  for (const char* prefix : {"", "bert."}) {
    if (source.contains(std::string(prefix) + kWordEmbeddings)) return prefix;
  }
  throw Error(kComponent, str(source.describe(), " holds no BERT encoder: neither '", kWordEmbeddings, "' nor 'bert.",
                              kWordEmbeddings, "' is in it (is this a BERT checkpoint?)"));
}

Tensor norm(const Tensor& x, const Norm& n, double eps) { return layer_norm(x, n.weight, n.bias, eps); }

Tensor activation(Activation act, const Tensor& x) {
  switch (act) {
    case Activation::Gelu: return gelu(x);
    case Activation::GeluTanh: return gelu_tanh(x);
    case Activation::Relu: return relu(x);
  }
  VG_ASSERT(false);
  return x;
}

}  // namespace

Model Model::load(const std::string& folder, const LoadOptions& options) {
  VG_CHECK(io::is_directory(folder), kComponent, folder,
           io::file_exists(folder) ? " is not a folder" : ": no such folder",
           " (a BERT model is a Hugging Face folder: config.json and model.safetensors)");
  Config config = Config::load(folder);
  std::unique_ptr<models::CheckpointSource> source;
  try {
    source = std::make_unique<models::CheckpointSource>(io::Checkpoint::open(folder));
  } catch (const Error& e) {  // no or unreadable safetensors: keep the reader's detail, under this component
    throw Error(kComponent, str(folder, ": cannot read the weights: ", e.what()));
  }
  return from_source(config, *source, options);
}

Model Model::from_source(const Config& config, const models::WeightSource& source, const LoadOptions& options) {
  VG_CHECK(is_floating(options.dtype), kComponent, "the compute dtype must be floating, got ", options.dtype);
  config.validate();
  const int64_t layers = options.num_layers < 0 ? config.num_hidden_layers : options.num_layers;
  VG_CHECK(layers <= config.num_hidden_layers, kComponent, "cannot load ", layers, " layers: the model has ",
           config.num_hidden_layers);
  Model m;
  m.config_ = config;
  WeightLoader w(source, kComponent, options.dtype);
  const int64_t D = config.hidden_size;
  Weights& out = m.weights_;
  out.prefix = detect_prefix(source);
  const std::string& p = out.prefix;
  out.word_embeddings = w.load(p + kWordEmbeddings, {config.vocab_size, D});
  out.position_embeddings = w.load(p + "embeddings.position_embeddings.weight", {config.max_position_embeddings, D});
  out.token_type_embeddings = w.load(p + "embeddings.token_type_embeddings.weight", {config.type_vocab_size, D});
  out.embeddings_norm = load_norm(w, p + "embeddings.LayerNorm", D);
  for (int64_t l = 0; l < layers; ++l) out.layers.push_back(load_layer(w, config, p, l));
  return m;
}

Tensor Model::embed(const Tensor& ids) const {
  const Config& c = config_;
  VG_CHECK(
      ids.defined() && ids.rank() == 2 && ids.size(1) > 0 && (ids.dtype() == DType::I64 || ids.dtype() == DType::I32),
      kComponent, "token ids must be i64 or i32 [B, T] with T > 0, got ",
      ids.defined() ? ids.describe() : std::string("an undefined tensor"));
  const int64_t T = ids.size(1);
  VG_CHECK(T <= c.max_position_embeddings, kComponent, "a sequence of ", T, " tokens is longer than the ",
           c.max_position_embeddings, " positions the model has (truncate it)");
  const Weights& w = weights_;
  Tensor x = embedding(w.word_embeddings, ids);         // [B, T, D]
  x = add(x, w.position_embeddings.slice(0, 0, T));     // [B, T, D], positions 0..T-1
  x = add(x, w.token_type_embeddings.select(0, 0));     // [B, T, D], token type 0
  return norm(x, w.embeddings_norm, c.layer_norm_eps);  // [B, T, D]
}

Tensor Model::encoder_layer(int64_t layer, const Tensor& x, const Tensor& key_mask) const {
  const Config& c = config_;
  VG_CHECK(layer >= 0 && layer < num_loaded_layers(), kComponent, "encoder layer ", layer, " is not loaded (",
           num_loaded_layers(), " of ", c.num_hidden_layers, " layers are)");
  VG_CHECK(x.rank() == 3 && x.size(2) == c.hidden_size, kComponent, "encoder layer input must be [B, T, ",
           c.hidden_size, "], got ", x.describe());
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t B = x.size(0), T = x.size(1), H = c.num_attention_heads, hd = c.head_dim(), D = c.hidden_size;

  // Self-attention (BertSelfAttention): bidirectional, padding keys hidden, scale head_dim^-0.5.
  Tensor q = linear(x, w.query.weight, w.query.bias).view({B, T, H, hd}).transpose(1, 2);  // [B, H, T, hd]
  Tensor k = linear(x, w.key.weight, w.key.bias).view({B, T, H, hd}).transpose(1, 2);      // [B, H, T, hd]
  Tensor v = linear(x, w.value.weight, w.value.bias).view({B, T, H, hd}).transpose(1, 2);  // [B, H, T, hd]
  AttentionOptions options;
  options.causal = false;
  options.scale = 1.0 / std::sqrt(static_cast<double>(hd));
  Tensor o = scaled_dot_product_attention(q, k, v, options, key_mask);  // [B, H, T, hd]
  o = linear(o.transpose(1, 2).reshape({B, T, D}), w.attention_output.weight, w.attention_output.bias);  // [B, T, D]
  Tensor h = norm(add(o, x), w.attention_norm, c.layer_norm_eps);  // [B, T, D], post-norm

  // Feed-forward (BertIntermediate, BertOutput).
  Tensor f = activation(c.hidden_act, linear(h, w.intermediate.weight, w.intermediate.bias));  // [B, T, F]
  f = linear(f, w.output.weight, w.output.bias);                                               // [B, T, D]
  return norm(add(f, h), w.output_norm, c.layer_norm_eps);                                     // [B, T, D]
}

std::vector<Tensor> Model::hidden_states(const Tensor& ids, const Tensor& attention_mask, int64_t num_layers) const {
  const int64_t count = num_layers < 0 ? num_loaded_layers() : num_layers;
  VG_CHECK(count <= num_loaded_layers(), kComponent, "hidden state ", count, " needs ", count, " layers; ",
           num_loaded_layers(), " of ", config_.num_hidden_layers, " are loaded");
  Tensor key_mask;
  if (attention_mask.defined()) {
    VG_CHECK(
        attention_mask.rank() == 2 && attention_mask.size(0) == ids.size(0) && attention_mask.size(1) == ids.size(1),
        kComponent, "attention_mask must be [B, T] like the ids ", ids.describe(), ", got ", attention_mask.describe());
    std::vector<uint8_t> visible;
    visible.reserve(static_cast<size_t>(attention_mask.numel()));
    for (int64_t m : attention_mask.to_vector<int64_t>()) visible.push_back(m != 0 ? 1 : 0);
    key_mask = Tensor::from_vector(visible, {ids.size(0), 1, 1, ids.size(1)});  // [B, 1, 1, T]
  }
  std::vector<Tensor> states;
  states.push_back(embed(ids));  // [B, T, D], hidden state 0
  for (int64_t l = 0; l < count; ++l) states.push_back(encoder_layer(l, states.back(), key_mask));  // [B, T, D]
  return states;
}

}  // namespace vg::bert
