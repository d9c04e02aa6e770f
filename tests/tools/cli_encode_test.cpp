// `videogemma encode` end to end: checkpoints written as a user has them (small encoders of the
// real token geometry), a lossless clip, the JSON report and the dumped tensors, and the errors.
#include <gtest/gtest.h>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "media/frame_sampling.h"
#include "media/video_writer.h"
#include "models/common/weight_source.h"
#include "support/cli_runner.h"
#include "support/media_fixtures.h"
#include "support/model_fixtures.h"
#include "support/tensor_testing.h"
#include "vlm/visual_encoder.h"

namespace vg {
namespace {

using testing::CliRun;
using testing::last_json;
using testing::run_cli;

constexpr uint64_t kSeed = 7;
constexpr int64_t kLmWidth = 16;

std::string model_args(const testing::VisionCheckpoints& c, bool projectors = true) {
  std::string args = " --clip " + c.clip_folder + " --videomamba " + c.videomamba;
  if (projectors) args += " --image-projector " + c.image_projector + " --video-projector " + c.video_projector;
  return args;
}

TEST(CliEncode, ReportsFramesAndDumpsTheTokensTheLibraryComputes) {
  if (!media::can_encode(media::VideoCodec::FFV1)) GTEST_SKIP() << "this build cannot write test videos";
  testing::ScratchFolder dir;
  const testing::VisionCheckpoints files = testing::write_small_vision_checkpoints(dir.path().string(), kSeed, kLmWidth);
  const std::string video = dir.file("squat.mkv");
  testing::write_ramp_clip(video, 40, 10.0);
  const std::string dump = dir.file("encoded.safetensors");

  CliRun r = run_cli("encode --video " + video + model_args(files) + " --json --dump " + dump);
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json doc = last_json(r);
  EXPECT_EQ(doc["frames"].get<std::vector<int64_t>>(), media::uniform_frame_indices(40, 8));
  EXPECT_EQ(doc["videomamba_frames"].get<std::vector<int64_t>>(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(doc["clip_features"].get<std::vector<int64_t>>(), (std::vector<int64_t>{8, 196, 32}));
  EXPECT_EQ(doc["visual_tokens"], 1250);
  EXPECT_TRUE(doc["seconds"].contains("videomamba"));

  // The dump holds what the library gives for the same frames (a lossless clip decodes exactly).
  clip::Model clip = clip::Model::load(files.clip_folder);
  videomamba::Model videomamba = videomamba::Model::load(files.videomamba);
  models::CheckpointSource image_source(io::Checkpoint::open(files.image_projector));
  models::CheckpointSource video_source(io::Checkpoint::open(files.video_projector));
  projector::Etp image = projector::Etp::load(image_source, "", projector::EtpConfig::image(32, kLmWidth));
  projector::Etp vid = projector::Etp::load(video_source, "", projector::EtpConfig::video(32, kLmWidth));
  VisualEncoder encoder(clip, videomamba, &image, &vid);
  std::vector<Tensor> frames;
  for (int64_t k : media::uniform_frame_indices(40, 8)) frames.push_back(testing::ramp_frame(k));
  VisualEncoding expected = encoder.encode_frames(frames);
  io::SafetensorsFile dumped = io::SafetensorsFile::open(dump);
  EXPECT_ALL_CLOSE(dumped.get("visual_tokens"), expected.visual_tokens, 0, 0);
  EXPECT_ALL_CLOSE(dumped.get("clip_features"), expected.clip_features, 0, 0);
  EXPECT_ALL_CLOSE(dumped.get("videomamba_features"), expected.videomamba_features, 0, 0);

  CliRun sixteen = run_cli("encode --video " + video + model_args(files) + " --frames 16 --reference-sampling");
  ASSERT_EQ(sixteen.status, 0) << sixteen.output;
  EXPECT_NE(sixteen.output.find("visual tokens       2402"), std::string::npos) << sixteen.output;

  CliRun features = run_cli("encode --video " + video + model_args(files, false));
  ASSERT_EQ(features.status, 0) << features.output;
  EXPECT_NE(features.output.find("CLIP features       [8,196,32]"), std::string::npos) << features.output;
}

TEST(CliEncode, BadInputsAreNamedAndExitNonZero) {
  testing::ScratchFolder dir;
  const testing::VisionCheckpoints files = testing::write_small_vision_checkpoints(dir.path().string(), kSeed, kLmWidth);
  const std::string missing = dir.file("missing.mp4");

  CliRun frames = run_cli("encode --video " + missing + model_args(files) + " --frames 12");
  EXPECT_NE(frames.status, 0);
  EXPECT_NE(frames.output.find("--frames"), std::string::npos) << frames.output;

  CliRun one = run_cli("encode --video " + missing + model_args(files, false) + " --image-projector " +
                       files.image_projector);
  EXPECT_NE(one.status, 0);
  EXPECT_NE(one.output.find("--video-projector"), std::string::npos) << one.output;

  CliRun no_video = run_cli("encode --video " + missing + model_args(files));
  EXPECT_NE(no_video.status, 0);
  EXPECT_NE(no_video.output.find("missing.mp4"), std::string::npos) << no_video.output;

  // A 32 px CLIP (the parity tests' tiny tower) cannot take the pipeline's 224 px frames.
  CliRun small = run_cli("encode --video " + missing + " --clip " + testing::test_data_path("clip/tiny2") +
                         " --videomamba " + files.videomamba);
  EXPECT_NE(small.status, 0);
  EXPECT_NE(small.output.find("224 px"), std::string::npos) << small.output;

  CliRun swapped = run_cli("encode --video " + missing + " --clip " + files.clip_folder + " --videomamba " +
                           files.image_projector);
  EXPECT_NE(swapped.status, 0);
  EXPECT_NE(swapped.output.find("[videomamba]"), std::string::npos) << swapped.output;
}

}  // namespace
}  // namespace vg
