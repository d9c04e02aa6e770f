#include "vlm/visual_encoder.h"

#include <chrono>

#include "media/frame_sampling.h"
#include "media/preprocess.h"
#include "media/video.h"
#include "ops/ops.h"
#include "vlm/frame_selection.h"

namespace vg {
namespace {

constexpr int64_t kVideoMambaFrames = 8;  // VideoMamba's temporal embedding has 8 slots
constexpr int64_t kChunk = 8;             // frames per selection chunk
constexpr int64_t kFramesPerVideoChunk = 4;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A stage's seconds on `device`, waiting for its work first when asked (VisualEncoderOptions).
double stage_seconds(std::chrono::steady_clock::time_point start, Device device, bool wait) {
  if (wait) synchronize(device);
  return seconds_since(start);
}

// Features may come from anywhere (a feature cache keeps them on the host, in the towers' dtype):
// they go to the projector's device, then into its dtype.
Tensor projector_input(const Tensor& features, const projector::Etp& projector) {
  return features.to(projector.device()).to(projector.dtype());
}

}  // namespace

VisualEncoder::VisualEncoder(const clip::Model& clip, const videomamba::Model& videomamba,
                             const projector::Etp* image_projector, const projector::Etp* video_projector,
                             VisualEncoderOptions options)
    : clip_(clip),
      videomamba_(videomamba),
      image_projector_(image_projector),
      video_projector_(video_projector),
      options_(options) {
  VG_CHECK(options_.frames == 8 || options_.frames == 16, "vlm", "frames must be 8 or 16 (VideoMamba sees 8; ",
           "with 16 it sees the top 4 of each chunk of 8), got ", options_.frames);
  VG_CHECK(!options_.reference_sampling || options_.frames == 16, "vlm",
           "the reference's 1-fps sampling takes 16 frames (--frames 16)");
  // Frames are preprocessed to 224 x 224 and the projectors take a 14 x 14 grid of tokens.
  const clip::Config& cc = clip_.config();
  VG_CHECK(cc.image_size == 224 && cc.grid_size() == 14, "vlm", "the CLIP tower takes ", cc.image_size,
           " px images in ", cc.patch_size, " px patches; the video pipeline needs 224 px in 16 px patches (ViT-B/16)");
  const videomamba::Config& vc = videomamba_.config();
  VG_CHECK(vc.img_size == 224 && vc.grid() == 14 && vc.tubelet == 1, "vlm", "VideoMamba takes ", vc.img_size,
           " px frames in ", vc.patch_size, " px patches (tubelet ", vc.tubelet,
           "); the video pipeline needs 224 px in 16 px patches, one frame per patch");
  VG_CHECK((image_projector_ == nullptr) == (video_projector_ == nullptr), "vlm",
           "give both projectors or neither");
  if (image_projector_ != nullptr) {
    VG_CHECK(image_projector_->config().out_features == video_projector_->config().out_features, "vlm",
             "the image and video projectors map to different widths (", image_projector_->config().out_features,
             " and ", video_projector_->config().out_features, ")");
    VG_CHECK(image_projector_->config().in_features == cc.hidden_size &&
                 video_projector_->config().in_features == vc.embed_dim,
             "vlm", "the projectors take ", image_projector_->config().in_features, " (image) and ",
             video_projector_->config().in_features, " (video) features, but CLIP gives ", cc.hidden_size,
             " and VideoMamba ", vc.embed_dim);
  }
}

int64_t VisualEncoder::tokens_per_clip(VisualParts parts) const {
  const int64_t image = image_projector_ != nullptr ? image_projector_->config().output_tokens() : 144;
  const int64_t video = video_projector_ != nullptr ? video_projector_->config().output_tokens() : 49;
  const int64_t image_tokens = options_.frames * image, video_tokens = (kVideoMambaFrames / kFramesPerVideoChunk) * video;
  return parts == VisualParts::ImageOnly ? image_tokens
         : parts == VisualParts::VideoOnly ? video_tokens
                                           : image_tokens + video_tokens;
}

VisualEncoding VisualEncoder::encode_video(const std::string& path, VisualParts parts) const {
  const auto start = std::chrono::steady_clock::now();
  media::VideoReader reader(path);
  std::vector<media::Frame> frames;
  std::vector<int64_t> indices;
  if (reader.info().is_still_image) {
    media::Frame f = reader.read_index(0);
    frames.assign(static_cast<size_t>(options_.frames), f);
    indices.assign(static_cast<size_t>(options_.frames), 0);
  } else if (options_.reference_sampling) {
    indices = media::reference_frame_indices(reader.frame_count(), reader.info().avg_fps);
    frames = reader.read_indices(indices);
  } else {
    // Exact frame indices (the frame-time table costs a pass over the packets, no decoding).
    indices = media::uniform_frame_indices(reader.frame_count(), options_.frames);
    frames = reader.read_indices(indices);
  }
  // A short clip sampled by the reference rule can give fewer than N frames: repeat the last,
  // where the reference pads with zero frames that carry no information either.
  VG_CHECK(!frames.empty(), "vlm", path, ": no frames could be read");
  while (static_cast<int>(frames.size()) < options_.frames) {
    frames.push_back(frames.back());
    indices.push_back(indices.back());
  }
  std::vector<Tensor> rgb;
  for (const media::Frame& f : frames) rgb.push_back(f.rgb);
  const double decode = seconds_since(start);  // [N] frames of [H, W, 3] u8
  VisualEncoding out = encode_frames(rgb, parts);
  out.frame_indices = indices;
  out.still_image = reader.info().is_still_image;
  out.decode_seconds = decode;
  return out;
}

VisualEncoding VisualEncoder::encode_frames(const std::vector<Tensor>& frames, VisualParts parts) const {
  VG_CHECK(static_cast<int>(frames.size()) == options_.frames, "vlm", "expected ", options_.frames, " frames, got ",
           frames.size());
  const auto start = std::chrono::steady_clock::now();
  media::ClipPreprocessOptions clip_pre;
  clip_pre.round_to_f16 = options_.round_pixels_to_f16;
  media::VideoMambaPreprocessOptions vm_pre;
  vm_pre.round_to_f16 = options_.round_pixels_to_f16;
  // Both views of the same N frames: [N, 3, 224, 224] each, normalised differently.
  Tensor clip_pixels = media::preprocess_clip(frames, clip_pre);
  Tensor videomamba_pixels = media::preprocess_videomamba(frames, vm_pre);
  const double preprocess = seconds_since(start);
  VisualEncoding out = encode_pixels(clip_pixels, videomamba_pixels, parts);
  out.preprocess_seconds = preprocess;
  return out;
}

VisualEncoding VisualEncoder::encode_pixels(const Tensor& clip_pixels, const Tensor& videomamba_pixels,
                                            VisualParts parts) const {
  const int64_t n = options_.frames;
  VG_CHECK(clip_pixels.rank() == 4 && clip_pixels.size(0) == n && videomamba_pixels.rank() == 4 &&
               videomamba_pixels.size(0) == n,
           "vlm", "expected the pixels of ", n, " frames as [", n, ", 3, H, W] for both encoders, got ",
           clip_pixels.describe(), " and ", videomamba_pixels.describe());
  NoGradGuard no_grad;
  VisualEncoding out;
  for (int64_t i = 0; i < n; ++i) out.frame_indices.push_back(i);

  // CLIP on every frame: [N, 3, 224, 224] -> [N, 196, Dc]
  auto t0 = std::chrono::steady_clock::now();
  if (parts != VisualParts::VideoOnly || n != kVideoMambaFrames) {
    // Pixels move to the tower's device first and are converted there.
    const Tensor pixels = clip_pixels.to(clip_.device()).to(clip_.dtype());
    out.clip_features = clip_.features(pixels, options_.clip_layer, /*drop_cls=*/true).contiguous();
  }
  out.clip_seconds = stage_seconds(t0, clip_.device(), options_.timed_stages);
  if (parts == VisualParts::ImageOnly) {
    if (image_projector_ != nullptr) out.visual_tokens = project(out.clip_features, Tensor(), parts);
    return out;
  }

  // VideoMamba on 8 frames: all of them, or the attentively selected ones (in time order).
  t0 = std::chrono::steady_clock::now();
  if (n == kVideoMambaFrames) {
    for (int64_t i = 0; i < kVideoMambaFrames; ++i) out.videomamba_frames.push_back(i);
  } else {
    out.videomamba_frames = select_frames(out.clip_features, kChunk, kFramesPerVideoChunk);
  }
  Tensor chosen = index_select(videomamba_pixels, 0, Tensor::from_vector(out.videomamba_frames, {kVideoMambaFrames}));
  Tensor video = chosen.to(videomamba_.device()).to(videomamba_.dtype()).unsqueeze(0);  // [1, 8, 3, H, W]
  out.videomamba_features = videomamba_.features(video).contiguous();  // [8, 196, Dv]
  out.videomamba_seconds = stage_seconds(t0, videomamba_.device(), options_.timed_stages);

  if (image_projector_ != nullptr) {
    t0 = std::chrono::steady_clock::now();
    out.visual_tokens = project(out.clip_features, out.videomamba_features, parts);
    out.project_seconds = stage_seconds(t0, image_projector_->device(), options_.timed_stages);
  }
  return out;
}

Tensor VisualEncoder::project(const Tensor& clip_features, const Tensor& videomamba_features, VisualParts parts) const {
  VG_CHECK(image_projector_ != nullptr, "vlm", "projecting needs the image and video projectors");
  std::vector<Tensor> blocks;
  if (parts != VisualParts::VideoOnly) {
    VG_CHECK(clip_features.defined() && clip_features.rank() == 3 && clip_features.size(1) == 196, "vlm",
             "CLIP features must be [N, 196, D], got ", clip_features.defined() ? clip_features.describe() : "none");
    // Image tokens: [N, 196, Dc] -> [N, 144, H] -> [N * 144, H]
    Tensor image = image_projector_->forward(projector_input(clip_features, *image_projector_));
    blocks.push_back(image.reshape({image.size(0) * image.size(1), image.size(2)}));
  }
  if (parts != VisualParts::ImageOnly) {
    VG_CHECK(videomamba_features.defined() && videomamba_features.rank() == 3 &&
                 videomamba_features.size(0) == kVideoMambaFrames && videomamba_features.size(1) == 196,
             "vlm", "VideoMamba features must be [8, 196, C], got ",
             videomamba_features.defined() ? videomamba_features.describe() : "none");
    // Video tokens: each frame's 14x14 grid averaged 2x2 to 7x7, four frames per chunk, then the
    // video projector, which sees each chunk's 4 x 49 tokens as one 14x14 grid (as the reference).
    const int64_t C = videomamba_features.size(2);
    Tensor v = projector_input(videomamba_features, *video_projector_)
                   .view({kVideoMambaFrames, 14, 14, C})
                   .permute({0, 3, 1, 2});                                                     // [8, C, 14, 14]
    v = adaptive_avg_pool2d(v, {7, 7}).permute({0, 2, 3, 1});                                   // [8, 7, 7, C]
    v = v.reshape({kVideoMambaFrames / kFramesPerVideoChunk, kFramesPerVideoChunk * 49, C});     // [2, 196, C]
    Tensor video = video_projector_->forward(v);                                                  // [2, 49, H]
    blocks.push_back(video.reshape({video.size(0) * video.size(1), video.size(2)}));
  }
  return blocks.size() == 1 ? blocks[0] : concat(blocks, 0);  // [N * 144 + 98, H] for both
}

}  // namespace vg
