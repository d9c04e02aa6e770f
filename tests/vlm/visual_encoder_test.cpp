// The vision side end to end against tools/reference/make_visual_goldens.py (CLIP from
// transformers, the reference's frame selection, a pure-PyTorch VideoMamba, the reference's
// pooling and chunking, both ETP projectors), on small models of the real token geometry.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "media/frame_sampling.h"
#include "media/video.h"
#include "media/video_writer.h"
#include "models/common/weight_source.h"
#include "ops/ops.h"
#include "support/media_fixtures.h"
#include "support/model_fixtures.h"
#include "support/seeded_weights.h"
#include "support/tensor_testing.h"
#include "vlm/visual_encoder.h"

namespace vg {
namespace {

constexpr int64_t kLmWidth = 16;
// transformers' eager CLIP attention takes its softmax in float32 even in a float64 model, so the
// reference is float64 only up to ~1e-7 of each tensor's scale (docs/models.md).
constexpr double kTol = 1e-6;
using testing::close_relative;

// make_visual_goldens.py's models: the small encoders of support/model_fixtures.h (real token
// geometry), projectors 32 -> 16.
struct TinyVision {
  clip::Model clip;
  videomamba::Model videomamba;
  projector::Etp image;
  projector::Etp video;
};

TinyVision tiny_vision(uint64_t seed, DType dtype) {
  const clip::Config cc = testing::small_clip_config();
  const videomamba::Config vc = testing::small_videomamba_config();
  models::MapSource clip_source(testing::seeded_clip_weights(cc, seed));
  models::MapSource vm_source(testing::seeded_videomamba_weights(vc, seed, "vision_encoder."));
  const auto image_config = projector::EtpConfig::image(cc.hidden_size, kLmWidth);
  const auto video_config = projector::EtpConfig::video(vc.embed_dim, kLmWidth);
  models::MapSource image_source(testing::seeded_etp_weights(image_config, seed, "image_mm_projector."));
  models::MapSource video_source(testing::seeded_etp_weights(video_config, seed, "mm_projector."));
  clip::LoadOptions clip_options;
  clip_options.dtype = dtype;
  videomamba::LoadOptions vm_options;
  vm_options.dtype = dtype;
  return TinyVision{clip::Model::from_source(cc, clip_source, clip_options),
                    videomamba::Model::from_source(vc, vm_source, vm_options),
                    projector::Etp::load(image_source, "image_mm_projector.", image_config, dtype),
                    projector::Etp::load(video_source, "mm_projector.", video_config, dtype)};
}

struct Golden {
  io::SafetensorsFile file = testing::open_golden("vlm/visual_golden.safetensors");
  uint64_t seed = static_cast<uint64_t>(file.get("base_seed").to_vector<int64_t>()[0]);
  Tensor clip_pixels = testing::seeded_tensor("clip_pixels", {16, 3, 224, 224}, "embedding", seed);
  Tensor videomamba_pixels = testing::seeded_tensor("videomamba_pixels", {16, 3, 224, 224}, "embedding", seed);
};

VisualEncoderOptions frames(int n) {
  VisualEncoderOptions o;
  o.frames = n;
  return o;
}

TEST(VisualEncoder, SixteenFramesMatchTheReferencePipeline) {
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F64);
  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(16));
  EXPECT_EQ(encoder.tokens_per_clip(), 2402);
  VisualEncoding e = encoder.encode_pixels(g.clip_pixels, g.videomamba_pixels);

  EXPECT_EQ(e.videomamba_frames, g.file.get("n16.indices").to_vector<int64_t>());
  ASSERT_EQ(e.clip_features.shape(), Shape({16, 196, 32}));
  ASSERT_EQ(e.videomamba_features.shape(), Shape({8, 196, 32}));
  EXPECT_TRUE(close_relative(sqrt(sum(square(e.clip_features), -1)), g.file.get("n16.clip_norms"), kTol));
  EXPECT_TRUE(close_relative(sqrt(sum(square(e.videomamba_features), -1)), g.file.get("n16.videomamba_norms"), kTol));
  ASSERT_EQ(e.visual_tokens.shape(), Shape({2402, kLmWidth}));
  EXPECT_TRUE(close_relative(e.visual_tokens, g.file.get("n16.tokens"), kTol));
}

TEST(VisualEncoder, EightFramesGiveVideoMambaEveryFrame) {
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F64);
  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(8));
  EXPECT_EQ(encoder.tokens_per_clip(), 1250);
  VisualEncoding e = encoder.encode_pixels(g.clip_pixels.narrow(0, 0, 8), g.videomamba_pixels.narrow(0, 0, 8));
  EXPECT_EQ(e.videomamba_frames, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(close_relative(e.visual_tokens, g.file.get("n8.tokens"), kTol));
}

