// Glute bridges for the synthetic performer (exercises.h): the motion and its form variants.
//
// The performer lies face up along x, head towards -x, knees bent and feet flat. The upper back
// (the chest joint, between the shoulders) stays on the floor; the pelvis swings up about it,
// and at the top of a good rep the shoulders, hips and knees form a straight line. The feet are
// placed so that the shins are vertical there. The knees follow by IK from the hips to the
// planted ankles.
#include <algorithm>
#include <cmath>

#include "data/synth/motions.h"

namespace vg::synth {

namespace {

enum BridgeVariant { kGood, kLowBridge, kOverArching, kKneesCavingIn, kFeetTooFar };

// Elevation of the direction from a to b, seen from the side (x towards the feet, y up).
double elevation_towards_feet(const Vec3& a, const Vec3& b) { return std::atan2(b.y - a.y, b.x - a.x); }

// Distance from the chest to the pelvis when the lower back arches by `arch` radians (the waist
// lifted off the chest-pelvis line).
double spine_chord(const BodyShape& b, double arch) {
  const double u = b.waist_to_chest, l = b.pelvis_to_waist;
  return std::sqrt(u * u + l * l + 2 * u * l * std::cos(arch));
}

// Where (x) the ankle must be so that a knee `reach` from the chest, on a straight line from the
// chest, has the inside angle `knee_angle` with the shin down to the ankle on the floor. Solved by
// bisection on the line's elevation: the ankle's height grows with it.
double ankle_distance_for_knee_angle(const BodyShape& b, const Vec3& chest, double reach, double knee_angle) {
  const auto ankle_at = [&](double rise) {
    const Vec3 knee = chest + Vec3{std::cos(rise), std::sin(rise), 0} * reach;
    return knee - Vec3{std::cos(rise + knee_angle), std::sin(rise + knee_angle), 0} * b.shin;
  };
  double lo = 0, hi = deg(60);
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (ankle_at(mid).y < b.ankle_height ? lo : hi) = mid;
  }
  return ankle_at(0.5 * (lo + hi)).x;
}

}  // namespace

std::vector<FormVariant> glute_bridge_variants() {
  return {
      {"good_form", "good form", "Great form, keep it up.",
       "lifting the hips to a straight line from shoulders to knees"},
      {"low_bridge", "hips not fully extended", "Squeeze your glutes and lift your hips higher.",
       "with the hips staying low, never reaching a straight line"},
      {"over_arching", "lower back over-arching", "Tuck your ribs and stop arching your lower back.",
       "pushing the hips too high with the lower back arched"},
      {"knees_caving_in", "knees caving in", "Keep your knees in line with your feet.",
       "with the knees falling in toward each other"},
      {"feet_too_far", "feet too far from hips", "Bring your heels closer to your hips.",
       "with the feet planted far from the hips and the legs nearly straight"},
  };
}

