// Geometry for the synthetic performer's motions: see kinematics.h.
#include "data/synth/kinematics.h"

#include <algorithm>
#include <cmath>

#include "data/synth/random_stream.h"

namespace vg::synth {

Vec3 rotate(const Vec3& v, const Vec3& axis, double angle) {
  const double c = std::cos(angle), s = std::sin(angle);
  return v * c + cross(axis, v) * s + axis * (dot(axis, v) * (1 - c));
}

Frame Frame::rotated(const Vec3& axis, double angle) const {
  const Vec3 k = normalized(axis);
  // Re-orthonormalise so that long chains of rotations keep unit axes to rounding.
  const Vec3 new_up = normalized(rotate(up, k, angle));
  const Vec3 new_left = normalized(rotate(left, k, angle));
  return frame_from_up_left(new_up, new_left);
}

Frame frame_from_up_left(const Vec3& up, const Vec3& left_hint) {
  Frame f;
  f.up = normalized(up);
  Vec3 left = left_hint - f.up * dot(left_hint, f.up);
  if (norm(left) < 1e-9) {  // the hint is along up: any perpendicular will do
    left = std::abs(f.up.x) < 0.9 ? Vec3{1, 0, 0} - f.up * f.up.x : Vec3{0, 0, 1} - f.up * f.up.z;
  }
  f.left = normalized(left);
  f.forward = cross(f.left, f.up);
  return f;
}

Frame prone_frame() { return {Vec3{0, 0, 1}, Vec3{-1, 0, 0}, Vec3{0, -1, 0}}; }
Frame supine_frame() { return {Vec3{0, 0, -1}, Vec3{-1, 0, 0}, Vec3{0, 1, 0}}; }

TwoBoneSolution solve_two_bone(const Vec3& root, const Vec3& target, double a, double b, const Vec3& pole) {
  TwoBoneSolution s;
  Vec3 axis = target - root;
  double d = norm(axis);
  // Keep a sliver away from full extension and full folding, where the middle joint's position
  // changes infinitely fast with the target's.
  const double d_max = (a + b) * (1 - 1e-6), d_min = std::abs(a - b) + 1e-6 * (a + b);
  if (d < 1e-12) axis = pole;  // degenerate: fold along the pole
  axis = normalized(axis);
  if (d > d_max || d < d_min) {
    s.reached = false;
    d = std::clamp(d, d_min, d_max);
  }
  s.end = root + axis * d;
  // The middle joint: x along the axis, h away from it towards the pole.
  const double x = (a * a - b * b + d * d) / (2 * d);
  const double h = std::sqrt(std::max(0.0, a * a - x * x));
  Vec3 bend = pole - axis * dot(pole, axis);
  if (norm(bend) < 1e-9) {  // pole along the limb: bend to any side
    bend = std::abs(axis.y) < 0.9 ? cross(axis, Vec3{0, 1, 0}) : cross(axis, Vec3{1, 0, 0});
  }
  bend = normalized(bend);
  s.middle = root + axis * x + bend * h;
  // Snap both bones to their exact lengths (the formula is exact up to rounding in h).
  s.middle = root + normalized(s.middle - root) * a;
  s.end = s.middle + normalized(s.end - s.middle) * b;
  return s;
}

Vec3 circle_intersection(const Vec3& a, double ra, const Vec3& b, double rb, const Vec3& plane_dir) {
  const Vec3 ab = b - a;
  const double d = std::max(norm(ab), 1e-12);
  const Vec3 u = d > 1e-12 ? ab / d : normalized(plane_dir);
  if (d > ra + rb) {  // too far apart: meet on the line, sharing the gap
    const double scale = d / (ra + rb);
    ra *= scale;
    rb *= scale;
  } else if (d < std::abs(ra - rb)) {  // one inside the other: shrink the larger
    if (ra > rb) {
      ra = rb + d;
    } else {
      rb = ra + d;
    }
  }
  const double x = (ra * ra - rb * rb + d * d) / (2 * d);
  const double h = std::sqrt(std::max(0.0, ra * ra - x * x));
  const Vec3 v = normalized(plane_dir - u * dot(plane_dir, u));
  return a + u * x + v * h;
}

TrunkFrames place_trunk(Pose& pose, const BodyShape& body, const Vec3& pelvis, const Frame& pelvis_frame,
                        const SpineAngles& a) {
  TrunkFrames f;
  f.pelvis = pelvis_frame;
  // Each spine segment points along its own frame's up; a segment's frame is its parent's bent by
  // the joint angles between them.
  f.waist = pelvis_frame.flexed(a.lumbar_flex).bent_sideways(a.lumbar_side);
  f.chest = f.waist.flexed(a.thoracic_flex).bent_sideways(a.thoracic_side).twisted(a.thoracic_twist);
  const Frame neck_frame = f.chest.flexed(a.neck_flex);
  f.head = neck_frame.flexed(a.head_flex);
  pose[Joint::Pelvis] = pelvis;
  pose[Joint::Waist] = pelvis + f.pelvis.up * body.pelvis_to_waist;
  pose[Joint::Chest] = pose[Joint::Waist] + f.waist.up * body.waist_to_chest;
  pose[Joint::Neck] = pose[Joint::Chest] + neck_frame.up * body.chest_to_neck;
  pose[Joint::Head] = pose[Joint::Neck] + f.head.up * body.neck_to_head;
  pose[Joint::LeftHip] = pelvis + f.pelvis.left * body.hip_half_width;
  pose[Joint::RightHip] = pelvis - f.pelvis.left * body.hip_half_width;
  pose[Joint::LeftShoulder] = pose[Joint::Chest] + f.chest.left * body.shoulder_half_width;
  pose[Joint::RightShoulder] = pose[Joint::Chest] - f.chest.left * body.shoulder_half_width;
  return f;
}

Vec3 limb_direction(const Frame& frame, double flexion, double abduction, double side) {
  const Vec3 raised = frame.up * -std::cos(flexion) + frame.forward * std::sin(flexion);
  // Abduction swings the raised direction towards the limb's side within the plane they span;
  // the cross term keeps it a unit vector for any flexion.
  const Vec3 out = frame.left * side;
  return raised * std::cos(abduction) + out * std::sin(abduction);
}

namespace {

struct ArmJoints {
  Joint shoulder, elbow, wrist, hand;
};
ArmJoints arm_joints(bool left) {
  return left ? ArmJoints{Joint::LeftShoulder, Joint::LeftElbow, Joint::LeftWrist, Joint::LeftHand}
              : ArmJoints{Joint::RightShoulder, Joint::RightElbow, Joint::RightWrist, Joint::RightHand};
}

}  // namespace

void place_arm_fk(Pose& pose, const BodyShape& body, bool left, const Vec3& upper_arm_dir, double elbow_bend,
                  const Vec3& bend_towards) {
  const ArmJoints j = arm_joints(left);
  const Vec3 upper = normalized(upper_arm_dir);
  pose[j.elbow] = pose[j.shoulder] + upper * body.upper_arm;
  Vec3 axis = cross(upper, bend_towards);
  if (norm(axis) < 1e-9) axis = std::abs(upper.y) < 0.9 ? cross(upper, Vec3{0, 1, 0}) : cross(upper, Vec3{0, 0, 1});
  const Vec3 fore = normalized(rotate(upper, normalized(axis), elbow_bend));
  pose[j.wrist] = pose[j.elbow] + fore * body.forearm;
  pose[j.hand] = pose[j.wrist] + fore * body.hand;
}

bool place_arm_ik(Pose& pose, const BodyShape& body, bool left, const Vec3& wrist_target, const Vec3& elbow_pole,
                  const Vec3& hand_dir) {
  const ArmJoints j = arm_joints(left);
  const TwoBoneSolution s = solve_two_bone(pose[j.shoulder], wrist_target, body.upper_arm, body.forearm, elbow_pole);
  pose[j.elbow] = s.middle;
  pose[j.wrist] = s.end;
  pose[j.hand] = s.end + normalized(hand_dir) * body.hand;
  return s.reached;
}

bool place_leg_ik(Pose& pose, const BodyShape& body, bool left, const Vec3& ankle, const Vec3& knee_pole) {
  const Joint hip = left ? Joint::LeftHip : Joint::RightHip;
  const TwoBoneSolution s = solve_two_bone(pose[hip], ankle, body.thigh, body.shin, knee_pole);
  pose[left ? Joint::LeftKnee : Joint::RightKnee] = s.middle;
  pose[left ? Joint::LeftAnkle : Joint::RightAnkle] = s.end;
  return s.reached;
}

void place_foot_from_ankle(Pose& pose, const BodyShape& body, bool left, const Vec3& ankle, const Frame& foot) {
  const Vec3 heel = ankle - foot.up * body.ankle_height - foot.forward * body.heel_back;
  pose[left ? Joint::LeftAnkle : Joint::RightAnkle] = ankle;
  pose[left ? Joint::LeftHeel : Joint::RightHeel] = heel;
  pose[left ? Joint::LeftToe : Joint::RightToe] = heel + foot.forward * body.foot_length;
}

Vec3 ankle_for_toe(const BodyShape& body, const Vec3& toe, const Frame& foot) {
  return toe + foot.up * body.ankle_height - foot.forward * (body.foot_length - body.heel_back);
}

Frame flat_foot_frame(const Vec3& toes) {
  const Vec3 forward = normalized(Vec3{toes.x, 0, toes.z});
  return {cross(Vec3{0, 1, 0}, forward), Vec3{0, 1, 0}, forward};
}

double clamp_unit(double x) { return std::clamp(x, 0.0, 1.0); }
double mix(double a, double b, double t) { return a + (b - a) * t; }

double smootherstep(double u) {
  u = clamp_unit(u);
  return u * u * u * (u * (u * 6 - 15) + 10);
}

double smoothstep(double u) {
  u = clamp_unit(u);
  return u * u * (3 - 2 * u);
}

double smootherstep(double edge0, double edge1, double x) { return smootherstep((x - edge0) / (edge1 - edge0)); }

double bump(double x, double start, double end, double hold) {
  const double mid = 0.5 * (start + end), half_hold = 0.5 * hold * (end - start);
  if (x <= mid) return smootherstep(start, mid - half_hold, x);
  return 1.0 - smootherstep(mid + half_hold, end, x);
}

double smooth_max(double a, double b, double softness) {
  return 0.5 * (a + b + std::sqrt((a - b) * (a - b) + softness * softness));
}
double smooth_min(double a, double b, double softness) { return -smooth_max(-a, -b, softness); }

double hash_unit(uint64_t seed, uint64_t a, uint64_t b) {
  const uint64_t h = RandomStream::mix(RandomStream::mix(RandomStream::mix(seed) ^ a) + 0x632be59bd9b4e019ull * (b + 1));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double smooth_noise(uint64_t seed, uint64_t channel, double t) {
  const double knot = std::floor(t);
  const auto i = static_cast<uint64_t>(static_cast<int64_t>(knot));
  const double a = 2 * hash_unit(seed, channel, i) - 1, b = 2 * hash_unit(seed, channel, i + 1) - 1;
  return mix(a, b, smootherstep(t - knot));
}

double floor_clearance(Joint joint, const BodyShape& b) {
  switch (joint) {
    case Joint::Pelvis:
    case Joint::Waist:
    case Joint::Chest: return b.torso_half_depth;
    case Joint::Neck: return b.neck_radius;
    case Joint::Head: return b.head_radius;
    case Joint::LeftShoulder:
    case Joint::RightShoulder: return b.upper_arm_radius;
    case Joint::LeftElbow:
    case Joint::RightElbow: return b.forearm_radius;
    case Joint::LeftWrist:
    case Joint::RightWrist:
    case Joint::LeftHand:
    case Joint::RightHand: return b.hand_radius;
    case Joint::LeftHip:
    case Joint::RightHip: return b.thigh_radius;
    case Joint::LeftKnee:
    case Joint::RightKnee: return b.shin_radius;
    case Joint::LeftAnkle:
    case Joint::RightAnkle: return b.foot_radius;
    default: return 0.0;  // heel and toe: the sole itself
  }
}

}  // namespace vg::synth
