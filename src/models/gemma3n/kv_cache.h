// The decode-time KV cache of Gemma 3n. Only layers that compute their own K/V (the first
// L - num_kv_shared_layers) own an entry; consumer layers attend with their producer's entry.
// Sliding-window layers keep only the keys a future query can still see (window - 1 of them,
// plus slack so trimming is amortised). Entries grow by doubling. Inference only: no autograd.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "models/gemma3n/config.h"

namespace vg::gemma3n {

class KVCache {
 public:
  KVCache(const Config& config, int64_t batch);

  int64_t batch() const { return batch_; }
  // Tokens processed so far: the cache position of the next token.
  int64_t length() const { return length_; }

  struct View {
    Tensor k, v;   // [B, Hkv, S, hd] views over the cached keys and values, oldest first
    Tensor valid;  // bool [B, S]: false for padding positions
  };
  // Appends this step's k/v [B, Hkv, T, hd] (valid: bool [B, T] or undefined for all valid) to
  // the entry of producer `layer`, and returns everything that layer's queries attend over.
  View append(int64_t layer, const Tensor& k, const Tensor& v, const Tensor& valid);
  // The entry of producer `layer` as last returned by append (for KV-consumer layers).
  View view(int64_t layer) const;
  // Ends a forward of `tokens` tokens: advances the position and trims sliding entries.
  void advance(int64_t tokens);
  void clear();

 private:
  struct Entry {
    Tensor k, v, valid;  // buffers [B, Hkv, capacity, hd] and [B, capacity]
    int64_t len = 0;
    int64_t window = 0;  // 0: keep everything
  };
  void reserve(Entry& e, int64_t needed, const Tensor& like);

  int64_t batch_;
  int64_t length_ = 0;
  std::vector<Entry> entries_;  // indexed by layer; empty for consumers
};

}  // namespace vg::gemma3n
