// From a clip to visual tokens (design.md §4, specs/mobile-videogpt-reference.md §1.2-1.8):
// N frames (8 by default, or 16 with the reference's 1-fps rule) -> CLIP on every frame (layer -2,
// CLS dropped: [N, 196, 768]) and VideoMamba on 8 frames (all of them when N = 8, the top 4 of
// each chunk of 8 by CLIP attention when N = 16: [8, 196, C]) -> the image ETP on the CLIP
// features ([N, 144, H]) and, after a 2x2 average pool of each VideoMamba frame to 7x7 and
// grouping 4 frames per chunk, the video ETP ([2, 49, H]) -> N * 144 + 98 tokens of width H,
// CLIP tokens first (frames in time order), then the two VideoMamba chunks.
#pragma once

#include <string>
#include <vector>

#include "models/clip/model.h"
#include "models/projector/etp.h"
#include "models/videomamba/model.h"

namespace vg {

// Which visual tokens a model sees: both kinds (stage 3 and inference), or one kind while its
// projector is pretrained alone (stage 1: VideoMamba tokens; stage 2: CLIP tokens).
enum class VisualParts { Both, ImageOnly, VideoOnly };

struct VisualEncoderOptions {
  int frames = 8;                 // N: 8, or 16 for the Mobile-VideoGPT setting
  bool reference_sampling = false;  // the reference's 1-fps / 16-frame rule instead of uniform frames
  int clip_layer = -2;            // CLIP hidden state taken (transformers' indexing)
  bool round_pixels_to_f16 = false;  // as the reference's .half() before fp32 towers
  // Wait for the device after each stage, so that the *_seconds of a GPU encoding measure each
  // stage's work rather than the host's enqueueing of it. Off by default: in a serving or training
  // pipeline the host enqueues the next stage while the device works.
  bool timed_stages = false;
};

struct VisualEncoding {
  std::vector<int64_t> frame_indices;      // frames of the video that were sampled (N)
  bool still_image = false;                // the input was one picture, repeated to N frames
  std::vector<int64_t> videomamba_frames;  // which of those N VideoMamba saw (8), in order
  Tensor clip_features;                    // [N, 196, Dc] (Dc = 768 for ViT-B/16)
  Tensor videomamba_features;              // [8, 196, Dv] (Dv = 576 for VideoMamba-M), before pooling
  Tensor visual_tokens;                    // [N * 144 + 98, H] when both projectors are set
  // Host wall time of each stage; the towers' and projectors' only with options.timed_stages on a GPU.
  double decode_seconds = 0, preprocess_seconds = 0, clip_seconds = 0, videomamba_seconds = 0, project_seconds = 0;
};

// The encoders and projectors are borrowed, not owned; the projectors may be null (features only).
class VisualEncoder {
 public:
  VisualEncoder(const clip::Model& clip, const videomamba::Model& videomamba, const projector::Etp* image_projector,
                const projector::Etp* video_projector, VisualEncoderOptions options = {});

  const VisualEncoderOptions& options() const { return options_; }
  // Where the towers compute, and in which dtype (their features come out in it).
  Device device() const { return clip_.device(); }
  DType dtype() const { return clip_.dtype(); }
  // Visual tokens per clip: N * 144 + 98 (1250 at N = 8, 2402 at N = 16); N * 144 or 98 for one part.
  int64_t tokens_per_clip(VisualParts parts = VisualParts::Both) const;

  // Decodes, samples and encodes a video file (or a still image, repeated to N frames). With one
  // part, the other tower is skipped where it is not needed (CLIP still selects VideoMamba's
  // frames at N = 16), and its features stay undefined.
  VisualEncoding encode_video(const std::string& path, VisualParts parts = VisualParts::Both) const;
  // Encodes N already sampled RGB frames, u8 [H, W, 3] each.
  VisualEncoding encode_frames(const std::vector<Tensor>& frames, VisualParts parts = VisualParts::Both) const;
  // Encodes N frames already preprocessed for each encoder (media::preprocess_clip and
  // media::preprocess_videomamba): [N, 3, 224, 224] each, any floating dtype.
  VisualEncoding encode_pixels(const Tensor& clip_pixels, const Tensor& videomamba_pixels,
                               VisualParts parts = VisualParts::Both) const;
  // The projection alone, differentiable: CLIP features [N, 196, Dc] and VideoMamba features
  // [8, 196, Dv] -> [N * 144 + 98, H] (training runs the encoders once and projects every step).
  // Features on any device and of any floating dtype are moved to the projectors' and converted
  // to theirs; the tokens come out in the projectors' dtype, on their device.
  // With one part, only that part's features are needed (the other may be undefined); the CLIP
  // part takes any number of frames (1 for a still image).
  Tensor project(const Tensor& clip_features, const Tensor& videomamba_features,
                 VisualParts parts = VisualParts::Both) const;

 private:
  const clip::Model& clip_;
  const videomamba::Model& videomamba_;
  const projector::Etp* image_projector_;
  const projector::Etp* video_projector_;
  VisualEncoderOptions options_;
};

}  // namespace vg
