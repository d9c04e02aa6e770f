// Forward lunges for the synthetic performer (exercises.h): the motion and its form variants.
//
// Each rep the performer steps forward with one leg (alternating; which leg goes first is the
// performer's style), sinks until the front thigh is about parallel and the back knee nears the
// floor, rises and steps back to standing. The back foot pivots about its toes as its heel lifts.
// The pelvis follows a planned path, lowered where needed so that neither leg overstretches; the
// knees follow by IK.
#include <algorithm>
#include <cmath>

#include "data/synth/motions.h"

namespace vg::synth {

namespace {

enum LungeVariant { kGood, kKneePastToes, kKneeCavingIn, kLeaningForward, kShallowLunge };

// Phases of one rep, as fractions of its movement.
constexpr double kStepOutEnd = 0.24, kStepBackStart = 0.76;

// How far the front foot has travelled forward (0 at home, 1 planted in front).
double step_progress(double p) {
  return p < 0.5 ? smootherstep(0.0, kStepOutEnd, p) : 1.0 - smootherstep(kStepBackStart, 1.0, p);
}

}  // namespace

std::vector<FormVariant> lunge_variants() {
  return {
      {"good_form", "good form", "Great form, keep it up.",
       "stepping forward into a deep lunge with the front knee over the ankle and the torso upright"},
      {"knee_past_toes", "front knee past toes", "Keep your front knee over your ankle.",
       "with the front knee shooting forward past the toes"},
      {"knee_caving_in", "knee caving in", "Keep your front knee in line with your toes.",
       "with the front knee collapsing inward"},
      {"leaning_forward", "torso leaning forward", "Keep your torso upright and chest up.",
       "with the torso leaning far forward over the front leg"},
      {"shallow_lunge", "shallow lunge", "Lower your back knee toward the floor.",
       "barely bending the knees, the back knee staying high above the floor"},
  };
}

Pose lunge_pose(const MotionContext& c) {
  const BodyShape& b = c.body;
  const PerformerStyle& style = c.style;
  const int variant = c.spec.variant;
  const double sev = c.severity;
  const double p = c.rep.moving ? c.rep.progress : 1.0;
  const bool front_left = ((c.rep.rep + style.first_leg) % 2) == 0;

  const double step = step_progress(p);
  // Deeper reps (range > 1) stop short of the back knee touching the floor.
  const double full_depth = std::min(1.05, c.rep.amplitude) * bump(p, 0.16, 0.84, 0.12);
  double depth = full_depth;
  // Distances in leg lengths, so that short- and long-legged performers look alike.
  const double leg = b.thigh + b.shin;
  double step_length = (0.98 + 0.04 * style.stance) * leg;
  if (variant == kShallowLunge) {
    depth *= 0.15 + 0.85 * std::exp(-2 * sev);
    step_length *= 0.9;
  }
  const double bottomness = std::min(1.0, full_depth);

  // Feet at home: hip-width, toes turned out a little.
  const double foot_half = b.hip_half_width + 0.015 + 0.01 * style.stance;
  const double toe_out = deg(6 + 3 * style.toe_out);
  Frame flat[2];
  Vec3 home_ankle[2];
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    flat[left ? 0 : 1] = flat_foot_frame({s * std::sin(toe_out), 0, std::cos(toe_out)});
    home_ankle[left ? 0 : 1] = {s * foot_half, b.ankle_height, 0};
  }
  const int front = front_left ? 0 : 1, back = 1 - front;
  const double front_side = side_sign(front_left);

  // Front foot: swings forward in a low arc and lands flat.
  const double foot_lift = 0.07 * (bump(p, 0.0, kStepOutEnd) + bump(p, kStepBackStart, 1.0));
  const Vec3 front_ankle = home_ankle[front] + Vec3{0, foot_lift, step_length * step};
  // Back foot: pivots about its toe tip as the weight moves forward and down.
  const Frame& back_flat = flat[back];
  const Vec3 back_toe = home_ankle[back] - back_flat.up * b.ankle_height + back_flat.forward * (b.foot_length - b.heel_back);
  const Frame back_foot = back_flat.flexed(step * deg(18) + std::min(1.0, depth) * deg(38));
  const Vec3 back_ankle = ankle_for_toe(b, back_toe, back_foot);

