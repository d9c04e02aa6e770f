// Gemma 3n text decoders created from nothing: the tensors of a Gemma3nForCausalLM text
// checkpoint with transformers' initialisation (Gemma3nPreTrainedModel._init_weights), small
// configurations of the real architecture for demos and tests, and saving as a checkpoint folder
// that Model::load (and transformers) reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor.h"
#include "models/common/checkpoint_writer.h"
#include "models/gemma3n/config.h"

namespace vg::gemma3n {

// transformers' Gemma3nTextConfig.initializer_range, the std of every Linear and Embedding weight.
constexpr double kInitializerRange = 0.02;

// Every tensor weights.cpp reads, named as transformers 5 saves a Gemma3nForCausalLM text model
// (under config.weight_prefix, "model."; no lm_head, which is tied to embed_tokens; no k_proj,
// v_proj or k_norm in the KV-consumer layers, which transformers 5 does not create), initialised
// as Gemma3nPreTrainedModel._init_weights does (transformers 5, modeling_gemma3n.py, on top of
// PreTrainedModel._init_weights in modeling_utils.py):
//   - nn.Linear weights (attention, MLP, LAuReL, the per-layer gate and projections, the AltUp
//     projections and coefficient layers, the modality router): normal(0, 0.02);
//   - nn.Embedding (embed_tokens and embed_tokens_per_layer, both Gemma3nTextScaledWordEmbedding
//     with padding_idx = pad_token_id): normal(0, 0.02), then the padding row zero;
//   - Gemma3nRMSNorm weights (which multiply plainly, not as 1 + w): ones;
//   - altup.correct_output_scale: zeros.
// Each tensor comes from its own Philox stream keyed by (seed, name) (models/common/weight_init.h):
// deterministic for a seed on any thread count. Tensors are made in `dtype` (f32, bf16, f16 or
// f64) without an f64 copy of the large tables, so E2B sizes need only their own memory.
std::map<std::string, Tensor> initial_weights(const Config& config, uint64_t seed, DType dtype = DType::F32);

// Number of values initial_weights(config) holds.
int64_t initial_parameter_count(const Config& config);

// Writes config.to_json() (plus the weights' "dtype") and the weights as model.safetensors, or
// as shards with model.safetensors.index.json above max_shard_bytes, into `folder`; every file
// atomically. Checks first that `weights` has every tensor the config needs, with its shape.
void save_checkpoint(const std::string& folder, const Config& config, const std::map<std::string, Tensor>& weights,
                     int64_t max_shard_bytes = models::kDefaultMaxShardBytes);

// A tiny model of the real architecture with every feature on, for demos and tests: hidden 64,
// 4 query and 2 KV heads of 16, MLP 256, 8 layers (sliding, sliding, sliding, full, sliding,
// sliding, sliding, full; window 128), the last 3 layers sharing K/V (two sliding consumers and a
// full one), Gaussian top-k sparsity 0.95 on the first 2 layers, AltUp with 4 streams, LAuReL
// rank 8, per-layer inputs of 16, the final softcap of 30 and Gemma's RoPE thetas. The per-layer
// table covers min(vocab_size, 262144) tokens, as Gemma's (262400 tokens, 262144 with per-layer
// embeddings). With vocab_size 262400: 50,891,680 parameters (204 MB in f32), of which 50,348,032
// are the two embedding tables (count_parameters says 50,904,016: it counts the consumers' k/v).
Config tiny_config(int64_t vocab_size);

// Gemma 3n E2B's text decoder as released (specs/gemma3n.md §1): 30 layers of width 2048, FFN
// 8192, 8 query and 2 KV heads of 256, four sliding layers (window 512) per full one, the last
// 10 sharing K/V, Gaussian top-k 0.95 on the first 10, vocabulary 262,400 (per-layer table
// 262,144). 4,456,156,768 parameters with the consumers' k/v counted (count_parameters).
Config e2b_text_config();

}  // namespace vg::gemma3n
