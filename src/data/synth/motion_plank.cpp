// The high plank for the synthetic performer (exercises.h): a hold on straight arms and the toes,
// built on the push-up's body (motions.h: prone_body_pose), and its form variants.
//
// A hold has no reps: the body breathes (rep_seconds is the breath), sways a little and, for the
// faults, slowly varies how far the hips sag or pike, never returning to a straight line.
#include <algorithm>
#include <cmath>

#include "data/synth/motions.h"

namespace vg::synth {

namespace {

enum PlankVariant { kGood, kHipsSagging, kHipsPiked, kHeadDropping, kHandsTooFarForward };

}  // namespace

std::vector<FormVariant> plank_variants() {
  return {
      {"good_form", "good form", "Great form, keep it up.",
       "holding a straight line from head to heels on straight arms"},
      {"hips_sagging", "hips sagging", "Brace your core and lift your hips.", "with the hips sagging toward the floor"},
      {"hips_piked", "hips piked up", "Lower your hips into a straight line.",
       "with the hips piked up high above the body line"},
      {"head_dropping", "head dropping", "Keep your head in line with your spine.",
       "with the head hanging down toward the floor"},
      {"hands_too_far_forward", "hands too far forward", "Stack your shoulders over your wrists.",
       "with the hands placed far ahead of the shoulders"},
  };
}

Pose plank_pose(const MotionContext& c) {
  const PerformerStyle& style = c.style;
  const double sev = c.severity;
  // Breathing: the trunk rises and falls a little; range scales it like a rep's amplitude.
  const double breath = std::sin(2 * kPi * c.rep.progress) * c.rep.amplitude;
  // Faults drift between 85% and 115% of their strength over several seconds.
  const double drift = 1 + 0.15 * style.sway(7, c.seconds, 6.0);

  ProneBodySettings s;
  s.arm_extension = 1;
  s.hip_bend = deg(1.5) * style.lean + deg(0.8) * style.sway(1, c.seconds) + deg(0.6) * breath;
  s.lumbar_bend = deg(0.6) * style.sway(2, c.seconds) + deg(0.4) * breath;
  s.neck_flex = deg(4) * -style.head_pitch + deg(3) * style.sway(3, c.seconds);
  s.elbow_flare = deg(40 + 8 * style.asymmetry);
  s.hand_spread = 1.3 + 0.08 * style.stance;
  // The hands sit under the shoulders: the push-up's layout puts them a little towards the feet.
  s.hands_forward = 0.15 + 0.02 * style.lean;
  s.sway = style.sway(4, c.seconds);
  switch (c.spec.variant) {
    case kHipsSagging:
      s.hip_bend += sev * drift * deg(16);
      s.lumbar_bend += sev * drift * deg(11);
      break;
    case kHipsPiked:
      s.hip_bend -= sev * drift * deg(30);
      s.lumbar_bend -= sev * drift * deg(4);
      break;
    case kHeadDropping: s.neck_flex += sev * drift * deg(66); break;
    case kHandsTooFarForward: s.hands_forward += c.spec.severity * 0.42; break;
    default: break;
  }
  return prone_body_pose(c.body, s);
}

}  // namespace vg::synth
