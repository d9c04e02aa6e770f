// Attentive frame selection (Mobile-VideoGPT's select_frame_in_chunk, specs/mobile-videogpt-
// reference.md §1.5): the CLIP features of each chunk of frames attend to each other; the frames
// that receive the most attention in total are the ones VideoMamba sees.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace vg {

// clip_features [N, L, D] (N frames of L tokens; N a multiple of chunk). Per chunk of `chunk`
// frames: tokens t = reshape(chunk * L, D), A = softmax(t t^T / sqrt(D)), score[f] = the attention
// all queries give to frame f's keys; the `keep` highest-scoring frames, in ascending order.
// Returns indices into the N frames, chunk by chunk (2 chunks of 8 keeping 4: 8 indices).
std::vector<int64_t> select_frames(const Tensor& clip_features, int64_t chunk = 8, int64_t keep = 4);

// The per-frame scores of one chunk [chunk * L, D] -> [chunk] (exposed for tests).
Tensor frame_attention_scores(const Tensor& chunk_tokens, int64_t frames);

}  // namespace vg
