// Frame preprocessing for the two vision encoders, exactly as the reference pipelines do it
// (specs/mobile-videogpt-reference.md §1.3, specs/vision-encoders.md §A.2 and §B.2):
// - CLIP (HF CLIPImageProcessor, PIL path): shortest side to 224 with Pillow's bicubic, centre
//   crop 224x224, x * (1/255) in float64 rounded to float32, (x - mean) / std in float32;
// - VideoMamba (VideoTrainProcessor.frames2tensor): cv2.resize to 224x224 (bilinear, aspect not
//   kept, no crop), (x / 255 - mean) / std in float64 with the ImageNet statistics.
// Input frames are RGB u8 [H, W, 3]; outputs are f32 [3, S, S] (CHW) or [N, 3, S, S] for a list.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "media/resize.h"

namespace vg::media {

struct ClipPreprocessOptions {
  int64_t shortest_edge = 224;
  int64_t crop_height = 224;
  int64_t crop_width = 224;
  std::array<double, 3> mean = {0.48145466, 0.4578275, 0.40821073};
  std::array<double, 3> std = {0.26862954, 0.26130258, 0.27577711};
  // Round the normalised pixels to fp16, as the reference's `.half()` before the (fp32) tower does.
  bool round_to_f16 = false;
};

struct VideoMambaPreprocessOptions {
  int64_t size = 224;
  std::array<double, 3> mean = {0.485, 0.456, 0.406};
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  // The reference stacks the float64 frames and calls `.half()` (specs/vision-encoders.md §A.2
  // trap): torch converts float64 to fp16 through float32, and so does this.
  bool round_to_f16 = false;
};

// transformers' get_resize_output_image_size(default_to_square=False): the short side becomes
// `shortest_edge`, the long side int(shortest_edge * long / short) (float64 division, truncated).
// Returns {height, width}.
std::pair<int64_t, int64_t> clip_resize_size(int64_t height, int64_t width, int64_t shortest_edge);

// transformers' center_crop: top = (H - h) // 2, left = (W - w) // 2; an image smaller than the
// crop is first centred on zeros (padding ceil((h - H) / 2) above). u8 [H, W, C] -> u8 [h, w, C].
Tensor center_crop(const Tensor& image, int64_t height, int64_t width);

Tensor preprocess_clip(const Tensor& frame, const ClipPreprocessOptions& options = {});
Tensor preprocess_clip(const std::vector<Tensor>& frames, const ClipPreprocessOptions& options = {});

Tensor preprocess_videomamba(const Tensor& frame, const VideoMambaPreprocessOptions& options = {});
Tensor preprocess_videomamba(const std::vector<Tensor>& frames, const VideoMambaPreprocessOptions& options = {});

}  // namespace vg::media