  // Pelvis: between the feet once stepped, then down until the front thigh is about parallel with
  // the front shin upright; a knee shooting forward carries the hips further forward.
  const double stand_y = b.ankle_height + std::sqrt(std::pow(0.975 * leg, 2) - std::pow(foot_half - b.hip_half_width, 2));
  const double bottom_y = b.ankle_height + b.shin + 0.035;
  double bottom_z = step_length - 0.97 * b.thigh;
  double drop = 0.0;
  if (variant == kKneePastToes) {
    const double strength = std::min(sev, 1.5);  // beyond that the knee would fold into the floor
    bottom_z += (0.16 + 0.2 * strength) * leg;
    drop = 0.04 * strength * leg;
  }
  // A split stance alone lowers the hips: to where the front leg, stepped out and still almost
  // straight, reaches (a little below, so that the reach limit below stays a safety net).
  const double split = 0.42 * step_length;
  const double split_dz = step_length - split, split_dx = foot_half - b.hip_half_width;
  const double split_y = b.ankle_height + std::sqrt(std::pow(0.985 * leg, 2) - split_dz * split_dz - split_dx * split_dx);
  const double stance_y = mix(stand_y, std::min(stand_y, split_y - 0.015), step);
  double pelvis_z = split * step + (bottom_z - split) * depth;
  double pelvis_y = mix(stance_y, bottom_y - drop, depth);
  // Neither leg may stretch past 99.2% of its length.
  for (const Vec3& ankle : {front_ankle, back_ankle}) {
    const double dx = std::abs(ankle.x) - b.hip_half_width, dz = ankle.z - pelvis_z;
    const double reach = std::sqrt(std::max(1e-6, std::pow(0.992 * leg, 2) - dx * dx - dz * dz));
    pelvis_y = smooth_min(pelvis_y, ankle.y + reach, 0.03);
  }
  // The back knee hovers above the floor: a broad performer's thick knee would touch it at the
  // bottom, so the hips rise by what it lacks (the knee rises about 60% as much).
  const Vec3 back_hip{-front_side * b.hip_half_width, pelvis_y, pelvis_z};
  const double back_knee_y = solve_two_bone(back_hip, back_ankle, b.thigh, b.shin, {0, -0.4, 1}).middle.y;
  pelvis_y += 1.7 * std::max(0.0, b.shin_radius + 0.012 - back_knee_y);
  pelvis_z += 0.01 * style.sway(1, c.seconds);
  const Vec3 pelvis{0.01 * style.sway(2, c.seconds), pelvis_y, pelvis_z};

  // Trunk: upright with a slight forward lean; leaning lets the chest drop over the front thigh.
  SpineAngles spine;
  double tilt = deg(3) + depth * deg(7 + 3 * style.lean);
  if (variant == kLeaningForward) {
    tilt += sev * (deg(10) + deg(30) * bottomness);
    spine.thoracic_flex = sev * deg(10) * bottomness;
  }
  spine.lumbar_flex = -deg(3);
  spine.lumbar_side = deg(1.5) * style.sway(3, c.seconds);
  spine.thoracic_twist = deg(2) * style.sway(4, c.seconds) - front_side * deg(3) * depth;
  spine.neck_flex = -0.35 * (tilt + spine.thoracic_flex) + deg(3) * -style.head_pitch;
  spine.head_flex = deg(2) * style.sway(5, c.seconds);
  Pose pose;
  const TrunkFrames trunk = place_trunk(pose, b, pelvis, Frame{}.flexed(tilt), spine);

  // Legs: the front knee over the toes (or caving inward), the back knee pointing down and forward.
  // Standing between reps both knees point over the toes alike, so that the legs can swap roles.
  const double role = std::max(step, std::min(1.0, depth));
  for (const bool left : {true, false}) {
    const bool is_front = (left ? 0 : 1) == front;
    const double s = side_sign(left);
    const Vec3 ankle = is_front ? front_ankle : back_ankle;
    const Frame& foot = is_front ? flat[front] : back_foot;
    const Vec3 toes = normalized(Vec3{foot.forward.x, 0, foot.forward.z});
    const Vec3 standing_pole = toes + Vec3{s * 0.05, 0, 0};
    const Joint knee = left ? Joint::LeftKnee : Joint::RightKnee, hip = left ? Joint::LeftHip : Joint::RightHip;
    if (is_front) {
      place_leg_ik(pose, b, left, ankle, lerp(standing_pole, toes + Vec3{s * 0.08, 0.2, 0}, role));
      if (variant == kKneeCavingIn) {  // pulled in to about the midline
        const double pull = bottomness * sev / (sev + 0.3);
        const Vec3 good_knee = pose[knee];
        const Vec3 target{mix(good_knee.x, -s * 0.02, pull), good_knee.y, good_knee.z};
        place_leg_ik(pose, b, left, ankle, target - pose[hip]);
      }
    } else {
      place_leg_ik(pose, b, left, ankle, lerp(standing_pole, Vec3{s * 0.05, -0.4, 1}, role));
    }
    place_foot_from_ankle(pose, b, left, pose[left ? Joint::LeftAnkle : Joint::RightAnkle], foot);
  }

  // Arms: hands on the hips, or hanging at the sides with a little swing.
  const bool hands_on_hips = style.arm_style < 0.5;
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    if (hands_on_hips) {
      const Frame& f = trunk.pelvis;
      const Vec3 wrist = pose[Joint::Pelvis] + f.left * (s * (b.hip_half_width_outer + 0.05)) + f.up * 0.1 - f.forward * 0.02;
      place_arm_ik(pose, b, left, wrist, f.left * s - f.forward * 0.3, f.forward - f.left * (s * 0.4));
    } else {
      const double swing = deg(6) * style.sway(6 + (left ? 0 : 1), c.seconds) + deg(10) * depth;
      const Vec3 dir = limb_direction(trunk.chest, swing, deg(8), s);
      place_arm_fk(pose, b, left, dir, deg(12) + deg(10) * depth, trunk.chest.forward);
    }
  }
  return pose;
}

}  // namespace vg::synth
