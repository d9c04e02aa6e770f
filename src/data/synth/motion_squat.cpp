// Squats for the synthetic performer (exercises.h): the motion and its form variants.
//
// Feet stay planted a little wider than the shoulders with the toes turned out; the pelvis moves
// down and back along a path whose bottom puts the thighs parallel to the floor, the trunk hinges
// forward at the hips, and the knees (by IK) track over the toes. Each form error changes one thing
// and grows with how deep the rep is, so it is strongest at the bottom.
#include <algorithm>
#include <cmath>

#include "data/synth/motions.h"

namespace vg::synth {

namespace {

enum SquatVariant { kGood, kKneesCavingIn, kShallowDepth, kHeelsLifting, kRoundedBack };

// The pelvis at the bottom of a full squat (thighs parallel): the knee sits over the toes with
// the shin inclined forward, the hip joint a thigh's length behind it at the same height.
struct SquatLayout {
  double stance_half_width;  // centre line to each ankle
  double toe_out;            // radians each foot turns out
  double top_pelvis_y;       // standing tall with a soft knee
  double bottom_pelvis_y, bottom_pelvis_z;
};

SquatLayout squat_layout(const BodyShape& b, const PerformerStyle& style) {
  SquatLayout l;
  l.stance_half_width = b.shoulder_half_width * (1.08 + 0.1 * style.stance);
  l.toe_out = deg(14 + 6 * style.toe_out);
  const double lateral = l.stance_half_width - b.hip_half_width;
  const double leg = 0.992 * (b.thigh + b.shin);
  l.top_pelvis_y = b.ankle_height + std::sqrt(leg * leg - lateral * lateral);
  const double shin_tilt = deg(36);
  const Vec3 toes{std::sin(l.toe_out), 0, std::cos(l.toe_out)};
  const Vec3 knee = Vec3{l.stance_half_width, b.ankle_height, 0} +
                    (Vec3{0, std::cos(shin_tilt), 0} + toes * std::sin(shin_tilt)) * b.shin;
  const double knee_out = knee.x - b.hip_half_width;
  l.bottom_pelvis_y = knee.y;
  l.bottom_pelvis_z = knee.z - std::sqrt(std::max(0.0, b.thigh * b.thigh - knee_out * knee_out));
  return l;
}

// Depth through the rep: down, a brief pause at the bottom, up.
double squat_depth(double progress) { return bump(progress, 0.0, 1.0, 0.1); }

}  // namespace

std::vector<FormVariant> squat_variants() {
  return {
      {"good_form", "good form", "Great form, keep it up.",
       "sitting the hips back and down to thigh-parallel with the knees tracking over the toes"},
      {"knees_caving_in", "knees caving in", "Push your knees out over your toes.",
       "with the knees caving in toward each other at the bottom"},
      {"shallow_depth", "shallow depth", "Sit deeper, thighs parallel to the floor.",
       "stopping well above parallel, the hips staying high"},
      {"heels_lifting", "heels lifting", "Keep your heels down, weight mid-foot.",
       "with the heels lifting off the floor at the bottom"},
      {"rounded_back", "rounded back", "Keep your chest up and your back flat.",
       "with the back rounding and the chest dropping forward"},
  };
}

Pose squat_pose(const MotionContext& c) {
  const BodyShape& b = c.body;
  const PerformerStyle& style = c.style;
  const int variant = c.spec.variant;
  const double sev = c.severity;
  const SquatLayout layout = squat_layout(b, style);

  // How far down this rep goes (0 standing, 1 thighs parallel). A shallow squatter stops at
  // 57% of that (severity 0.6) to 33% (1.4).
  const double full_depth = c.rep.amplitude * squat_depth(c.rep.progress);
  double depth = full_depth;
  if (variant == kShallowDepth) depth *= 0.2 + 0.8 * std::exp(-1.3 * sev);
  const double bottomness = std::min(1.0, full_depth);  // how close to this rep's bottom (errors grow with it)

  Pose pose;
  // Feet: planted, toes out; with lifting heels each foot pivots about its toe tip.
  const double heel_lift = variant == kHeelsLifting ? 0.11 * sev * bottomness : 0.0;
  Vec3 ankles[2];
  Frame feet[2];
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    const double turn = layout.toe_out + deg(3) * style.asymmetry * s;
    const Frame flat = flat_foot_frame({s * std::sin(turn), 0, std::cos(turn)});
    const Vec3 ankle0{s * layout.stance_half_width, b.ankle_height, 0};
    const Vec3 toe = ankle0 - flat.up * b.ankle_height + flat.forward * (b.foot_length - b.heel_back);
    const Frame foot = flat.flexed(std::asin(std::min(0.9, heel_lift / b.foot_length)));
    feet[left ? 0 : 1] = foot;
    ankles[left ? 0 : 1] = ankle_for_toe(b, toe, foot);
  }