Pose glute_bridge_pose(const MotionContext& c) {
  const BodyShape& b = c.body;
  const PerformerStyle& style = c.style;
  const int variant = c.spec.variant;
  const double sev = c.severity;
  const Frame supine = supine_frame();  // left is -z
  const double lift = c.rep.amplitude * bump(c.rep.progress, 0.0, 1.0, 0.25);
  const double top = std::min(1.0, lift);  // how close to this rep's top (errors grow with it)

  // The lower back's natural slight arch; over-arching adds a lot at the top.
  double arch = deg(6);
  if (variant == kOverArching) arch += sev * deg(26) * top;
  const double chord = spine_chord(b, arch);

  // Layout: chest on the floor; the feet where, at the top of a straight bridge, the knee's
  // inside angle is about 80 degrees (shins a little past vertical). Feet too far open that angle
  // towards straight legs.
  const Vec3 chest{0, b.torso_half_depth, 0};
  double knee_angle = deg(80 + 3 * style.stance);
  // The feet are placed once: by the clip's severity, not varied per rep.
  if (variant == kFeetTooFar) knee_angle += deg(90) * (1 - std::exp(-1.3 * c.spec.severity));
  const double ankle_x = ankle_distance_for_knee_angle(b, chest, spine_chord(b, deg(6)) + b.thigh, knee_angle);
  const Vec3 ankle_mid{ankle_x, b.ankle_height, 0};

  // The pelvis angle at which the knee lies on the shoulder-hip line (the straight bridge).
  const Vec3 knee_top = circle_intersection(chest, chord + b.thigh, ankle_mid, b.shin, {0, 1, 0});
  const double straight = elevation_towards_feet(chest, knee_top);
  double angle = straight * lift;
  if (variant == kLowBridge) angle *= 0.2 + 0.8 * std::exp(-1.5 * sev);  // 53% (severity 0.6) to 30% (1.4)
  if (variant == kOverArching) angle *= 1 + 0.4 * sev;
  angle += deg(0.7) * style.sway(1, c.seconds) * top;
  // Long, nearly straight legs of a very broad performer can put the straight line below the
  // chest's height: the hips then stay down rather than sink into the floor.
  angle = std::max(angle, 0.0);

  // Centre the body (head to feet) on the origin.
  const Vec3 offset{-0.5 * (ankle_x + b.foot_length - (b.chest_to_neck + b.neck_to_head + b.head_radius)), 0, 0};

  Pose pose;
  // Spine: chest fixed, pelvis on its circle, waist lifted between them.
  const Vec3 chest_at = chest + offset;
  const Vec3 pelvis_target = chest_at + Vec3{std::cos(angle), std::sin(angle), 0} * chord;
  const TwoBoneSolution spine = solve_two_bone(chest_at, pelvis_target, b.waist_to_chest, b.pelvis_to_waist, {0, 1, 0});
  const Vec3 pelvis = spine.end;
  const Frame pelvis_frame = frame_from_up_left(spine.middle - pelvis, supine.left);
  const Frame chest_frame = frame_from_up_left(chest_at - spine.middle, supine.left);
  pose[Joint::Pelvis] = pelvis;
  pose[Joint::Waist] = spine.middle;
  pose[Joint::Chest] = chest_at;
  pose[Joint::LeftHip] = pelvis + pelvis_frame.left * b.hip_half_width;
  pose[Joint::RightHip] = pelvis - pelvis_frame.left * b.hip_half_width;
  pose[Joint::LeftShoulder] = chest_at + chest_frame.left * b.shoulder_half_width;
  pose[Joint::RightShoulder] = chest_at - chest_frame.left * b.shoulder_half_width;
  // Head resting on the floor: the neck slopes from the chest to the head's height.
  const double head_y = b.head_radius + 0.004 * (1 + style.head_pitch);
  const double neck_y = 0.5 * (chest_at.y + head_y);
  const double neck_drop = std::clamp((neck_y - chest_at.y) / b.chest_to_neck, -0.9, 0.9);
  pose[Joint::Neck] = chest_at + Vec3{-std::sqrt(1 - neck_drop * neck_drop), neck_drop, 0} * b.chest_to_neck;
  const double head_drop = std::clamp((head_y - neck_y) / b.neck_to_head, -0.9, 0.9);
  pose[Joint::Head] = pose[Joint::Neck] + Vec3{-std::sqrt(1 - head_drop * head_drop), head_drop, 0} * b.neck_to_head;

  for (const bool left : {true, false}) {
    const double side = side_sign(left);
    const Vec3 out = supine.left * side;  // away from the midline on this side
    // Feet flat, toes towards +x, a little wider than the hips.
    const Vec3 ankle = ankle_mid + offset + out * (b.hip_half_width + 0.035 + 0.01 * style.asymmetry * side);
    const Frame foot = flat_foot_frame(Vec3{1, 0, 0} + out * 0.12);
    const Joint knee = left ? Joint::LeftKnee : Joint::RightKnee;
    const Joint hip = left ? Joint::LeftHip : Joint::RightHip;
    place_leg_ik(pose, b, left, ankle, Vec3{0, 1, 0} + out * 0.02);
    if (variant == kKneesCavingIn) {  // pulled towards the midline, where the knees would touch
      const double pull = (0.4 + 0.6 * top) * sev / (sev + 0.3);
      const Vec3 good_knee = pose[knee];
      const Vec3 target{good_knee.x, good_knee.y, mix(good_knee.z, out.z * b.shin_radius, pull)};
      place_leg_ik(pose, b, left, ankle, target - pose[hip]);
    }
    place_foot_from_ankle(pose, b, left, pose[left ? Joint::LeftAnkle : Joint::RightAnkle], foot);

    // Arms along the sides, resting on the floor, palms down.
    const Vec3 shoulder = pose[left ? Joint::LeftShoulder : Joint::RightShoulder];
    const auto towards_floor = [&](const Vec3& from, double length, double height, double away) {
      const double dy = height - from.y;
      const double dx = std::sqrt(std::max(0.0, length * length - dy * dy - away * away));
      return normalized(Vec3{dx, dy, 0} + out * away);
    };
    const Vec3 upper = towards_floor(shoulder, b.upper_arm, b.forearm_radius + 0.005, 0.06);
    place_arm_fk(pose, b, left, upper, 0.0, {0, 1, 0});
    const Vec3 elbow = pose[left ? Joint::LeftElbow : Joint::RightElbow];
    const Vec3 fore = towards_floor(elbow, b.forearm, b.hand_radius, 0.02);
    pose[left ? Joint::LeftWrist : Joint::RightWrist] = elbow + fore * b.forearm;
    pose[left ? Joint::LeftHand : Joint::RightHand] =
        pose[left ? Joint::LeftWrist : Joint::RightWrist] + normalized(Vec3{1, 0, 0} + out * 0.05) * b.hand;
  }
  return pose;
}

}  // namespace vg::synth
