#include "models/bert/bert_config.h"

#include "core/error.h"
#include "io/mapped_file.h"

namespace vg::bert {
namespace {

constexpr const char* kComponent = "bert";

Activation parse_activation(const std::string& name, const std::string& source) {
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  throw Error(kComponent, str(source, ": hidden_act '", name,
                              "' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)"));
}

}  // namespace

void Config::validate() const {
  VG_CHECK(num_hidden_layers >= 0, kComponent, "num_hidden_layers must not be negative, got ", num_hidden_layers);
  VG_CHECK(vocab_size > 0 && hidden_size > 0 && intermediate_size > 0, kComponent, "vocab_size ", vocab_size,
           ", hidden_size ", hidden_size, " and intermediate_size ", intermediate_size, " must be positive");
  VG_CHECK(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, kComponent, "hidden_size ", hidden_size,
           " must be a multiple of num_attention_heads ", num_attention_heads);
  VG_CHECK(max_position_embeddings > 0 && type_vocab_size > 0, kComponent, "max_position_embeddings ",
           max_position_embeddings, " and type_vocab_size ", type_vocab_size, " must be positive");
  VG_CHECK(layer_norm_eps > 0, kComponent, "layer_norm_eps must be positive, got ", layer_norm_eps);
}

Config Config::from_json(const io::JsonConfig& c) {
  const std::string model_type = c.get_string("model_type", "");
  VG_CHECK(model_type == "bert", kComponent, c.source(), " describes a '", model_type,
           "' model; only BERT encoders (model_type bert) are supported");
  const std::string positions = c.get_string("position_embedding_type", "absolute");
  VG_CHECK(positions == "absolute", kComponent, c.source(), ": position_embedding_type '", positions,
           "' is not supported (only absolute positions)");
  VG_CHECK(!c.get_bool("is_decoder", false), kComponent, c.source(),
           ": is_decoder is true; only the bidirectional encoder is supported");
  Config cfg;
  cfg.vocab_size = c.get_int("vocab_size", cfg.vocab_size);
  cfg.hidden_size = c.get_int("hidden_size", cfg.hidden_size);
  cfg.num_hidden_layers = c.get_int("num_hidden_layers", cfg.num_hidden_layers);
  cfg.num_attention_heads = c.get_int("num_attention_heads", cfg.num_attention_heads);
  cfg.intermediate_size = c.get_int("intermediate_size", cfg.intermediate_size);
  cfg.max_position_embeddings = c.get_int("max_position_embeddings", cfg.max_position_embeddings);
  cfg.type_vocab_size = c.get_int("type_vocab_size", cfg.type_vocab_size);
  cfg.hidden_act = parse_activation(c.get_string("hidden_act", "gelu"), c.source());
  cfg.layer_norm_eps = c.get_double("layer_norm_eps", cfg.layer_norm_eps);
  cfg.pad_token_id = c.get_int("pad_token_id", cfg.pad_token_id);
  try {
    cfg.validate();
  } catch (const Error& e) {
    throw Error(kComponent, str(c.source(), ": ", e.message()));
  }
  return cfg;
}

Config Config::load(const std::string& path) {
  const std::string file = io::is_directory(path) ? path + (path.ends_with('/') ? "" : "/") + "config.json" : path;
  VG_CHECK(io::file_exists(file), kComponent, file, ": no such file (a BERT model folder needs config.json)");
  io::JsonConfig json = [&] {
    try {
      return io::JsonConfig::load(file);
    } catch (const Error& e) {  // keep the reader's detail, under this component
      throw Error(kComponent, e.message());
    }
  }();
  try {
    return from_json(json);
  } catch (const Error& e) {
    if (e.component() == kComponent) throw;
    throw Error(kComponent, e.message());  // a key of the wrong type ([config] names file and key)
  }
}

}  // namespace vg::bert
