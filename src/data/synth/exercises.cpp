// The exercise catalog, repetition timing, random motion parameters and the pose_at dispatch
// (exercises.h). The motions themselves live in motion_*.cpp.
#include "data/synth/exercises.h"

#include <cmath>

#include "core/error.h"
#include "data/synth/motions.h"

namespace vg::synth {

namespace {

// Salts of the per-rep and per-style hashes, so different draws from one seed are independent.
constexpr uint64_t kPartialSalt = 0x70617274;   // "part"
constexpr uint64_t kSeveritySalt = 0x73657665;  // "seve"

const ExerciseInfo& checked_info(Exercise exercise) {
  const auto& catalog = exercise_catalog();
  const auto i = static_cast<size_t>(exercise);
  VG_CHECK(i < catalog.size(), "synth", "unknown exercise ", static_cast<int>(exercise));
  return catalog[i];
}

void check_spec(const MotionSpec& spec) {
  const ExerciseInfo& info = checked_info(spec.exercise);
  VG_CHECK(spec.variant >= 0 && spec.variant < static_cast<int>(info.variants.size()), "synth", info.id,
           " has no form variant ", spec.variant, " (it has ", info.variants.size(), ")");
  VG_CHECK(std::isfinite(spec.rep_seconds) && spec.rep_seconds >= 0.2 && spec.rep_seconds <= 60, "synth",
           "rep_seconds must be in [0.2, 60], got ", spec.rep_seconds);
  VG_CHECK(std::isfinite(spec.pause_seconds) && spec.pause_seconds >= 0 && spec.pause_seconds <= 60, "synth",
           "pause_seconds must be in [0, 60], got ", spec.pause_seconds);
  VG_CHECK(spec.start_phase >= 0 && spec.start_phase < 1, "synth", "start_phase must be in [0, 1), got ",
           spec.start_phase);
  VG_CHECK(spec.range >= 0.3 && spec.range <= 1.2, "synth", "range must be in [0.3, 1.2], got ", spec.range);
  VG_CHECK(spec.partial_rep_chance >= 0 && spec.partial_rep_chance <= 1, "synth",
           "partial_rep_chance must be in [0, 1], got ", spec.partial_rep_chance);
  VG_CHECK(spec.severity >= 0 && spec.severity <= 2, "synth", "severity must be in [0, 2], got ", spec.severity);
}

}  // namespace

const std::vector<ExerciseInfo>& exercise_catalog() {
  static const std::vector<ExerciseInfo> catalog = {
      {Exercise::Squat, "squats", "squats", false, squat_variants()},
      {Exercise::PushUp, "pushups", "pushups", false, pushup_variants()},
      {Exercise::Lunge, "lunges", "lunges", false, lunge_variants()},
      {Exercise::GluteBridge, "glutes_bridge", "glutes bridge", false, glute_bridge_variants()},
      {Exercise::JumpingJack, "jumping_jacks", "jumping jacks", false, jumping_jack_variants()},
      {Exercise::Plank, "high_plank", "high plank", true, plank_variants()},
  };
  return catalog;
}

const ExerciseInfo& exercise_info(Exercise exercise) { return checked_info(exercise); }

Exercise exercise_from_id(const std::string& id) {
  std::string known;
  for (const ExerciseInfo& info : exercise_catalog()) {
    if (info.id == id) return info.exercise;
    known += (known.empty() ? "" : ", ") + info.id;
  }
  throw Error("synth", str("unknown exercise '", id, "' (known: ", known, ")"));
}

int variant_index(Exercise exercise, const std::string& variant_id) {
  const ExerciseInfo& info = checked_info(exercise);
  for (size_t i = 0; i < info.variants.size(); ++i) {
    if (info.variants[i].id == variant_id) return static_cast<int>(i);
  }
  throw Error("synth", str(info.id, " has no form variant '", variant_id, "'"));
}

double rep_peak_progress(Exercise exercise) {
  // Jumping jacks are deepest (arms overhead, feet wide) a third of the way through the cycle;
  // the other rep exercises reach the bottom halfway.
  return exercise == Exercise::JumpingJack ? 0.32 : 0.5;
}

RepPhase rep_phase(const MotionSpec& spec, double seconds) {
  check_spec(spec);
  VG_CHECK(std::isfinite(seconds) && seconds >= 0, "synth", "time must be a non-negative number of seconds, got ",
           seconds);
  RepPhase phase;
  if (checked_info(spec.exercise).is_hold) {
    // A hold has one long "rep"; progress runs through the breathing cycle instead.
    const double breaths = spec.start_phase + seconds / spec.rep_seconds;
    phase.progress = breaths - std::floor(breaths);
    phase.moving = true;
    phase.amplitude = spec.range;
    return phase;
  }
  const double cycle = spec.rep_seconds + spec.pause_seconds;
  const double s = spec.start_phase * cycle + seconds;
  phase.rep = static_cast<int64_t>(std::floor(s / cycle));
  const double within = std::max(0.0, s - static_cast<double>(phase.rep) * cycle);
  phase.moving = within < spec.rep_seconds;
  phase.progress = phase.moving ? within / spec.rep_seconds : 1.0;
  const auto rep_key = static_cast<uint64_t>(phase.rep);
  phase.partial = hash_unit(spec.style_seed, kPartialSalt, rep_key) < spec.partial_rep_chance;
  // A partial rep keeps 62-80% of the range: clearly cut short, yet deeper than the shallow-rep
  // form errors go at any severity, so that it never passes for one.
  const double cut = 0.62 + 0.18 * hash_unit(spec.style_seed, kPartialSalt + 1, rep_key);
  phase.amplitude = spec.range * (phase.partial ? cut : 1.0);
  return phase;
}

RepCount count_reps(const MotionSpec& spec, double duration) {
  check_spec(spec);
  VG_CHECK(std::isfinite(duration) && duration >= 0, "synth", "duration must be non-negative, got ", duration);
  RepCount count;
  if (checked_info(spec.exercise).is_hold) return count;
  const double cycle = spec.rep_seconds + spec.pause_seconds;
  const double offset = spec.start_phase * cycle;
  const double peak = rep_peak_progress(spec.exercise) * spec.rep_seconds;
  // Rep k is deepest at k * cycle + peak - offset seconds into the clip.
  const auto first = static_cast<int64_t>(std::floor((offset - peak) / cycle)) - 1;
  const auto last = static_cast<int64_t>(std::ceil((offset + duration - peak) / cycle)) + 1;
  for (int64_t k = first; k <= last; ++k) {
    const double at = static_cast<double>(k) * cycle + peak - offset;
    if (at < 0 || at >= duration) continue;
    ++count.total;
    if (hash_unit(spec.style_seed, kPartialSalt, static_cast<uint64_t>(k)) < spec.partial_rep_chance) ++count.partial;
  }
  return count;
}

MotionSpec random_motion(Exercise exercise, int variant, RandomStream& random) {
  const ExerciseInfo& info = checked_info(exercise);
  VG_CHECK(variant >= 0 && variant < static_cast<int>(info.variants.size()), "synth", info.id,
           " has no form variant ", variant, " (it has ", info.variants.size(), ")");
  MotionSpec spec;
  spec.exercise = exercise;
  spec.variant = variant;
  // Tempo ranges per exercise (seconds of movement per rep, rest between reps): the same number
  // of draws for every exercise, so a stream's later draws do not depend on the exercise.
  struct Tempo {
    double rep_lo, rep_hi, pause_lo, pause_hi, partial_hi;
  };
  Tempo tempo{};
  switch (exercise) {
    case Exercise::Squat: tempo = {1.8, 3.2, 0.1, 0.8, 0.2}; break;
    case Exercise::PushUp: tempo = {1.4, 2.6, 0.1, 0.6, 0.2}; break;
    case Exercise::Lunge: tempo = {2.2, 3.4, 0.2, 0.8, 0.15}; break;
    case Exercise::GluteBridge: tempo = {2.0, 3.4, 0.3, 1.0, 0.15}; break;
    // Jumping jacks are rhythmic: no rests and no partial reps (which would look like the
    // "arms not reaching overhead" error). The plank's "rep" is a breath.
    case Exercise::JumpingJack: tempo = {0.8, 1.15, 0.0, 0.06, 0.0}; break;
    case Exercise::Plank: tempo = {2.5, 4.5, 0.0, 0.0, 0.0}; break;
  }
  spec.rep_seconds = random.uniform(tempo.rep_lo, tempo.rep_hi);
  spec.pause_seconds = random.uniform(tempo.pause_lo, tempo.pause_hi);
  spec.start_phase = random.uniform();
  spec.range = random.uniform(0.9, 1.05);
  const bool some_partial = random.chance(0.35);
  const double partial_chance = random.uniform(0.1, 1.0) * tempo.partial_hi;
  spec.partial_rep_chance = some_partial ? partial_chance : 0.0;
  const double severity = random.uniform(0.6, 1.4);
  spec.severity = variant == 0 ? 1.0 : severity;
  const auto hi = static_cast<uint64_t>(random.uniform() * 4294967296.0);
  const auto lo = static_cast<uint64_t>(random.uniform() * 4294967296.0);
  spec.style_seed = (hi << 32) ^ lo;
  return spec;
}

Pose pose_at(const MotionSpec& spec, const BodyShape& body, double seconds) {
  const RepPhase rep = rep_phase(spec, seconds);  // checks the spec and the time
  VG_CHECK(body.height > 0.5 && body.thigh > 0 && body.shin > 0 && body.upper_arm > 0, "synth",
           "the body shape is not set up (height ", body.height, ", thigh ", body.thigh,
           "); make it with BodyShape::standard");
  const PerformerStyle style = performer_style(spec.style_seed);
  // The error's strength wobbles a little over the clip, as a real performer's would; smoothly,
  // since some errors show even at rest (a sagging plank).
  const double wobble = 1 + 0.08 * smooth_noise(spec.style_seed ^ kSeveritySalt, 0, seconds / 3.0);
  const MotionContext context{body, spec, style, seconds, rep, spec.severity * wobble};
  switch (spec.exercise) {
    case Exercise::Squat: return squat_pose(context);
    case Exercise::PushUp: return pushup_pose(context);
    case Exercise::Lunge: return lunge_pose(context);
    case Exercise::GluteBridge: return glute_bridge_pose(context);
    case Exercise::JumpingJack: return jumping_jack_pose(context);
    case Exercise::Plank: return plank_pose(context);
  }
  throw Error("synth", str("unknown exercise ", static_cast<int>(spec.exercise)));
}

PerformerStyle performer_style(uint64_t seed) {
  RandomStream random(seed ^ 0x5354594c45ull);  // "STYLE"
  PerformerStyle style;
  style.seed = seed;
  style.asymmetry = random.uniform(-1, 1);
  style.stance = random.uniform(-1, 1);
  style.toe_out = random.uniform(-1, 1);
  style.lean = random.uniform(-1, 1);
  style.head_pitch = random.uniform(-1, 1);
  style.arm_style = random.uniform();
  style.first_leg = random.chance(0.5) ? 1 : 0;
  return style;
}

double PerformerStyle::sway(uint64_t channel, double seconds, double period) const {
  // Two octaves of smooth noise: a slow drift with a little faster wobble on top.
  const double slow = smooth_noise(seed, 2 * channel, seconds / period);
  const double fast = smooth_noise(seed, 2 * channel + 1, 2.7 * seconds / period);
  return (0.75 * slow + 0.25 * fast);
}

}  // namespace vg::synth
