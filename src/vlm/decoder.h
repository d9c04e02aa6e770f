// The model side of generation: one prefill of a left-padded batch into a fixed-capacity KV
// cache, then one token per row per step. On CUDA the step (embedding, every layer, the logits
// and their argmax) is recorded once as a graph and replayed for every later token: at batch 1
// the host's per-op work (checks, allocation, a launch per kernel) costs more than the GPU's, and
// a replay has none of it.
//
// The cache and the graph are fixed by the batch size and the capacity. A Decoder keeps the last
// ones and reuses them for the next generation of the same batch size that fits, so keep one
// Decoder per model where generation repeats (a server, a benchmark). The graph reads the
// model's weights and LoRA adapters where they were when it was recorded: a Decoder must not
// outlive them, and records anew when the model's adapters (their tensors, scales or training
// mode) change.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/gemma3n/model.h"

namespace vg {

class Decoder {
 public:
  explicit Decoder(const gemma3n::Model& model);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const gemma3n::Model& model() const { return model_; }

  // Starts a generation: the prompt batch args ([B, T], every row's last token at T - 1) into a
  // cache with room for `capacity` tokens per row. Returns the logits of the last position
  // [B, V] on the model's device.
  Tensor prefill(const gemma3n::ForwardArgs& args, int64_t capacity);
  // One token per row (host values, B each): its id, RoPE position, and whether it is real
  // (false: a finished row's padding). Returns the next logits [B, V], overwritten by the next
  // call.
  Tensor step(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
              const std::vector<uint8_t>& valid);
  // The argmax of each row of the last logits (ties: the lowest id), found on the device: greedy
  // decoding without a repetition penalty needs no logits on the host. Throws for a row whose
  // logits are NaN or all -inf.
  std::vector<int32_t> greedy_ids() const;

  // True when steps replay a recorded graph (CUDA, unless VG_CUDA_GRAPHS=0 or the model's
  // adapters are in training mode).
  bool uses_graphs() const;

 private:
  struct Session;
  const gemma3n::Model& model_;
  std::unique_ptr<Session> session_;
};

}  // namespace vg
