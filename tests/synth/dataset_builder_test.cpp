// The synthetic dataset on disk: clips decode to what the renderer drew, annotations load through
// the dataset loader, the same seed gives the same dataset, and bad options are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "data/qved.h"
#include "data/registry.h"
#include "data/synth/dataset_builder.h"
#include "media/video.h"
#include "media/video_writer.h"
#include "support/media_fixtures.h"

namespace vg::synth {
namespace {

namespace fs = std::filesystem;
using testing::ScratchFolder;

bool can_write_video() { return media::can_encode(media::VideoCodec::MPEG4) || media::can_encode(media::VideoCodec::H264); }

// Peak signal-to-noise ratio of two u8 pictures of one shape, in dB.
double psnr(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const uint8_t* pa = a.data<uint8_t>();
  const uint8_t* pb = b.data<uint8_t>();
  double squared = 0;
  for (int64_t i = 0; i < a.numel(); ++i) squared += (pa[i] - pb[i]) * static_cast<double>(pa[i] - pb[i]);
  const double mse = squared / static_cast<double>(a.numel());
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

ClipOptions small_clips() {
  ClipOptions o;
  o.width = 128;
  o.height = 96;
  o.fps = 15;
  o.min_seconds = 2;
  o.max_seconds = 2;
  return o;
}

SynthOptions small_dataset(const std::string& out, int64_t clips, uint64_t seed) {
  SynthOptions o;
  o.out = out;
  o.clips = clips;
  o.seed = seed;
  o.clip = small_clips();
  o.threads = 2;
  return o;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SynthDataset, ADecodedClipShowsWhatTheRendererDrew) {
  if (!can_write_video()) GTEST_SKIP() << "this build has no video encoder";
  ScratchFolder folder;
  const ClipSpec spec = random_clip(7, 3, small_clips());
  const std::string path = folder.file("clip.mp4");
  ASSERT_GT(write_clip(spec, path, media::VideoCodec::Auto), 0);

  media::VideoReader reader(path);
  ASSERT_EQ(reader.frame_count(), spec.frame_count());
  EXPECT_EQ(reader.info().width, spec.camera.width);
  EXPECT_EQ(reader.info().height, spec.camera.height);
  EXPECT_NEAR(reader.info().avg_fps, spec.fps, 1e-6);

  // Every decoded frame is its own rendered frame up to codec loss, and clearly not another
  // clip's frame (the control shows the measure can tell pictures apart).
  const Renderer renderer(spec.camera, spec.look, spec.body);
  const ClipSpec other = random_clip(7, 4, small_clips());
  const Renderer other_renderer(other.camera, other.look, other.body);
  for (int64_t f : {int64_t{0}, spec.frame_count() / 2, spec.frame_count() - 1}) {
    const Tensor drawn = renderer.render(pose_at(spec.motion, spec.body, static_cast<double>(f) / spec.fps), f);
    const Tensor decoded = reader.read_index(f).rgb;
    const Tensor elsewhere =
        other_renderer.render(pose_at(other.motion, other.body, static_cast<double>(f) / other.fps), f);
    EXPECT_GT(psnr(decoded, drawn), 28.0) << "frame " << f;
    EXPECT_LT(psnr(decoded, elsewhere), 20.0) << "frame " << f;
  }
}

TEST(SynthDataset, AnnotationsLoadThroughTheDatasetLoaderAndPointAtRealClips) {
  if (!can_write_video()) GTEST_SKIP() << "this build has no video encoder";
  ScratchFolder folder;
  const std::string out = folder.file("synth");
  const SynthSummary summary = build_synthetic_dataset(small_dataset(out, 10, 3));
  EXPECT_EQ(summary.clips, 10);
  EXPECT_EQ(summary.train + summary.val + summary.test, 10);
  EXPECT_EQ(summary.train, 6);  // 60/20/20
  EXPECT_EQ(summary.val, 2);
  EXPECT_EQ(summary.test, 2);

  std::set<std::string> videos;
  for (const char* name : {"QVED_TRAIN", "QVED_VAL", "QVED_TEST"}) {
    const data::Dataset set = data::load_dataset(name, summary.registry);
    for (const data::Record& r : set.records) {
      EXPECT_EQ(r.prompt(), data::kQvedPrompt);
      const auto [exercise, feedback] = data::split_answer(r.answer());
      EXPECT_FALSE(exercise.empty());
      EXPECT_FALSE(feedback.empty());
      EXPECT_TRUE(fs::exists(r.media_path)) << r.media_path;
      EXPECT_EQ(media::probe_video(r.media_path).width, 128);
      videos.insert(r.video);
    }
  }
  EXPECT_EQ(videos.size(), 10u);  // every clip in exactly one split

  // Pretraining: one video caption and one still-image caption per clip, media on disk.
  const data::Dataset captions = data::load_dataset("PRETRAINING", summary.registry);
  ASSERT_EQ(captions.records.size(), 20u);
  int images = 0;
  for (const data::Record& r : captions.records) {
    EXPECT_TRUE(fs::exists(r.media_path)) << r.media_path;
    EXPECT_GT(r.answer().size(), 20u);
    images += r.image.empty() ? 0 : 1;
  }
  EXPECT_EQ(images, 10);
}

TEST(SynthDataset, TheSameSeedGivesTheSameDatasetAndAnotherSeedAnother) {
  if (!can_write_video()) GTEST_SKIP() << "this build has no video encoder";
  ScratchFolder folder;
  build_synthetic_dataset(small_dataset(folder.file("a"), 4, 11));
  build_synthetic_dataset(small_dataset(folder.file("b"), 4, 11));
  build_synthetic_dataset(small_dataset(folder.file("c"), 4, 12));
  for (const char* file : {"synth_labels.json", "qved_train.json", "pretraining/video_captions.json"}) {
    EXPECT_EQ(read_text(folder.path() / "a" / file), read_text(folder.path() / "b" / file)) << file;
  }
  EXPECT_NE(read_text(folder.path() / "a" / "synth_labels.json"), read_text(folder.path() / "c" / "synth_labels.json"));
}

// The error of `options`, or "" when it builds.
std::string error_of(const SynthOptions& options) {
  try {
    build_synthetic_dataset(options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SynthDataset, BadOptionsAreClearErrors) {
  ScratchFolder folder;
  SynthOptions none = small_dataset(folder.file("x"), 0, 0);
  EXPECT_NE(error_of(none).find("number of clips"), std::string::npos) << error_of(none);

  SynthOptions tiny = small_dataset(folder.file("x"), 2, 0);
  tiny.clip.width = 8;
  EXPECT_NE(error_of(tiny).find("[synth]"), std::string::npos);
  SynthOptions huge = small_dataset(folder.file("x"), 2, 0);
  huge.clip.width = 100000;
  huge.clip.height = 100000;
  EXPECT_NE(error_of(huge).find("[synth]"), std::string::npos);
  SynthOptions odd = small_dataset(folder.file("x"), 2, 0);
  odd.clip.width = 127;
  EXPECT_NE(error_of(odd).find("[synth]"), std::string::npos);
  SynthOptions backwards = small_dataset(folder.file("x"), 2, 0);
  backwards.clip.min_seconds = 5;
  backwards.clip.max_seconds = 3;
  EXPECT_NE(error_of(backwards).find("[synth]"), std::string::npos);

  // A folder under a regular file cannot be made.
  { std::ofstream(folder.file("plain_file")) << "x"; }
  const std::string unwritable = error_of(small_dataset(folder.file("plain_file") + "/out", 2, 0));
  EXPECT_NE(unwritable.find("plain_file"), std::string::npos) << unwritable;

  if (!can_write_video()) return;
  const std::string out = folder.file("kept");
  build_synthetic_dataset(small_dataset(out, 2, 0));
  const std::string again = error_of(small_dataset(out, 2, 0));
  EXPECT_NE(again.find("overwrite"), std::string::npos) << again;
  SynthOptions replace = small_dataset(out, 3, 1);
  replace.overwrite = true;
  EXPECT_EQ(build_synthetic_dataset(replace).clips, 3);
}

}  // namespace
}  // namespace vg::synth