TEST(VisualEncoder, ProjectionGradientsMatchTheReference) {
  // Training encodes once and projects every step: project() must carry gradients into both
  // projectors exactly as the reference's graph does.
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F64);
  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(16));
  VisualEncoding e = encoder.encode_pixels(g.clip_pixels, g.videomamba_pixels);
  for (projector::Etp* p : {&m.image, &m.video}) {
    for (auto& [name, t] : p->parameters()) t->set_requires_grad(true);
  }
  Tensor tokens = encoder.project(e.clip_features, e.videomamba_features);
  Tensor probe = testing::seeded_tensor("probe", {2402, kLmWidth}, "embedding", g.seed).to(DType::F64);
  sum(mul(tokens, probe)).backward();
  for (auto [tag, p] : {std::pair{"image", &m.image}, std::pair{"video", &m.video}}) {
    for (auto& [name, t] : p->parameters()) {
      ASSERT_TRUE(t->grad().defined()) << tag << "." << name;
      EXPECT_TRUE(close_relative(t->grad(), g.file.get(std::string("n16.g.") + tag + "." + name), kTol))
          << tag << "." << name;
    }
  }
}

TEST(VisualEncoder, OnePartProjectsOnlyItsOwnTokens) {
  // Stages 1 and 2 pretrain one projector: its tokens are exactly its rows of the full projection.
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F64);
  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(16));
  VisualEncoding e = encoder.encode_pixels(g.clip_pixels, g.videomamba_pixels);
  Tensor image = encoder.project(e.clip_features, Tensor(), VisualParts::ImageOnly);
  Tensor video = encoder.project(Tensor(), e.videomamba_features, VisualParts::VideoOnly);
  EXPECT_EQ(image.size(0), encoder.tokens_per_clip(VisualParts::ImageOnly));
  EXPECT_EQ(video.size(0), encoder.tokens_per_clip(VisualParts::VideoOnly));
  EXPECT_ALL_CLOSE(image, e.visual_tokens.narrow(0, 0, 2304), 0, 0);
  EXPECT_ALL_CLOSE(video, e.visual_tokens.narrow(0, 2304, 98), 0, 0);
  // Encoding one part skips the tower the other part needs (at N = 8 nothing else needs it).
  VisualEncoder eight(m.clip, m.videomamba, &m.image, &m.video, frames(8));
  VisualEncoding both = eight.encode_pixels(g.clip_pixels.narrow(0, 0, 8), g.videomamba_pixels.narrow(0, 0, 8));
  VisualEncoding video_only =
      eight.encode_pixels(g.clip_pixels.narrow(0, 0, 8), g.videomamba_pixels.narrow(0, 0, 8), VisualParts::VideoOnly);
  EXPECT_FALSE(video_only.clip_features.defined());
  EXPECT_ALL_CLOSE(video_only.visual_tokens, both.visual_tokens.narrow(0, 1152, 98), 0, 0);
  VisualEncoding image_only =
      eight.encode_pixels(g.clip_pixels.narrow(0, 0, 8), g.videomamba_pixels.narrow(0, 0, 8), VisualParts::ImageOnly);
  EXPECT_FALSE(image_only.videomamba_features.defined());
  EXPECT_ALL_CLOSE(image_only.visual_tokens, both.visual_tokens.narrow(0, 0, 1152), 0, 0);
  // A still image is one frame of CLIP features: 144 tokens.
  EXPECT_EQ(encoder.project(e.clip_features.narrow(0, 0, 1), Tensor(), VisualParts::ImageOnly).size(0), 144);
}

TEST(VisualEncoder, Float32AgreesWithTheFloat64Reference) {
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F32);
  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(16));
  VisualEncoding e = encoder.encode_pixels(g.clip_pixels, g.videomamba_pixels);
  EXPECT_EQ(e.visual_tokens.dtype(), DType::F32);
  EXPECT_EQ(e.videomamba_frames, g.file.get("n16.indices").to_vector<int64_t>());
  EXPECT_ALL_CLOSE(e.visual_tokens.to(DType::F64), g.file.get("n16.tokens"), 1e-4, 1e-4);
}

TEST(VisualEncoder, FeaturesOnlyWithoutProjectors) {
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F64);
  VisualEncoder encoder(m.clip, m.videomamba, nullptr, nullptr, frames(8));
  VisualEncoding e = encoder.encode_pixels(g.clip_pixels.narrow(0, 0, 8), g.videomamba_pixels.narrow(0, 0, 8));
  EXPECT_FALSE(e.visual_tokens.defined());
  EXPECT_EQ(e.clip_features.shape(), Shape({8, 196, 32}));
  testing::expect_error([&] { encoder.project(e.clip_features, e.videomamba_features); },
                        {"[vlm]", "projectors"});
}

