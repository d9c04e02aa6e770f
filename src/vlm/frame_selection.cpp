#include "vlm/frame_selection.h"

#include <algorithm>
#include <cmath>

#include "ops/ops.h"

namespace vg {

Tensor frame_attention_scores(const Tensor& tokens, int64_t frames) {
  const int64_t n = tokens.size(0), d = tokens.size(1), per_frame = n / frames;
  if (tokens.device().is_cuda()) {
    // The GPU's attention kernels take head dims up to 256, and ViT-B's is 768: the [n, n]
    // scores are formed instead (9.8 MB in f32 at 16 frames x 196 tokens), in f32 whatever the
    // towers' dtype. Column sums of the softmax, summed per frame, are the same scores.
    const Tensor t = tokens.to(DType::F32);
    const Tensor attention = softmax(mul(matmul(t, t.transpose(0, 1)), 1.0 / std::sqrt(static_cast<double>(d))), 1);
    return sum(sum(attention, 0).reshape({frames, per_frame}), 1);  // [frames]
  }
  // Column sums of softmax(t t^T) per frame, without the [n, n] matrix: attention with values
  // that are the one-hot frame indicator of each key gives, per query, the weight on each frame.
  std::vector<double> onehot(static_cast<size_t>(n * frames), 0.0);
  for (int64_t k = 0; k < n; ++k) onehot[static_cast<size_t>(k * frames + k / per_frame)] = 1.0;
  Tensor v = Tensor::from_vector(onehot, {1, 1, n, frames}).to(tokens.dtype());
  Tensor t = tokens.reshape({1, 1, n, d});
  AttentionOptions options;
  options.scale = 1.0 / std::sqrt(static_cast<double>(d));
  Tensor per_query = scaled_dot_product_attention(t, t, v, options);  // [1, 1, n, frames]
  return sum(per_query.reshape({n, frames}), 0);                      // [frames]
}

std::vector<int64_t> select_frames(const Tensor& features, int64_t chunk, int64_t keep) {
  VG_CHECK(features.rank() == 3, "frame_selection", "CLIP features must be [frames, tokens, dim], got ",
           features.describe());
  const int64_t n = features.size(0), l = features.size(1), d = features.size(2);
  VG_CHECK(chunk > 0 && n % chunk == 0, "frame_selection", n, " frames do not split into chunks of ", chunk);
  VG_CHECK(keep > 0 && keep <= chunk, "frame_selection", "cannot keep ", keep, " of ", chunk, " frames per chunk");
  NoGradGuard no_grad;
  std::vector<int64_t> selected;
  for (int64_t c = 0; c < n / chunk; ++c) {
    Tensor tokens = features.narrow(0, c * chunk, chunk).reshape({chunk * l, d});  // [chunk * L, D]
    Tensor scores = frame_attention_scores(tokens, chunk);
    std::vector<int64_t> top = topk(scores, keep).second.to_vector<int64_t>();
    std::sort(top.begin(), top.end());
    for (int64_t f : top) selected.push_back(c * chunk + f);
  }
  return selected;
}

}  // namespace vg
