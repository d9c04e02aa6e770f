// The Gemma 3n text decoder (Gemma3nForCausalLM semantics, specs/gemma3n.md §3): scaled token
// embeddings, per-layer embeddings (PLE), AltUp streams, LAuReL, Gaussian top-k activation
// sparsity, q/k/v norms, RoPE with local and global theta, sliding and global attention, KV
// sharing, and the tied, softcapped output head. Written with the engine's ops, so it runs
// forward, and backward into whatever requires grad (LoRA adapters, or any weight).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/common/linear.h"
#include "models/gemma3n/config.h"
#include "models/gemma3n/kv_cache.h"
#include "models/gemma3n/weights.h"
#include "ops/loss.h"

namespace vg::gemma3n {

struct LoadOptions {
  DType dtype = DType::F32;       // compute dtype for the weights (the PLE table stays as stored)
  Device device = Device::cpu();  // where the weights live and the model computes (the PLE table
                                  // stays on the host)
  MatformerSlice slice;      // MatFormer Mix-n-Match; empty = the model as stored
};

struct ForwardArgs {
  Tensor ids;                      // i64/i32 [B, T]; or undefined when `embeds` is given
  Tensor embeds;                   // [B, T, D] inputs_embeds (text rows already scaled by sqrt(D)); overrides ids
  Tensor ple_ids;                  // [B, T] ids for the per-layer embedding lookup; default `ids`. With embeds
                                   // only and no ple_ids, the PLE token part is left out (as transformers does).
  Tensor ple_tokens;               // [B, T, L * P] per-layer token embeddings already looked up
                                   // (per_layer_token_embeddings), on any device; overrides ple_ids
  Tensor positions;                // i64 [B, T] RoPE positions; default cache length + 0..T-1
  Tensor valid;                    // bool [B, T]: false marks padding tokens (batched prompts); default all valid
  bool checkpoint_layers = false;  // gradient checkpointing of each decoder layer (training)
  // When set, receives each layer's output streams (N x [B, T, D]), for debugging and tests.
  std::vector<std::vector<Tensor>>* layer_streams = nullptr;
};

class Model {
 public:
  // A Hugging Face checkpoint folder (config.json + safetensors, sharded or not).
  static Model load(const std::string& path, const LoadOptions& options = {});
  static Model from_source(const Config& checkpoint_config, const models::WeightSource& source,
                           const LoadOptions& options = {});

  const Config& config() const { return config_; }
  Weights& weights() { return weights_; }
  const Weights& weights() const { return weights_; }
  DType dtype() const { return weights_.embed_tokens.dtype(); }
  // Where the model computes. Inputs (ids, positions, masks, labels) may come from anywhere;
  // they are moved here.
  Device device() const { return weights_.embed_tokens.device(); }

  // Adapters used by every linear layer from now on (nullptr: none). Not owned.
  void set_lora(const models::LoraSet* lora) { lora_ = lora; }
  const models::LoraSet* lora() const { return lora_; }

  // E[ids] * sqrt(D): [B, T] -> [B, T, D]. Ids must be in [0, vocab_size).
  Tensor embed(const Tensor& ids) const;
  // The per-layer token embeddings of ids [B, T], looked up in the host table (ids outside it read
  // row 0): [B, T, L_stored * P] on the host, as stored. forward does this itself from ple_ids; a
  // recorded decode step takes them ready (ForwardArgs::ple_tokens).
  Tensor per_layer_token_embeddings(const Tensor& ids) const;
  // The final hidden states [B, T, D] (after the last norm). With a cache, the tokens continue
  // the cached sequence and their K/V are appended.
  Tensor forward(const ForwardArgs& args, KVCache* cache = nullptr) const;
  // Softcapped logits [..., V] of hidden states [..., D].
  Tensor logits(const Tensor& hidden) const;
  // Next-token loss: position t predicts labels[t + 1] (transformers' shift); -100 is ignored.
  Tensor loss(const Tensor& hidden, const Tensor& labels, Reduction reduction = Reduction::Mean) const;

 private:
  Model() = default;
  Config config_;
  Weights weights_;
  const models::LoraSet* lora_ = nullptr;

  friend class ModelForward;
};

}  // namespace vg::gemma3n