  // Pelvis: down and back; on lifted heels the weight (and the hips) stay further forward.
  const double back = depth * (1.3 - 0.3 * depth);
  double pelvis_z = layout.bottom_pelvis_z * back * (variant == kHeelsLifting ? 1 - 0.5 * std::min(sev, 1.2) : 1.0);
  double pelvis_y = mix(layout.top_pelvis_y, layout.bottom_pelvis_y, depth);
  pelvis_z += 0.015 * style.sway(1, c.seconds);
  const double sideways = 0.012 * style.sway(2, c.seconds) + 0.01 * style.asymmetry * depth;
  const Vec3 pelvis{sideways, pelvis_y, pelvis_z};

  // Trunk: a hip hinge of about 40 degrees at parallel with a neutral spine. A rounded back
  // flexes the lumbar and thoracic spine instead and the pelvis tucks under a little.
  const double hinge = depth * deg(40 + 6 * style.lean) + deg(2);
  SpineAngles spine;
  spine.lumbar_flex = -deg(4);
  spine.thoracic_flex = deg(4);
  spine.lumbar_side = deg(1.5) * style.sway(3, c.seconds);
  spine.thoracic_twist = deg(2) * style.sway(4, c.seconds);
  double pelvis_tilt = hinge;
  if (variant == kRoundedBack) {
    pelvis_tilt = hinge * 0.6;
    spine.lumbar_flex += sev * (deg(4) + deg(20) * bottomness);
    spine.thoracic_flex += sev * (deg(6) + deg(26) * bottomness);
  }
  // The head looks ahead and a little down, lifted against the hip hinge (not against a rounding
  // back: that head drops with the chest).
  spine.neck_flex = -0.2 * pelvis_tilt - deg(4) * style.head_pitch + deg(2) * style.sway(5, c.seconds);
  spine.head_flex = -0.3 * pelvis_tilt;
  const Frame pelvis_frame = Frame{}.flexed(pelvis_tilt).bent_sideways(deg(1) * style.asymmetry);
  const TrunkFrames trunk = place_trunk(pose, b, pelvis, pelvis_frame, spine);

  // Legs: knees over the toes (poles along each foot, a little outward). Caving knees are pulled
  // towards the midline: the IK aims the knee at where the good knee would be, moved inward.
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    const Frame& foot = feet[left ? 0 : 1];
    const Vec3 ankle = ankles[left ? 0 : 1];
    const Vec3 toes = normalized(Vec3{foot.forward.x, 0, foot.forward.z});
    place_leg_ik(pose, b, left, ankle, toes + Vec3{s * 0.15, 0.1, 0});
    const Joint knee = left ? Joint::LeftKnee : Joint::RightKnee, hip = left ? Joint::LeftHip : Joint::RightHip;
    if (variant == kKneesCavingIn) {
      // Most of the way from over the toes to the midline, where the knees would touch.
      const double pull = bottomness * sev / (sev + 0.35);
      const Vec3 good_knee = pose[knee];
      const Vec3 target{mix(good_knee.x, s * b.shin_radius, pull), good_knee.y, good_knee.z};
      place_leg_ik(pose, b, left, ankle, target - pose[hip]);
    }
    place_foot_from_ankle(pose, b, left, pose[left ? Joint::LeftAnkle : Joint::RightAnkle], foot);
  }

  // Arms: either reaching forward for balance as the hips go down, or hands together at the chest.
  const bool arms_forward = style.arm_style < 0.6;
  for (const bool left : {true, false}) {
    const double s = side_sign(left);
    if (arms_forward) {
      const double raise = deg(8) + depth * deg(80) + deg(4) * style.sway(6 + (left ? 0 : 1), c.seconds);
      const double spread = deg(6) + deg(4) * (1 - depth);
      const Vec3 dir = limb_direction(Frame{}, raise, spread, s);
      place_arm_fk(pose, b, left, dir, deg(12) + deg(6) * (1 - depth), {0, 1, 0.3});
    } else {
      const Frame& chest = trunk.chest;
      // Palms together in front of the chest, fingers up.
      const Vec3 wrist = pose[Joint::Chest] + (chest.forward * 0.14 - chest.up * 0.057 + chest.left * (s * 0.026)) * b.height;
      const Vec3 fingers = chest.up + chest.forward * 0.25 - chest.left * (s * 0.2);
      place_arm_ik(pose, b, left, wrist, chest.left * (s * 0.8) - chest.up, fingers);
    }
  }
  return pose;
}

}  // namespace vg::synth
