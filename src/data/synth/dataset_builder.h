// `videogemma synth`: a whole synthetic dataset in the QVED layout (specs/mobile-videogpt-reference.md
// §3). Clips are rendered and encoded in parallel; everything follows from the seed.
//
//   OUT/dataset/<class>/<id>.mp4          the clips (h264, or mpeg4 where FFmpeg has no x264)
//   OUT/qved_{train,val,test}.json        LLaVA records: the reference's prompt, "<exercise> - <feedback>"
//   OUT/fine_grained_labels.json          Qualcomm's raw label schema (video_path, labels, labels_descriptive, split)
//   OUT/synth_labels.json                 every clip's full labels: exercise, form error, view, timing, ...
//   OUT/pretraining/video_captions.json   caption records for stage-1 projector pretraining
//   OUT/pretraining/image_captions.json   single-frame caption records (OUT/pretraining/frames/...)
//   OUT/datasets.json                     the registry: QVED_TRAIN, QVED_VAL, QVED_TEST, PRETRAINING,
//                                         PRETRAINING_VIDEO, PRETRAINING_IMAGE
//   OUT/summary.json                      counts, class balance and majority-guess baselines
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "data/synth/clip_spec.h"
#include "media/video_writer.h"

namespace vg::synth {

struct SynthOptions {
  std::string out;
  int64_t clips = 0;
  uint64_t seed = 0;
  ClipOptions clip;
  int threads = 0;         // 0: every core
  bool overwrite = false;  // replace a dataset already in `out`
  media::VideoCodec codec = media::VideoCodec::Auto;  // Auto: h264 when this FFmpeg can, else mpeg4
};

struct SynthSummary {
  int64_t clips = 0, frames = 0, bytes = 0;
  double video_seconds = 0, wall_seconds = 0;
  int64_t train = 0, val = 0, test = 0;
  std::map<std::string, int64_t> per_exercise;  // class id -> clips
  std::map<std::string, int64_t> per_variant;   // "squats/knees_caving_in" -> clips
  // On the test split, always answering the training split's most common exercise / form variant.
  std::string majority_exercise, majority_variant;
  double majority_exercise_accuracy = 0, majority_variant_accuracy = 0;
  std::string registry;  // OUT/datasets.json
  std::string codec;
};

// Throws vg::Error("[synth] ...") for bad options (no clips, an unwritable folder, a dataset
// already there without `overwrite`, sizes out of range). `progress(done, total)` is called after
// each clip, from worker threads but never concurrently.
SynthSummary build_synthetic_dataset(const SynthOptions& options,
                                     const std::function<void(int64_t, int64_t)>& progress = {});

// Renders one clip and writes it to `video_path`; when `still_path` is not empty, also its middle
// frame as an image there. Returns the bytes written.
int64_t write_clip(const ClipSpec& spec, const std::string& video_path, media::VideoCodec codec,
                   const std::string& still_path = "");

// The caption of a clip ("A person in a red t-shirt and black shorts does squats ...").
std::string video_caption(const ClipSpec& spec, RandomStream& random);
std::string image_caption(const ClipSpec& spec, RandomStream& random);

}  // namespace vg::synth
