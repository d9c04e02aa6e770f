#include "models/videomamba/model.h"

#include "io/pth.h"
#include "models/common/open_weights.h"

#include "io/checkpoint.h"
#include "ops/ops.h"

namespace vg::videomamba {
namespace {

constexpr const char* kComponent = "videomamba";

// One block, pre-norm form of Add -> RMSNorm -> Mixer (§A.4): r + Mixer(RMSNorm(r)).
Tensor block(const Config& c, const LayerWeights& w, const Tensor& residual, const models::LoraSet* lora) {
  Tensor normed = rms_norm(residual, w.norm, c.norm_eps);         // [B, L, C]
  return add(residual, mixer_forward(c, w.mixer, normed, lora));  // [B, L, C]
}

}  // namespace

Model Model::load(const std::string& path, const LoadOptions& options) {
  // The official release is a torch.save file that may carry training metadata (an argparse
  // Namespace, say): open_weights keeps such objects opaque, never executed.
  return from_source(*models::open_weights(path), options);
}

Model Model::from_source(const models::WeightSource& source, const LoadOptions& options) {
  return from_source(Config::infer(source), source, options);
}

Model Model::from_source(const Config& config, const models::WeightSource& source, const LoadOptions& options) {
  VG_CHECK(is_floating(options.dtype), kComponent, "the compute dtype must be floating, got ", options.dtype);
  Model m;
  m.config_ = config;
  if (!m.config_.weight_prefix.has_value()) m.config_.weight_prefix = detect_prefix(source);
  m.config_.bidirectional = config.bidirectional && options.bidirectional;
  if (options.num_frames > 0) m.config_.num_frames = options.num_frames;
  m.config_.validate();
  m.weights_ = load_weights(source, m.config_, options.dtype, options.device);
  return m;
}

void Model::check_video(const Tensor& video) const {
  const Config& c = config_;
  VG_CHECK(video.defined(), kComponent, "forward needs a video");
  VG_CHECK(video.rank() == 5, kComponent, "the video must be [B, T, ", c.channels, ", ", c.img_size, ", ", c.img_size,
           "] (frames stacked as the VLM does), got ", video.describe());
  const int64_t T = video.size(1);
  VG_CHECK(video.size(2) == c.channels, kComponent, "the video has ", video.size(2), " channels per frame, expected ",
           c.channels, " (layout [B, T, C, H, W]), got ", video.describe());
  VG_CHECK(video.size(3) == c.img_size && video.size(4) == c.img_size, kComponent, "frames are ", video.size(3), "x",
           video.size(4), " but the encoder takes ", c.img_size, "x", c.img_size, " (resize first), got ",
           video.describe());
  VG_CHECK(video.size(0) > 0 && T > 0, kComponent, "the video is empty: ", video.describe());
  VG_CHECK(video.dtype() == dtype(), kComponent, "the video is ", video.dtype(), " but the encoder computes in ",
           dtype());
  if (T > 1) {
    VG_CHECK(T % c.tubelet == 0, kComponent, T, " frames are not a multiple of the tubelet size ", c.tubelet);
    VG_CHECK(T <= c.num_frames, kComponent, "the video has ", T, " frames but the temporal embedding covers ",
             c.num_frames, " (load with LoadOptions::num_frames to interpolate it, as upstream does)");
  } else {
    VG_CHECK(c.tubelet == 1, kComponent, "a single image needs tubelet size 1, the encoder has ", c.tubelet);
  }
}

Tensor Model::embed(const Tensor& video) const {
  check_video(video);
  const Config& c = config_;
  const Weights& w = weights_;
  const int64_t B = video.size(0), T = video.size(1), C = c.embed_dim, Np = c.patches_per_frame();
  const int64_t frames = T / c.tubelet;  // T'
  const int64_t k = c.tubelet, p = c.patch_size;
  Tensor x = video.to(device()).permute({0, 2, 1, 3, 4});                  // [B, 3, T, H, W]
  Tensor patches = conv3d(x, w.patch_weight, w.patch_bias, {k, p, p});     // [B, C, T', g, g]
  patches = patches.permute({0, 2, 3, 4, 1}).reshape({B, frames, Np, C});  // [B, T', N_p, C], n = row * g + col
  patches = add(patches, w.pos_embed.slice(1, 1, 1 + Np).unsqueeze(0));    // + pos_embed[1:], [B, T', N_p, C]
  if (T > 1) {
    // Temporal embedding: frame t' gets row t'; the cls token gets none.
    patches = add(patches, w.temporal_pos_embed.slice(1, 0, frames).unsqueeze(2));  // [B, T', N_p, C]
  }
  // cls_token + pos_embed[:, 0] computed once (not the (b t)-row trick of upstream, §A.3).
  Tensor cls = add(w.cls_token, w.pos_embed.slice(1, 0, 1)).expand({B, 1, C});  // [B, 1, C]
  return concat({cls, patches.reshape({B, frames * Np, C})}, 1);                // [B, L, C], spatial-first
}

Tensor Model::forward(const Tensor& video) const {
  ForwardArgs args;
  args.video = video;
  return forward(args);
}

Tensor Model::forward(const ForwardArgs& args) const {
  const Config& c = config_;
  Tensor residual = embed(args.video);  // [B, L, C]
  for (int64_t i = 0; i < c.depth; ++i) {
    const LayerWeights& lw = weights_.layers[static_cast<size_t>(i)];
    if (args.checkpoint_layers) {
      // Runs again during backward, after this function returned: capture by value only.
      const models::LoraSet* lora = lora_;
      auto fn = [&c, &lw, lora](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{block(c, lw, in[0], lora)};
      };
      residual = autograd::checkpoint(fn, {residual})[0];  // [B, L, C]
    } else {
      residual = block(c, lw, residual, lora_);  // [B, L, C]
    }
    if (args.layer_residuals != nullptr) args.layer_residuals->push_back(residual);
  }
  return rms_norm(residual, weights_.final_norm, c.norm_eps);  // x_vis [B, L, C]
}

Tensor Model::features_of(const Tensor& x_vis) const {
  const int64_t Np = config_.patches_per_frame(), C = config_.embed_dim;
  VG_CHECK(x_vis.rank() == 3 && x_vis.size(2) == C && x_vis.size(1) >= 1 && (x_vis.size(1) - 1) % Np == 0, kComponent,
           "x_vis must be [B, 1 + T' * ", Np, ", ", C, "], got ", x_vis.describe());
  const int64_t B = x_vis.size(0), frames = (x_vis.size(1) - 1) / Np;
  // Drop cls, one row per frame: '(b) (t l) d -> (b t) l d'.
  return x_vis.slice(1, 1, x_vis.size(1)).reshape({B * frames, Np, C});  // [B * T', N_p, C]
}

Tensor Model::features(const Tensor& video) const { return features_of(forward(video)); }

}  // namespace vg::videomamba
