// The decode-time KV cache of Gemma 3n. Only layers that compute their own K/V (the first
// L - num_kv_shared_layers) own an entry; consumer layers attend with their producer's entry.
// Inference only: no autograd. Two layouts:
//
// - Growing (KVCache(config, batch)): takes tokens in chunks of any size. Sliding-window layers
//   keep only the keys a future query can still see (window - 1 of them, plus slack so trimming
//   is amortised). Entries grow by doubling.
// - Fixed (KVCache(config, batch, capacity, ...)): buffers for `capacity` tokens made once, a
//   sliding layer's as a ring of its window. It takes one prompt into an empty cache, then one
//   token per step, written at a slot read from device memory. A decode step then has the same
//   shapes and addresses every time, so it can be recorded in a graph (vlm/decoder.h). A step
//   attends over the whole buffer with the validity mask hiding unwritten slots; the ring holds
//   keys out of order, which attention, given the mask, does not mind.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "models/gemma3n/config.h"

namespace vg::gemma3n {

class KVCache {
 public:
  KVCache(const Config& config, int64_t batch);
  KVCache(const Config& config, int64_t batch, int64_t capacity, DType dtype, Device device);

  int64_t batch() const { return batch_; }
  // Tokens processed so far: the cache position of the next token.
  int64_t length() const { return length_; }
  bool fixed() const { return capacity_ > 0; }
  int64_t capacity() const { return capacity_; }

  struct View {
    Tensor k, v;   // [B, Hkv, S, hd] the keys and values to attend over
    Tensor valid;  // bool [B, S]: false for padding positions (and unwritten fixed slots)
  };
  // Fixed layout: uploads the slots the next `tokens` tokens go to (the forward calls it; a
  // graph's owner calls it before recording and before each replay). No-op when already done
  // for this position, and for the growing layout.
  void prepare(int64_t tokens);
  // Fixed layout: writes the prepared tokens' validity (bool [B, T], undefined for all valid)
  // into the buffer the entries of each ring size share. The forward calls it once a step, after
  // prepare and before the layers append. No-op for the growing layout.
  void write_validity(const Tensor& valid);
  // Appends this step's k/v [B, Hkv, T, hd] (valid: bool [B, T] or undefined for all valid) to
  // the entry of producer `layer`, and returns everything that layer's queries attend over.
  // (A fixed cache keeps `valid` only for a prompt's own view; its buffers take write_validity's.)
  View append(int64_t layer, const Tensor& k, const Tensor& v, const Tensor& valid);
  // The entry of producer `layer` as last returned by append (for KV-consumer layers).
  View view(int64_t layer) const;
  // Ends a forward of `tokens` tokens: advances the position and trims sliding entries.
  void advance(int64_t tokens);
  // Forgets every token (a fixed cache keeps its buffers, and so any graph recorded on them).
  void clear();

 private:
  struct Entry {
    Tensor k, v, valid;  // buffers [B, Hkv, capacity, hd] and [B, capacity] (fixed: shared per ring)
    int64_t len = 0;     // growing layout: tokens held
    int64_t window = 0;  // 0: keep everything
    View attended;       // fixed layout: what the last append returned
  };
  // Fixed layout: the slots of the tokens being appended, per ring size (a sliding layer's
  // window, or the capacity). A one-token step writes into `step` (an address graphs keep).
  struct Slots {
    int64_t ring = 0;
    Tensor step;     // i64 [1] on the device
    Tensor current;  // the slots of the prepared tokens: `step`, or a prompt's [kept]
    Tensor valid;    // bool [B, ring]: the validity buffer of every entry of this ring
  };
  void reserve(Entry& e, int64_t needed, const Tensor& like);
  View append_fixed(Entry& e, const Tensor& k, const Tensor& v, const Tensor& valid);
  Slots& slots_of(int64_t ring);

  int64_t batch_;
  int64_t length_ = 0;
  int64_t capacity_ = 0;
  std::vector<Entry> entries_;  // indexed by layer; empty for consumers
  std::vector<Slots> slots_;
  int64_t prepared_tokens_ = 0, prepared_at_ = -1;
};

}  // namespace vg::gemma3n
