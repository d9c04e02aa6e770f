// Push-ups for the synthetic performer (exercises.h), and the body on hands and toes that they
// share with the high plank (motions.h: prone_body_pose).
//
// The body lies face down along x, head towards -x. Toes and hands stay planted. Seen from the
// side, the body is a chain from the ankles: legs (hip to ankle, knees almost straight), then the
// lower and upper spine, each bent by the settings' hip and lumbar angles; the chain pivots about
// the ankles and its chest end lies where the arms, with the hands planted, put the shoulders. The
// arms' extension (shoulder to wrist distance) is what a rep changes.
#include <algorithm>
#include <cmath>

#include "data/synth/motions.h"

namespace vg::synth {

namespace {

enum PushUpVariant { kGood, kHipsSagging, kHipsPiked, kPartialRange, kElbowsFlared, kHeadDropping };

// Direction at elevation `angle` (radians above the floor) pointing towards the head (-x).
Vec3 headward(double angle) { return {-std::cos(angle), std::sin(angle), 0}; }
// Elevation of a direction that points towards the head.
double elevation(const Vec3& v) { return std::atan2(v.y, -v.x); }

}  // namespace

Pose prone_body_pose(const BodyShape& b, const ProneBodySettings& s) {
  const Frame prone = prone_frame();
  // Feet: on the tips of the toes, hip-width apart, the soles nearly upright: turned with the
  // body's incline at the top (about 17 degrees) and pointed by 15.
  const double feet_half = 0.9 * b.hip_half_width;
  const Frame foot = prone.flexed(deg(15) - deg(17));
  const Vec3 toe{0, 0, 0};
  const Vec3 ankle = ankle_for_toe(b, toe, foot);  // the left foot's, at z = 0; sides added below

  // The chain's shape: legs, then the spine bent at the hip and the waist (see the file comment).
  const double leg = 0.99 * (b.thigh + b.shin);
  const double leg_lateral = b.hip_half_width - feet_half;
  const double leg_planar = std::sqrt(leg * leg - leg_lateral * leg_lateral);
  const auto chain_end = [&](double hip_bend, double lumbar_bend) {
    return headward(0) * leg_planar + headward(hip_bend) * b.pelvis_to_waist +
           headward(hip_bend + lumbar_bend) * b.waist_to_chest;
  };
  const Vec3 chain = chain_end(s.hip_bend, s.lumbar_bend);
  const double reach = norm(chain), chain_angle = elevation(chain);  // chest from ankle, when the legs are level

  // Hands: planted under the shoulders of a straight body with straight arms, a little towards the
  // feet so that they end up beside the chest at the bottom (plus hands_forward).
  const double hand_half = s.hand_spread * b.shoulder_half_width;
  const double arm_lateral = hand_half - b.shoulder_half_width;
  const double straight = 0.99 * (b.upper_arm + b.forearm);  // the arm's reach, elbow nearly locked
  const double straight_planar = std::sqrt(straight * straight - arm_lateral * arm_lateral);
  const double wrist_y = b.hand_radius;
  const double nominal_reach = leg_planar + b.pelvis_to_waist + b.waist_to_chest;
  const double top_y = wrist_y + straight_planar;
  const double top_chest_x = ankle.x - std::sqrt(nominal_reach * nominal_reach - (top_y - ankle.y) * (top_y - ankle.y));
  const double arm = b.upper_arm + b.forearm;
  const Vec3 wrist{top_chest_x + 0.18 * arm - s.hands_forward * arm, wrist_y, 0};

  // The arms' extension when the chain has pivoted down until the chest is `chest_gap` above the
  // floor, or the pelvis a little less (a sagging body stops on its hips).
  const auto extension_with_gap = [&](double chest_gap) {
    const double chest_floor = b.torso_half_depth + chest_gap, pelvis_floor = b.torso_half_depth + 0.35 * chest_gap;
    const double chest_limit = std::asin(std::clamp((chest_floor - ankle.y) / reach, -1.0, 1.0)) - chain_angle;
    const double pelvis_limit = std::asin(std::clamp((pelvis_floor - ankle.y) / leg_planar, -1.0, 1.0));
    const Vec3 chest_at = ankle + headward(smooth_max(chest_limit, pelvis_limit, deg(2)) + chain_angle) * reach;
    const double planar = distance(chest_at, wrist);
    return std::sqrt(planar * planar + arm_lateral * arm_lateral);
  };
  const double bottom = extension_with_gap(0.06);   // a full push-up's bottom
  const double lowest = extension_with_gap(0.015);  // however deep a rep goes

  // This instant: the arms' extension puts the chest on a circle about the wrists; the chain
  // from the ankles must end there too.
  // (A very broad, short-armed body can need more than the arms' reach to keep its hips off the
  // floor; the hands stay planted then.)
  const double extension = std::min(smooth_max(mix(bottom, straight, s.arm_extension), lowest, 0.01), straight);
  const double extension_planar = std::sqrt(std::max(1e-6, extension * extension - arm_lateral * arm_lateral));
  const Vec3 chest = circle_intersection(ankle, reach, wrist, extension_planar, {0, 1, 0});
  const double leg_angle = elevation(chest - ankle) - chain_angle;

  Pose pose;
  const double shift = 0.012 * s.sway;  // a small weight shift towards one side
  const double centre = -0.5 * (wrist.x + toe.x);  // centres hands and toes on the origin
  const Vec3 offset{centre, 0, 0};
  const Vec3 pelvis = ankle + headward(leg_angle) * leg_planar + offset + Vec3{0, 0, shift};
  SpineAngles spine;
  spine.lumbar_flex = -s.lumbar_bend;
  spine.thoracic_side = -0.6 * std::asin(std::clamp(shift / 0.5, -0.2, 0.2));  // the chest shifts less
  // The head continues the spine, dropped by neck_flex, but never through the floor.
  const double chest_angle = leg_angle + s.hip_bend + s.lumbar_bend;
  const double chest_y = pelvis.y + b.pelvis_to_waist * std::sin(leg_angle + s.hip_bend) +
                         b.waist_to_chest * std::sin(chest_angle);
  const double neck_y_low = chest_y + b.chest_to_neck * std::sin(chest_angle - 0.6 * s.neck_flex);
  const double head_lowest = std::asin(std::clamp((b.head_radius + 0.01 - neck_y_low) / b.neck_to_head, -1.0, 1.0));
  const double head_drop = smooth_min(s.neck_flex, chest_angle - head_lowest, deg(3));
  spine.neck_flex = 0.6 * head_drop - deg(4);
  spine.head_flex = 0.4 * head_drop + deg(4);
  const Frame pelvis_frame = prone.flexed(-(leg_angle + s.hip_bend));
  place_trunk(pose, b, pelvis, pelvis_frame, spine);

  for (const bool left : {true, false}) {
    const double side = side_sign(left);  // prone: the left side is +z
    const Vec3 foot_ankle = ankle + offset + Vec3{0, 0, side * feet_half};
    place_leg_ik(pose, b, left, foot_ankle, {0.1, -1, 0});
    place_foot_from_ankle(pose, b, left, pose[left ? Joint::LeftAnkle : Joint::RightAnkle], foot);

    const Vec3 wrist_at = wrist + offset + Vec3{0, 0, side * hand_half};
    // Elbows point up and back; flared ones point out to the sides instead of up.
    const double elbow_lift = 0.7 - 0.45 * std::clamp((s.elbow_flare - deg(45)) / deg(45), 0.0, 1.0);
    const Vec3 elbow_pole = Vec3{std::cos(s.elbow_flare), elbow_lift, side * std::sin(s.elbow_flare)};
    place_arm_ik(pose, b, left, wrist_at, elbow_pole, {-1, 0, side * 0.3});
  }
  return pose;
}

std::vector<FormVariant> pushup_variants() {
  return {
      {"good_form", "good form", "Great form, keep it up.",
       "with a straight line from head to heels, lowering the chest close to the floor"},
      {"hips_sagging", "hips sagging", "Brace your core and keep your hips up.",
       "with the hips sagging toward the floor"},
      {"hips_piked", "hips piked up", "Lower your hips into a straight line.",
       "with the hips piked up high above the body line"},
      {"partial_range", "partial range of motion", "Lower your chest all the way down.",
       "barely bending the elbows, the chest staying far from the floor"},
      {"elbows_flared", "elbows flared out", "Tuck your elbows to about 45 degrees.",
       "with the elbows flared straight out to the sides"},
      {"head_dropping", "head dropping", "Keep your head in line with your spine.",
       "with the head hanging down toward the floor"},
  };
}

Pose pushup_pose(const MotionContext& c) {
  const int variant = c.spec.variant;
  const double sev = c.severity;
  const PerformerStyle& style = c.style;
  double depth = c.rep.amplitude * bump(c.rep.progress, 0.0, 1.0, 0.08);
  if (variant == kPartialRange) depth *= 0.15 + 0.85 * std::exp(-1.6 * sev);

  ProneBodySettings s;
  s.arm_extension = 1 - std::min(depth, 1.1);
  // A performer's own line is never perfectly straight: a degree or two either way.
  s.hip_bend = deg(1.5) * style.lean + deg(1) * style.sway(1, c.seconds);
  s.lumbar_bend = deg(1) * style.sway(2, c.seconds);
  s.neck_flex = deg(4) * -style.head_pitch + deg(3) * style.sway(3, c.seconds);
  s.elbow_flare = deg(45 + 6 * style.asymmetry);
  s.hand_spread = 1.45 + 0.08 * style.stance;
  s.sway = style.sway(4, c.seconds);
  switch (variant) {
    case kHipsSagging:
      s.hip_bend += sev * deg(16);
      s.lumbar_bend += sev * deg(11);
      break;
    case kHipsPiked:
      s.hip_bend -= sev * deg(30);
      s.lumbar_bend -= sev * deg(4);
      break;
    case kElbowsFlared:  // flaring goes with hands placed wide
      s.elbow_flare = deg(std::min(95.0, 70 + 20 * sev));
      s.hand_spread += 0.2 * c.spec.severity;  // placed once: not varied per rep
      break;
    case kHeadDropping: s.neck_flex += sev * deg(65); break;
    default: break;
  }
  return prone_body_pose(c.body, s);
}

}  // namespace vg::synth
