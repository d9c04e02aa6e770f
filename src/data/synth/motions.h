// Internal to the synthetic exercises (exercises.h): what every exercise's motion function gets
// (the body, the spec, the performer's style, where in the rep it is) and the entry points of the
// per-exercise files motion_*.cpp, each of which also owns its form variants' descriptions.
#pragma once

#include <cstdint>
#include <vector>

#include "data/synth/exercises.h"
#include "data/synth/kinematics.h"

namespace vg::synth {

// A performer's individual manner, fixed for a clip: drawn from MotionSpec::style_seed. The values
// in [-1, 1] are small biases the motions scale to a few centimetres or degrees, never enough to
// hide a form error.
struct PerformerStyle {
  uint64_t seed = 0;
  double asymmetry = 0;   // one side a little different from the other (sign: which side)
  double stance = 0;      // wider (+) or narrower (-) feet
  double toe_out = 0;     // toes turned out more (+) or less (-)
  double lean = 0;        // trunk a little more (+) or less (-) inclined
  double head_pitch = 0;  // looks up (+) or down (-) a little
  double arm_style = 0;   // [0, 1): picks among an exercise's arm placements
  int first_leg = 0;      // lunges: 0 the left leg steps first, 1 the right

  // Slow, smooth sway in [-1, 1] (channel: an independent signal per body part), changing over
  // about `period` seconds.
  double sway(uint64_t channel, double seconds, double period = 2.5) const;
};
PerformerStyle performer_style(uint64_t seed);

struct MotionContext {
  const BodyShape& body;
  const MotionSpec& spec;
  const PerformerStyle& style;
  double seconds = 0;  // since the clip started
  RepPhase rep;
  double severity = 1;  // spec.severity, drifting by up to 8% over the clip
};

// +1 for the performer's left side, -1 for the right.
inline double side_sign(bool left) { return left ? 1.0 : -1.0; }

Pose squat_pose(const MotionContext& context);
Pose pushup_pose(const MotionContext& context);
Pose lunge_pose(const MotionContext& context);
Pose glute_bridge_pose(const MotionContext& context);
Pose jumping_jack_pose(const MotionContext& context);
Pose plank_pose(const MotionContext& context);

std::vector<FormVariant> squat_variants();
std::vector<FormVariant> pushup_variants();
std::vector<FormVariant> lunge_variants();
std::vector<FormVariant> glute_bridge_variants();
std::vector<FormVariant> jumping_jack_variants();
std::vector<FormVariant> plank_variants();

// Push-ups and the high plank share the body on hands and toes (motion_pushup.cpp).
struct ProneBodySettings {
  double arm_extension = 1;   // 1: arms straight (top); 0: the nominal bottom of a full push-up
  double hip_bend = 0;        // radians; + sags (hips below the shoulder-ankle line), - pikes
  double lumbar_bend = 0;     // radians; + arches the lower back (sag), - rounds it
  double neck_flex = 0;       // radians; + drops the head towards the floor
  double elbow_flare = 0.78;  // radians between the upper arm and the body's axis, seen from above
  double hands_forward = 0;   // the hands placed further ahead of the shoulders, in arm lengths
  double hand_spread = 1.45;  // hand spacing over shoulder spacing
  double sway = 0;            // [-1, 1] a small sideways weight shift
};
Pose prone_body_pose(const BodyShape& body, const ProneBodySettings& settings);

}  // namespace vg::synth
