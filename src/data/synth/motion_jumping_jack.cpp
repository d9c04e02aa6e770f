// Jumping jacks for the synthetic performer (exercises.h): the motion and its form variants.
//
// One rep is a full jack: jump out (feet wide, arms sweeping up sideways to overhead), jump back
// in (feet together, arms down). The feet leave the floor during each jump, toes pointing down a
// little, and the knees soften on landing. The pelvis height follows from the feet and how far the
// legs are extended, so the legs never overstretch.
#include <algorithm>
#include <cmath>

#include "data/synth/motions.h"

namespace vg::synth {

namespace {

enum JumpingJackVariant { kGood, kArmsNotOverhead, kFeetNotWide, kHunchedOver, kOutOfSync };

// 0 -> 1 in the first half of the cycle over [rise0, rise1], back to 0 over [fall0, fall1].
double out_and_back(double p, double rise0, double rise1, double fall0, double fall1) {
  return p < 0.5 * (rise1 + fall0) ? smootherstep(rise0, rise1, p) : 1.0 - smootherstep(fall0, fall1, p);
}

// Arms: up during the jump out, overhead until the jump back, then down; eased gently, since
// they travel furthest.
double arms_up(double p) { return p < 0.41 ? smoothstep(p / 0.32) : 1.0 - smoothstep((p - 0.5) / 0.35); }
// Feet: apart during the first jump, together again during the second.
double feet_apart(double p) { return out_and_back(p, 0.02, 0.2, 0.52, 0.7); }

}  // namespace

std::vector<FormVariant> jumping_jack_variants() {
  return {
      {"good_form", "good form", "Great form, keep it up.",
       "jumping the feet wide and bringing the arms fully overhead in rhythm"},
      {"arms_not_overhead", "arms not reaching overhead", "Bring your arms all the way overhead.",
       "with the arms only reaching about shoulder height"},
      {"feet_not_wide", "feet not going wide", "Jump your feet out wider.", "with the feet barely moving apart"},
      {"hunched_over", "hunched over with stiff legs", "Stand tall and land softly with bent knees.",
       "bent over at the waist, landing on stiff, locked knees"},
      {"out_of_sync", "arms and legs out of sync", "Move your arms and legs together.",
       "with the arms and legs moving out of sync"},
  };
}

Pose jumping_jack_pose(const MotionContext& c) {
  const BodyShape& b = c.body;
  const PerformerStyle& style = c.style;
  const int variant = c.spec.variant;
  const double sev = c.severity;
  const double p = c.rep.moving ? c.rep.progress : 1.0;
  const double amplitude = c.rep.amplitude;

  // Legs (distances in leg lengths, so that short- and long-legged performers look alike).
  const double leg = b.thigh + b.shin;
  const double together = b.hip_half_width + 0.015;
  double wide = (0.41 + 0.03 * style.stance) * leg;
  if (variant == kFeetNotWide) wide = together + (wide - together) * (0.12 + 0.88 * std::exp(-3.5 * sev));
  const double apart = feet_apart(p) * std::min(1.0, amplitude);
  const double half_width = mix(together, wide, apart);
  const double flight = 0.07 * leg * (bump(p, 0.0, 0.22) + bump(p, 0.5, 0.72));
  // Knees soften after each landing, except on stiff legs.
  const bool stiff = variant == kHunchedOver;
  const double landing = stiff ? 0.0 : bump(p, 0.14, 0.44) + bump(p, 0.64, 0.94);
  const double extension = stiff ? 0.994 + 0.004 * std::min(1.0, sev / 1.4) : 0.985 - 0.045 * landing;
  const double lateral = half_width - b.hip_half_width;
  const double pelvis_y = b.ankle_height + flight + std::sqrt(std::pow(extension * leg, 2) - lateral * lateral);
  const Vec3 pelvis{0.008 * style.sway(1, c.seconds), pelvis_y, 0.01 * style.sway(2, c.seconds)};

  // Trunk upright, or bent over at the hips and rounded.
  SpineAngles spine;
  double tilt = deg(2 + 2 * style.lean);
  spine.lumbar_flex = -deg(2);
  if (stiff) {
    tilt += sev * deg(30);
    spine.lumbar_flex += sev * deg(12);
    spine.thoracic_flex += sev * deg(14);
  }
  spine.lumbar_side = deg(1) * style.sway(3, c.seconds);
  spine.neck_flex = -0.5 * (tilt + spine.lumbar_flex + spine.thoracic_flex) + deg(3) * -style.head_pitch;
  spine.head_flex = deg(2) * style.sway(4, c.seconds);
  Pose pose;
  const TrunkFrames trunk = place_trunk(pose, b, pelvis, Frame{}.flexed(tilt), spine);

  // Feet: toes pointing down a little while in the air (never below the floor).
  const double point = 0.7 * std::asin(std::min(0.9, flight / (b.foot_length - b.heel_back)));
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    const Frame foot = flat_foot_frame({s * std::sin(deg(8)), 0, std::cos(deg(8))}).flexed(point);
    const Vec3 ankle{s * half_width, b.ankle_height + flight, 0};
    place_leg_ik(pose, b, left, ankle, Vec3{s * 0.25, 0.1, 1});
    place_foot_from_ankle(pose, b, left, pose[left ? Joint::LeftAnkle : Joint::RightAnkle], foot);
  }

  // Arms: sweep up sideways to overhead; out of sync they lag the legs by about half a jack.
  double arm_phase = p;
  if (variant == kOutOfSync) {
    arm_phase += std::min(0.5, 0.25 + 0.2 * sev);
    arm_phase -= std::floor(arm_phase);
  }
  double top = deg(172 + 3 * style.asymmetry);
  if (variant == kArmsNotOverhead) top = deg(std::max(60.0, 120 - 35 * sev));
  // A partial jack only shortens the jump out: arms out of sync straddle two reps and must not
  // change their reach at a rep boundary.
  const double raise = arms_up(arm_phase);
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    const double abduction = mix(deg(7), top, raise) + deg(3) * style.sway(5 + (left ? 0 : 1), c.seconds);
    const Vec3 dir = limb_direction(trunk.chest, deg(6), abduction, s);
    // The elbows bend a little, more mid-sweep; the forearms swing up and in.
    place_arm_fk(pose, b, left, dir, deg(8) + deg(10) * std::sin(kPi * raise), trunk.chest.up);
  }
  return pose;
}

}  // namespace vg::synth
