// Synthetic exercises: repetitions. The motion dips (or rises) once per rep at the times the tempo
// implies, count_reps agrees with both the timing and the motion, partial reps are shallower, and
// lunges alternate legs.
#include <gtest/gtest.h>

#include <cmath>

#include "motion_testing.h"

namespace vg::synth {
namespace {

using namespace vg::synth::testing;

// How deep into a rep a pose is, growing towards the rep's peak.
double depth_signal(Exercise exercise, const Pose& p) {
  switch (exercise) {
    case Exercise::Squat:
    case Exercise::Lunge: return -p[Joint::Pelvis].y;
    case Exercise::PushUp: return -p[Joint::Chest].y;
    case Exercise::GluteBridge: return p[Joint::Pelvis].y;
    case Exercise::JumpingJack: return p[Joint::LeftAnkle].x - p[Joint::RightAnkle].x;  // feet apart
    case Exercise::Plank: return 0;
  }
  return 0;
}

struct Dip {
  double peak_seconds;  // the middle of the stretch beyond the threshold (the dips are symmetric)
  double depth;         // how far beyond the rest level it got
};

// The dips of the depth signal over [0, duration): stretches where it goes beyond a quarter of a
// full rep's depth. Only dips that start and end inside the clip are returned, with `cut` counting
// the others.
std::vector<Dip> find_dips(const MotionSpec& spec, const BodyShape& body, double duration, int* cut) {
  const MotionSpec reference = fixed_spec(spec.exercise, spec.variant, spec.severity, spec.style_seed);
  const double rest = depth_signal(spec.exercise, pose_at(reference, body, 0.0));
  const double full = depth_signal(spec.exercise, pose_at(reference, body, peak_seconds(spec.exercise))) - rest;
  const double threshold = rest + 0.25 * full;
  std::vector<Dip> dips;
  *cut = 0;
  bool inside = false, started_inside = false;
  Dip current{};
  double entered = 0;
  const double step = 0.004;
  for (double t = 0; t < duration; t += step) {
    const double value = depth_signal(spec.exercise, pose_at(spec, body, t));
    if (value > threshold) {
      if (!inside) {
        inside = true;
        started_inside = t > 0;
        entered = t;
        current = {t, value - rest};
      } else {
        current.depth = std::max(current.depth, value - rest);
      }
    } else if (inside) {
      inside = false;
      if (started_inside) {
        current.peak_seconds = 0.5 * (entered + t);
        dips.push_back(current);
      } else {
        ++*cut;
      }
    }
  }
  if (inside) ++*cut;
  return dips;
}

std::vector<Exercise> rep_exercises() {
  return {Exercise::Squat, Exercise::PushUp, Exercise::Lunge, Exercise::GluteBridge, Exercise::JumpingJack};
}

TEST(MotionReps, OneDipPerRepAtTheTimesTheTempoImplies) {
  const BodyShape body = BodyShape::standard(1.72);
  for (const Exercise exercise : rep_exercises()) {
    for (int variant = 0; variant < variant_count(exercise); ++variant) {
      for (const auto& [rep_seconds, pause] : {std::pair{2.0, 0.5}, std::pair{1.3, 0.0}, std::pair{3.1, 0.9}}) {
        MotionSpec spec = fixed_spec(exercise, variant, 1.0, 5 + static_cast<uint64_t>(variant));
        spec.rep_seconds = exercise == Exercise::JumpingJack ? 0.4 * rep_seconds : rep_seconds;
        spec.pause_seconds = pause;
        const double cycle = spec.rep_seconds + spec.pause_seconds;
        // Start near the end of a rep's movement (back at the top) so that no dip is cut.
        spec.start_phase = 0.97 * spec.rep_seconds / cycle;
        const int reps = 4;
        const double duration = reps * cycle;
        int cut = 0;
        const std::vector<Dip> dips = find_dips(spec, body, duration, &cut);
        const std::string what = exercise_info(exercise).id + "/" + exercise_info(exercise).variants[variant].id +
                                 " at " + std::to_string(spec.rep_seconds) + " s per rep";
        EXPECT_EQ(cut, 0) << what;
        ASSERT_EQ(static_cast<int>(dips.size()), reps) << what;
        EXPECT_EQ(count_reps(spec, duration).total, reps) << what;
        const double offset = spec.start_phase * cycle;
        for (int k = 0; k < reps; ++k) {
          const double expected = (k + 1) * cycle + rep_peak_progress(exercise) * spec.rep_seconds - offset;
          EXPECT_NEAR(dips[static_cast<size_t>(k)].peak_seconds, expected, 0.05 * spec.rep_seconds) << what;
        }
      }
    }
  }
}

TEST(MotionReps, CountRepsMatchesTheRepTiming) {
  // Brute force: the reps whose progress passes the peak within the clip.
  for (const Exercise exercise : all_exercises()) {
    for (const double start_phase : {0.0, 0.13, 0.5, 0.77, 0.999}) {
      for (const double duration : {0.0, 0.7, 3.0, 9.9}) {
        MotionSpec spec = fixed_spec(exercise, 0);
        spec.rep_seconds = exercise == Exercise::JumpingJack ? 0.9 : 2.1;
        spec.pause_seconds = exercise == Exercise::JumpingJack ? 0.05 : 0.6;
        spec.start_phase = start_phase;
        spec.partial_rep_chance = 0.4;
        spec.style_seed = 31;
        const double peak = rep_peak_progress(exercise);
        int total = 0, partial = 0;
        RepPhase last = rep_phase(spec, 0);
        if (!exercise_info(exercise).is_hold && last.moving && last.progress == peak) ++total;
        for (double t = 0.0005; t < duration; t += 0.0005) {
          const RepPhase now = rep_phase(spec, t);
          const bool passed = now.rep == last.rep ? (last.progress < peak && now.progress >= peak)
                                                  : (now.progress >= peak && now.moving);
          if (passed && !exercise_info(exercise).is_hold) {
            ++total;
            partial += now.partial ? 1 : 0;
          }
          last = now;
        }
        const RepCount count = count_reps(spec, duration);
        EXPECT_EQ(count.total, total) << exercise_info(exercise).id << " from phase " << start_phase << " for "
                                      << duration << " s";
        EXPECT_EQ(count.partial, partial) << exercise_info(exercise).id;
      }
    }
  }
  EXPECT_EQ(count_reps(fixed_spec(Exercise::Plank, 0), 30.0).total, 0) << "a hold has no reps";
}

TEST(MotionReps, StartPhaseShiftsTheCycle) {
  for (const Exercise exercise : rep_exercises()) {
    MotionSpec from_start = fixed_spec(exercise, 0);
    MotionSpec shifted = from_start;
    shifted.start_phase = 0.4;
    const double cycle = kRepSeconds + kPauseSeconds;
    for (double t = 0; t < 6; t += 0.13) {
      const RepPhase a = rep_phase(shifted, t), b = rep_phase(from_start, t + 0.4 * cycle);
      EXPECT_EQ(a.rep, b.rep);
      EXPECT_NEAR(a.progress, b.progress, 1e-9);
      EXPECT_EQ(a.moving, b.moving);
    }
  }
}

TEST(MotionReps, PartialRepsAreCutShort) {
  const BodyShape body = BodyShape::standard(1.75);
  for (const Exercise exercise : rep_exercises()) {
    MotionSpec spec = fixed_spec(exercise, 0, 1.0, 2024);
    spec.partial_rep_chance = 0.5;
    spec.start_phase = 0.97 * kRepSeconds / (kRepSeconds + kPauseSeconds);
    const int reps = 16;
    const double cycle = kRepSeconds + kPauseSeconds, duration = reps * cycle;
    int cut = 0;
    const std::vector<Dip> dips = find_dips(spec, body, duration, &cut);
    ASSERT_EQ(static_cast<int>(dips.size()), reps) << exercise_info(exercise).id;
    double full_depth = 0;
    for (const Dip& dip : dips) full_depth = std::max(full_depth, dip.depth);
    int partial = 0;
    for (const Dip& dip : dips) {
      const bool is_partial = rep_phase(spec, dip.peak_seconds).partial;
      partial += is_partial ? 1 : 0;
      if (is_partial) {
        EXPECT_LT(dip.depth, 0.92 * full_depth) << exercise_info(exercise).id << ": a partial rep at " << dip.peak_seconds;
        EXPECT_GT(dip.depth, 0.3 * full_depth) << exercise_info(exercise).id << ": still a rep";
      } else {
        EXPECT_GT(dip.depth, 0.95 * full_depth) << exercise_info(exercise).id << ": a full rep at " << dip.peak_seconds;
      }
    }
    EXPECT_GT(partial, 2) << exercise_info(exercise).id << ": about half the reps are partial";
    EXPECT_LT(partial, reps - 2) << exercise_info(exercise).id;
    EXPECT_EQ(count_reps(spec, duration).partial, partial) << exercise_info(exercise).id;
  }
  // Without the chance, no rep is partial.
  MotionSpec spec = fixed_spec(Exercise::Squat, 0);
  EXPECT_EQ(count_reps(spec, 60).partial, 0);
  spec.partial_rep_chance = 1;
  EXPECT_EQ(count_reps(spec, 60).partial, count_reps(spec, 60).total);
}

TEST(MotionReps, LungesAlternateLegs) {
  const BodyShape body = BodyShape::standard(1.75);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const MotionSpec spec = fixed_spec(Exercise::Lunge, 0, 1.0, seed);
    bool previous_left = false;
    for (int k = 0; k < 4; ++k) {
      const Pose p = pose_at(spec, body, k * (kRepSeconds + kPauseSeconds) + peak_seconds(Exercise::Lunge));
      const bool left = p[Joint::LeftAnkle].z > p[Joint::RightAnkle].z;
      EXPECT_GT(std::abs(p[Joint::LeftAnkle].z - p[Joint::RightAnkle].z), 0.35 * body.height) << "a long stride";
      if (k > 0) {
        EXPECT_NE(left, previous_left) << "seed " << seed << ", rep " << k;
      }
      previous_left = left;
    }
  }
}

}  // namespace
}  // namespace vg::synth
