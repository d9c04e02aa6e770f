// Helpers shared by the synthetic-motion tests (motion_*_test.cpp): bodies to test with, specs at
// a fixed tempo, and geometric measures of a pose (angles, distances from a line).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "data/synth/exercises.h"
#include "data/synth/skeleton.h"

namespace vg::synth::testing {

inline std::vector<Exercise> all_exercises() {
  return {Exercise::Squat, Exercise::PushUp, Exercise::Lunge, Exercise::GluteBridge, Exercise::JumpingJack,
          Exercise::Plank};
}

inline int variant_count(Exercise exercise) { return static_cast<int>(exercise_info(exercise).variants.size()); }

// A short, an average and a tall performer of different builds.
inline std::vector<BodyShape> test_bodies() {
  return {BodyShape::standard(1.55, 0.95, 0.9), BodyShape::standard(1.75), BodyShape::standard(1.95, 1.06, 1.25)};
}

// A fixed tempo: 2.5 s of movement and 0.3 s of rest per rep, starting at the top of a rep.
constexpr double kRepSeconds = 2.5, kPauseSeconds = 0.3;

inline MotionSpec fixed_spec(Exercise exercise, int variant, double severity = 1.0, uint64_t seed = 1) {
  MotionSpec spec;
  spec.exercise = exercise;
  spec.variant = variant;
  spec.rep_seconds = kRepSeconds;
  spec.pause_seconds = kPauseSeconds;
  spec.severity = severity;
  spec.style_seed = seed;
  return spec;
}

// Seconds into the first rep at which it is deepest (for holds: any time).
inline double peak_seconds(Exercise exercise) { return rep_peak_progress(exercise) * kRepSeconds; }

inline double angle_between(const Vec3& a, const Vec3& b) {
  return std::acos(std::clamp(dot(normalized(a), normalized(b)), -1.0, 1.0));
}
inline double degrees(double radians) { return radians * 180.0 / 3.14159265358979323846; }

// Bend of the knee (0 = straight), degrees.
inline double knee_flexion(const Pose& p, bool left) {
  const Joint hip = left ? Joint::LeftHip : Joint::RightHip, knee = left ? Joint::LeftKnee : Joint::RightKnee,
              ankle = left ? Joint::LeftAnkle : Joint::RightAnkle;
  return 180.0 - degrees(angle_between(p[hip] - p[knee], p[ankle] - p[knee]));
}

// Signed distance of `point` from the line through a and b, measured within the vertical plane that
// holds the line: positive above it.
inline double height_above_line(const Vec3& point, const Vec3& a, const Vec3& b) {
  const Vec3 along = normalized(b - a);
  const Vec3 up = normalized(Vec3{0, 1, 0} - along * along.y);
  return dot(point - a, up);
}

inline Vec3 midpoint(const Vec3& a, const Vec3& b) { return (a + b) * 0.5; }

// The largest distance any joint moves between two poses.
inline double max_displacement(const Pose& a, const Pose& b) {
  double worst = 0;
  for (size_t i = 0; i < kJointCount; ++i) worst = std::max(worst, distance(a.joints[i], b.joints[i]));
  return worst;
}

}  // namespace vg::synth::testing
