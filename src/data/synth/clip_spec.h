// Everything about one synthetic clip, drawn from (dataset seed, clip index): the exercise and
// its form variant, the motion's tempo, the performer's body and looks, the room, the light, the
// camera that frames the performer, the frame rate, the length and the picture size. A clip is
// a pure function of its spec, so any clip of a dataset can be regenerated on its own.
#pragma once

#include <cstdint>
#include <string>

#include "data/synth/exercises.h"
#include "data/synth/render.h"
#include "data/synth/skeleton.h"

namespace vg::synth {

struct ClipOptions {
  int width = 320;              // even, 64..1920
  int height = 240;             // even, 64..1080
  double fps = 0;               // 0: drawn per clip from 15, 20, 24, 25, 30
  double min_seconds = 2.0;     // clip length drawn uniformly in [min, max]
  double max_seconds = 8.0;
  double good_form_share = 1.0 / 3;  // the rest is spread evenly over the named form errors
  // One room, lighting, outfit, body and camera height for the whole dataset, the camera at a
  // fixed angle per exercise: the motion is then the main thing that differs between clips. For
  // models whose vision towers have not learnt to see past a scene (the demo's random ones).
  bool studio = false;
};

// Throws vg::Error("[synth] ...") for sizes, rates or lengths outside the ranges above.
void validate(const ClipOptions& options);

struct ClipSpec {
  uint64_t seed = 0;   // this clip's own seed
  int64_t index = 0;   // its number in the dataset
  MotionSpec motion;   // exercise, variant, tempo, style
  BodyShape body;
  SceneLook look;
  Camera camera;
  std::string view;    // "front", "three-quarter", "side" or "back", as seen by the camera
  double fps = 30;
  double seconds = 4;
  int64_t frame_count() const;  // round(seconds * fps), at least 1

  const ExerciseInfo& exercise() const { return exercise_info(motion.exercise); }
  const FormVariant& variant() const { return exercise().variants.at(static_cast<size_t>(motion.variant)); }
};

// The spec of clip `index` of the dataset with seed `dataset_seed`.
ClipSpec random_clip(uint64_t dataset_seed, int64_t index, const ClipOptions& options = {});

// A camera on a circle around the performer at `azimuth_degrees` (0: in front, 90: at the
// performer's left) and `elevation_degrees`, at the distance where every joint of the sampled
// poses fits inside `fill` of the frame.
Camera frame_performer(const MotionSpec& motion, const BodyShape& body, double seconds, int width, int height,
                       double azimuth_degrees, double elevation_degrees, double vertical_fov_degrees, double fill);

}  // namespace vg::synth
