// videogemma encode: a video through the vision side (frames, CLIP, VideoMamba, optionally the
// projectors), reporting what was chosen and how long each part took.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model_options.h"
#include "models/common/weight_source.h"
#include "vlm/device_choice.h"
#include "vlm/visual_encoder.h"

namespace vg::cli {
namespace {

struct EncodeOptions {
  std::string video;
  std::string clip;
  std::string videomamba;
  std::string image_projector;
  std::string video_projector;
  std::string dump;
  std::string device = "cpu";
  std::string dtype;  // "" = the device's default
  int frames = 8;
  bool reference_sampling = false;
  bool one_direction = false;
  bool json = false;
};

void run_encode(const EncodeOptions& o) {
  const Device device = parse_compute_device(o.device, "encode", "--device");
  const DType dtype = parse_compute_dtype(o.dtype, device, "encode", "--dtype");
  VG_CHECK(o.image_projector.empty() == o.video_projector.empty(), "encode",
           "give both --image-projector and --video-projector, or neither");
  require_device(device);
  clip::LoadOptions clip_options;
  clip_options.dtype = dtype;
  clip_options.device = device;
  clip::Model clip = clip::Model::load(o.clip, clip_options);
  videomamba::LoadOptions vm_options;
  vm_options.dtype = dtype;
  vm_options.device = device;
  vm_options.bidirectional = !o.one_direction;
  videomamba::Model videomamba = videomamba::Model::load(o.videomamba, vm_options);
  std::optional<projector::Etp> image, video;
  if (!o.image_projector.empty()) {
    image = projector::Etp::load_file(o.image_projector, 12, dtype);
    video = projector::Etp::load_file(o.video_projector, 7, dtype);
    image->to(device);
    video->to(device);
  }
  VisualEncoderOptions options;
  options.frames = o.frames;
  options.reference_sampling = o.reference_sampling;
  options.timed_stages = true;  // the seconds it prints are each stage's work
  VisualEncoder encoder(clip, videomamba, image ? &*image : nullptr, video ? &*video : nullptr, options);
  VisualEncoding e = encoder.encode_video(o.video);

  if (!o.dump.empty()) {
    std::map<std::string, Tensor> tensors = {{"clip_features", e.clip_features},
                                             {"videomamba_features", e.videomamba_features}};
    if (e.visual_tokens.defined()) tensors["visual_tokens"] = e.visual_tokens;
    io::save_safetensors(o.dump, tensors, {{"video", o.video}, {"frames", std::to_string(o.frames)}});
  }
  const int64_t tokens = e.visual_tokens.defined() ? e.visual_tokens.size(0) : encoder.tokens_per_clip();
  if (o.json) {
    nlohmann::json doc = {{"frames", e.frame_indices},
                          {"videomamba_frames", e.videomamba_frames},
                          {"clip_features", e.clip_features.shape().to_vector()},
                          {"videomamba_features", e.videomamba_features.shape().to_vector()},
                          {"visual_tokens", tokens},
                          {"seconds", {{"decode", e.decode_seconds},
                                       {"preprocess", e.preprocess_seconds},
                                       {"clip", e.clip_seconds},
                                       {"videomamba", e.videomamba_seconds},
                                       {"project", e.project_seconds}}}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  std::printf("frames sampled     ");
  for (int64_t i : e.frame_indices) std::printf(" %lld", static_cast<long long>(i));
  std::printf("\nVideoMamba frames  ");
  for (int64_t i : e.videomamba_frames) std::printf(" %lld", static_cast<long long>(e.frame_indices[static_cast<size_t>(i)]));
  std::printf("\nCLIP features       %s\nVideoMamba features %s\n", e.clip_features.shape().to_string().c_str(),
              e.videomamba_features.shape().to_string().c_str());
  std::printf("visual tokens       %lld%s\n", static_cast<long long>(tokens),
              e.visual_tokens.defined() ? "" : " (with projectors)");
  std::printf("seconds             decode %.3f, preprocess %.3f, CLIP %.3f, VideoMamba %.3f, projectors %.3f\n",
              e.decode_seconds, e.preprocess_seconds, e.clip_seconds, e.videomamba_seconds, e.project_seconds);
  if (!o.dump.empty()) std::printf("wrote %s\n", o.dump.c_str());
}

}  // namespace

void add_encode_command(CLI::App& app) {
  auto o = std::make_shared<EncodeOptions>();
  CLI::App* cmd = app.add_subcommand("encode", "Run a video through CLIP, VideoMamba and the projectors");
  cmd->add_option("--video", o->video, "video file (or a still image)")->required();
  cmd->add_option("--clip", o->clip, "CLIP vision checkpoint folder (config.json + safetensors)")->required();
  cmd->add_option("--videomamba", o->videomamba, "VideoMamba weights (.pth release or safetensors)")->required();
  cmd->add_option("--frames", o->frames, "frames sampled: 8 (default) or 16")->check(CLI::IsMember({8, 16}));
  cmd->add_flag("--reference-sampling", o->reference_sampling, "the reference's 1-fps / 16-frame rule");
  cmd->add_flag("--one-direction", o->one_direction, "VideoMamba forward direction only (stock mamba behaviour)");
  cmd->add_option("--image-projector", o->image_projector, "image ETP projector (safetensors)");
  cmd->add_option("--video-projector", o->video_projector, "video ETP projector (safetensors)");
  cmd->add_option("--device", o->device, kDeviceHelp);
  cmd->add_option("--dtype", o->dtype, kDtypeHelp);
  cmd->add_option("--dump", o->dump, "write clip_features, videomamba_features (and visual_tokens) here");
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] { run_encode(*o); });
}

}  // namespace vg::cli
