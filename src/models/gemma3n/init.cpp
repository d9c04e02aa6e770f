#include "models/gemma3n/init.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "models/common/weight_init.h"
#include "ops/ops.h"

namespace vg::gemma3n {
namespace {

using models::constant_init;
using models::InitRule;
using models::normal_init;
using models::TensorSpec;

// nn.Embedding with padding_idx: normal(0, std), then the padding row zero (PreTrainedModel's
// _init_weights zeroes weight[padding_idx] after the normal draw).
InitRule embedding_init(double std, int64_t padding_idx) {
  InitRule normal = normal_init(std);
  return [normal, padding_idx](const Shape& shape, Generator& gen, DType dtype) {
    Tensor t = normal(shape, gen, dtype);
    if (padding_idx >= 0 && padding_idx < shape[0]) {
      NoGradGuard no_grad;
      fill_(t.select(0, padding_idx), 0.0);
    }
    return t;
  };
}

// The tensors of a Gemma3nForCausalLM text checkpoint, in the order of the modules.
std::vector<TensorSpec> tensor_specs(const Config& c) {
  c.validate();
  const std::string& p = c.weight_prefix;
  const int64_t D = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, K = c.num_key_value_heads;
  const int64_t N = c.altup_num_inputs, P = c.hidden_size_per_layer_input, R = c.laurel_rank;
  const int64_t L = c.num_hidden_layers;
  const InitRule linear = normal_init(kInitializerRange);  // every nn.Linear has bias=False here
  const InitRule norm = constant_init(1.0);                // Gemma3nRMSNorm(with_scale=True)

  std::vector<TensorSpec> specs;
  auto add = [&](const std::string& name, const Shape& shape, const InitRule& init) {
    specs.push_back({name, shape, init});
  };
  add(p + "embed_tokens.weight", {c.vocab_size, D}, embedding_init(kInitializerRange, c.pad_token_id));
  add(p + "embed_tokens_per_layer.weight", {c.vocab_size_per_layer_input, L * P},
      embedding_init(kInitializerRange, c.pad_token_id));
  add(p + "per_layer_model_projection.weight", {L * P, D}, linear);
  add(p + "per_layer_projection_norm.weight", {P}, norm);
  for (int64_t i = 0; i + 1 < N; ++i) {
    add(p + "altup_projections." + std::to_string(i) + ".weight", {D, D}, linear);
    add(p + "altup_unembed_projections." + std::to_string(i) + ".weight", {D, D}, linear);
  }
  add(p + "norm.weight", {D}, norm);

  for (int64_t l = 0; l < L; ++l) {
    const std::string lp = p + "layers." + std::to_string(l) + ".";
    const int64_t F = c.intermediate_size[static_cast<size_t>(l)];
    for (const char* n :
         {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"}) {
      add(lp + n + ".weight", {D}, norm);
    }
    add(lp + "self_attn.q_proj.weight", {H * hd, D}, linear);
    if (!c.is_kv_consumer(l)) {  // consumers attend with a producer's K/V: no k/v of their own
      add(lp + "self_attn.k_proj.weight", {K * hd, D}, linear);
      add(lp + "self_attn.v_proj.weight", {K * hd, D}, linear);
      add(lp + "self_attn.k_norm.weight", {hd}, norm);
    }
    add(lp + "self_attn.o_proj.weight", {D, H * hd}, linear);
    add(lp + "self_attn.q_norm.weight", {hd}, norm);  // v_norm has no weight (with_scale=False)
    add(lp + "mlp.gate_proj.weight", {F, D}, linear);
    add(lp + "mlp.up_proj.weight", {F, D}, linear);
    add(lp + "mlp.down_proj.weight", {D, F}, linear);
    // Gemma3nTextAltUp: the parameter correct_output_scale is zeros_ in _init_weights; the three
    // coefficient layers are nn.Linear.
    add(lp + "altup.correct_output_scale", {D}, constant_init(0.0));
    add(lp + "altup.correction_coefs.weight", {N, N}, linear);
    add(lp + "altup.prediction_coefs.weight", {N * N, N}, linear);
    add(lp + "altup.modality_router.weight", {N, D}, linear);
    add(lp + "altup.router_norm.weight", {D}, norm);
    add(lp + "laurel.linear_left.weight", {R, D}, linear);
    add(lp + "laurel.linear_right.weight", {D, R}, linear);
    add(lp + "laurel.post_laurel_norm.weight", {D}, norm);
    add(lp + "per_layer_input_gate.weight", {P, D}, linear);
    add(lp + "per_layer_projection.weight", {D, P}, linear);
    add(lp + "post_per_layer_input_norm.weight", {D}, norm);
  }
  return specs;
}

}  // namespace

std::map<std::string, Tensor> initial_weights(const Config& config, uint64_t seed, DType dtype) {
  return models::materialize(tensor_specs(config), seed, dtype);
}

int64_t initial_parameter_count(const Config& config) { return models::spec_elements(tensor_specs(config)); }

void save_checkpoint(const std::string& folder, const Config& config, const std::map<std::string, Tensor>& weights,
                     int64_t max_shard_bytes) {
  models::check_against_specs(tensor_specs(config), weights, "gemma3n");
  nlohmann::json json = nlohmann::json::parse(config.to_json());
  json["dtype"] = models::torch_dtype_name(weights.at(config.weight_prefix + "embed_tokens.weight").dtype());
  models::write_checkpoint_folder(folder, json.dump(2) + "\n", weights, max_shard_bytes);
}

Config tiny_config(int64_t vocab_size) {
  VG_CHECK(vocab_size > 0, "gemma3n", "vocab_size must be positive, got ", vocab_size);
  Config c;
  c.vocab_size = vocab_size;
  c.vocab_size_per_layer_input = std::min<int64_t>(vocab_size, 262144);
  c.hidden_size = 64;
  c.hidden_size_per_layer_input = 16;
  c.num_hidden_layers = 8;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.intermediate_size.assign(8, 256);
  // Gemma's pattern of four sliding layers per full one, shortened to three.
  const LayerKind S = LayerKind::Sliding, F = LayerKind::Full;
  c.layer_types = {S, S, S, F, S, S, S, F};
  // E2B makes the first third of its layers sparse (10 of 30). Not written as the list
  // {0.95, 0.95, 0, 0, 0, 0, 0, 0}: GCC 12.2 with -march=native (AVX-512) compiles that into
  // eight 0.95s.
  c.activation_sparsity.assign(8, 0.0);
  std::fill_n(c.activation_sparsity.begin(), 2, 0.95);
  c.sliding_window = 128;
  // Layers 5-7 consume: 5 and 6 read sliding layer 4, 7 reads full layer 3.
  c.num_kv_shared_layers = 3;
  c.laurel_rank = 8;
  // Gemma's end of turn (106) ends generation too, when the vocabulary has it.
  c.eos_token_ids = vocab_size > 106 ? std::vector<int64_t>{1, 106} : std::vector<int64_t>{1};
  c.pad_token_id = 0;
  c.bos_token_id = vocab_size > 2 ? 2 : 0;
  c.weight_prefix = "model.";
  c.validate();
  return c;
}

Config e2b_text_config() {
  Config c;  // the defaults are E2B's widths, heads, thetas, window, softcap, AltUp and LAuReL
  const int64_t L = c.num_hidden_layers;
  c.intermediate_size.assign(static_cast<size_t>(L), 8192);
  c.layer_types.clear();
  for (int64_t l = 0; l < L; ++l) c.layer_types.push_back(l % 5 == 4 ? LayerKind::Full : LayerKind::Sliding);
  c.activation_sparsity.assign(static_cast<size_t>(L), 0.0);
  std::fill_n(c.activation_sparsity.begin(), 10, 0.95);
  c.eos_token_ids = {1, 106};
  c.validate();
  return c;
}

}  // namespace vg::gemma3n
