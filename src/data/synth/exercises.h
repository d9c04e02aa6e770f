// The synthetic performer's exercises: a catalog of six exercises with correct form and named
// form errors (what a coach would say about each), and the motion itself: for an exercise, a form
// variant, tempo parameters and a body, the Pose (skeleton.h) at any time of a clip.
//
// Placement. Standing exercises (squats, lunges, jumping jacks) start standing at the origin,
// facing +z. Floor exercises (pushups, high plank, glutes bridge) lie along the x axis with the
// head towards -x and the feet towards +x, roughly centred on the origin; pushups and plank face
// the floor (the performer's left side is +z), the bridge faces up (their left side is -z). A
// camera on the +z axis therefore sees floor exercises from the side.
//
// Timing. A clip cycles through repetitions: each is rep_seconds of movement followed by
// pause_seconds of rest in the start position (standing tall, arms straight, hips down on the
// floor). start_phase shifts where in that cycle the clip begins. Holds (the plank) have no reps:
// rep_seconds is the breathing period there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/synth/random_stream.h"
#include "data/synth/skeleton.h"

namespace vg::synth {

enum class Exercise { Squat, PushUp, Lunge, GluteBridge, JumpingJack, Plank };
constexpr int kExerciseCount = 6;

struct FormVariant {
  std::string id;        // snake_case, e.g. "good_form", "knees_caving_in"
  std::string name;      // short human name: "knees caving in" ("good form" for variant 0)
  std::string feedback;  // one corrective sentence, at most 10 words
  std::string caption;   // what is seen: "with the knees caving in toward each other"
};

struct ExerciseInfo {
  Exercise exercise;
  std::string id;    // folder/class name in the dataset, QVED style: "squats", "glutes_bridge"
  std::string name;  // the exercise as written in answers: "squats", "glutes bridge"
  bool is_hold;      // a static hold (plank) rather than repetitions
  std::vector<FormVariant> variants;  // variants[0] is correct form; named errors after it
};

const std::vector<ExerciseInfo>& exercise_catalog();  // all six, in the enum's order
const ExerciseInfo& exercise_info(Exercise exercise);
// The exercise whose id is `id` ("squats"); throws [synth] for an unknown one.
Exercise exercise_from_id(const std::string& id);
// The index of the variant `variant_id` of `exercise`; throws [synth] for an unknown one.
int variant_index(Exercise exercise, const std::string& variant_id);

struct MotionSpec {
  Exercise exercise = Exercise::Squat;
  int variant = 0;             // index into ExerciseInfo::variants
  double rep_seconds = 2.5;    // tempo: the duration of one repetition's movement
  double pause_seconds = 0.3;  // rest at the top between repetitions
  double start_phase = 0.0;    // [0, 1): where in the repetition cycle the clip starts
  double range = 1.0;          // depth/amplitude of a normal rep (about 0.85-1.05)
  double partial_rep_chance = 0.0;  // probability that a given rep is cut short (a partial rep)
  double severity = 1.0;       // how pronounced the form error is (about 0.6-1.4)
  uint64_t style_seed = 0;     // the performer's individual style: small asymmetries, smooth sway
};

// Plausible random parameters for a given exercise and variant (tempo, pauses, range, partial reps,
// severity, style seed), drawn from `random`. Deterministic for a given stream state.
MotionSpec random_motion(Exercise exercise, int variant, RandomStream& random);

// The performer's pose `seconds` after the clip starts. Deterministic: the same arguments give
// bit-identical poses. Throws vg::Error("[synth] ...") for an unknown variant, a negative time or
// tempo parameters out of range.
Pose pose_at(const MotionSpec& spec, const BodyShape& body, double seconds);

// Where in its repetitions a clip is at `seconds`. For holds, rep is always 0 and amplitude 0.
struct RepPhase {
  int64_t rep = 0;         // repetition number since the cycle's origin (the clip may start mid-rep)
  double progress = 0;     // [0, 1] through the rep's movement; 1 while resting after it
  bool moving = false;     // false during the pause
  double amplitude = 1;    // this rep's range: spec.range, times a partial rep's fraction
  bool partial = false;    // whether this rep is cut short
};
RepPhase rep_phase(const MotionSpec& spec, double seconds);

// Repetitions whose deepest point (the bottom of a squat, arms overhead in a jumping jack) falls
// within [0, duration) of the clip; the annotations' rep counts. 0 for holds.
struct RepCount {
  int total = 0;
  int partial = 0;  // of which cut short
};
RepCount count_reps(const MotionSpec& spec, double duration);

// The fraction of a rep's movement at which it is deepest (0.5 for most exercises).
double rep_peak_progress(Exercise exercise);

}  // namespace vg::synth