TEST(VisualEncoder, RejectsBadSettingsAndInputs) {
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F64);
  testing::expect_error([&] { VisualEncoder(m.clip, m.videomamba, &m.image, &m.video, frames(12)); },
                        {"[vlm]", "8 or 16", "12"});
  VisualEncoderOptions reference = frames(8);
  reference.reference_sampling = true;
  testing::expect_error([&] { VisualEncoder(m.clip, m.videomamba, &m.image, &m.video, reference); },
                        {"[vlm]", "16"});
  testing::expect_error([&] { VisualEncoder(m.clip, m.videomamba, &m.image, nullptr); }, {"[vlm]", "both"});

  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(16));
  testing::expect_error([&] { encoder.encode_pixels(g.clip_pixels.narrow(0, 0, 8), g.videomamba_pixels); },
                        {"[vlm]", "16 frames"});
  testing::expect_error([&] { encoder.encode_frames({}); }, {"[vlm]", "expected 16 frames, got 0"});
  testing::expect_error([&] { encoder.project(zeros({16, 196, 32}, DType::F64), zeros({4, 196, 32}, DType::F64)); },
                        {"[vlm]", "[8, 196, C]"});
  testing::expect_error([&] { encoder.project(Tensor(), zeros({8, 196, 32}, DType::F64)); }, {"[vlm]", "CLIP features"});
}

#if VG_HAVE_MEDIA

using testing::ramp_frame;
using testing::ScratchFolder;

TEST(VisualEncoderVideo, EncodesAFileAsItsDecodedFrames) {
  if (!media::can_encode(media::VideoCodec::FFV1)) GTEST_SKIP() << "this FFmpeg cannot write FFV1";
  ScratchFolder dir;
  const std::string path = dir.file("clip.mkv");
  testing::write_ramp_clip(path, 40, 10.0);
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F32);

  // Uniform sampling: 8 frames at the centres of 8 equal segments of the 4-second clip.
  VisualEncoder uniform(m.clip, m.videomamba, &m.image, &m.video, frames(8));
  VisualEncoding e = uniform.encode_video(path);
  EXPECT_EQ(e.frame_indices, media::uniform_frame_indices(40, 8));
  std::vector<Tensor> expected_frames;
  for (int64_t k : e.frame_indices) expected_frames.push_back(ramp_frame(k));
  VisualEncoding direct = uniform.encode_frames(expected_frames);  // lossless codec: the same pixels
  EXPECT_ALL_CLOSE(e.visual_tokens, direct.visual_tokens, 0, 0);
  EXPECT_EQ(e.visual_tokens.shape(), Shape({1250, kLmWidth}));

  // The reference's rule at 10 fps keeps one frame a second: 4 frames, repeated up to 16.
  VisualEncoderOptions reference = frames(16);
  reference.reference_sampling = true;
  VisualEncoder by_reference(m.clip, m.videomamba, &m.image, &m.video, reference);
  VisualEncoding r = by_reference.encode_video(path);
  std::vector<int64_t> want = media::reference_frame_indices(40, 10.0);
  ASSERT_EQ(r.frame_indices.size(), 16u);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), r.frame_indices.begin()));
  EXPECT_EQ(r.visual_tokens.shape(), Shape({2402, kLmWidth}));
}

TEST(VisualEncoderVideo, AStillImageIsRepeatedAndABadFileIsNamed) {
  ScratchFolder dir;
  const std::string image = dir.file("still.png");
  media::write_image(image, ramp_frame(3));
  Golden g;
  TinyVision m = tiny_vision(g.seed, DType::F32);
  VisualEncoder encoder(m.clip, m.videomamba, &m.image, &m.video, frames(8));
  VisualEncoding e = encoder.encode_video(image);
  EXPECT_EQ(e.frame_indices, std::vector<int64_t>(8, 0));
  for (int64_t i = 1; i < 8; ++i) {  // equal up to the rounding of a row's place in a batched product
    EXPECT_ALL_CLOSE(e.clip_features.select(0, i), e.clip_features.select(0, 0), 1e-5, 1e-5);
  }
  const std::string junk = dir.file("junk.mp4");
  {
    std::FILE* f = std::fopen(junk.c_str(), "wb");
    std::fputs("this is not a video", f);
    std::fclose(f);
  }
  testing::expect_error([&] { encoder.encode_video(junk); }, {"[media]", "junk.mp4"});
  testing::expect_error([&] { encoder.encode_video(dir.file("missing.mp4")); }, {"[media]", "missing.mp4"});
}

#endif  // VG_HAVE_MEDIA

}  // namespace
}  // namespace vg
