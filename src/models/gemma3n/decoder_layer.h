// One Gemma 3n decoder layer (transformers' Gemma3nTextDecoderLayer), used by model.cpp.
#pragma once

#include <vector>

#include "models/common/linear.h"
#include "models/gemma3n/config.h"
#include "models/gemma3n/kv_cache.h"
#include "models/gemma3n/weights.h"

namespace vg::gemma3n {

struct RopeTables {
  Tensor cos, sin;  // [B, T, 1, head_dim], broadcast over the heads of [B, T, H, head_dim]
};

// What the attention of one layer needs besides its input.
struct AttentionInputs {
  RopeTables rope;  // the tables of this layer's kind
  Tensor valid;     // bool [B, T] for this step's tokens, or undefined (all valid)
  KVCache* cache = nullptr;
};

// Keys and values a layer attends with: its own, or (KV sharing) its producer's.
struct SharedKV {
  Tensor k, v;   // [B, Hkv, S, head_dim]
  Tensor valid;  // bool [B, S] or undefined
};

// streams: N x [B, T, D]; ple: this layer's per-layer input [B, T, P]. A producer fills `kv`
// with the keys and values it attended over; a consumer reads them from `kv`.
std::vector<Tensor> decoder_layer(const Config& config, const LayerWeights& w, int64_t layer,
                                  const std::vector<Tensor>& streams, const Tensor& ple,
                                  const AttentionInputs& attention, SharedKV& kv, const models::LoraSet* lora);

// The multiplier of the Gaussian top-k: the standard normal quantile of `sparsity`, rounded to
// f32 as transformers computes it (1.6448535919 for 0.95).
double sparsity_std_multiplier(double sparsity);

}  // namespace vg::gemma3n
