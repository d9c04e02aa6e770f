#include "data/synth/skeleton.h"

namespace vg::synth {

const char* joint_name(Joint joint) {
  static constexpr std::array<const char*, kJointCount> kNames = {
      "pelvis",         "waist",       "chest",      "neck",       "head",        "left_shoulder",
      "left_elbow",     "left_wrist",  "left_hand",  "right_shoulder", "right_elbow", "right_wrist",
      "right_hand",     "left_hip",    "left_knee",  "left_ankle",   "left_heel",   "left_toe",
      "right_hip",      "right_knee",  "right_ankle", "right_heel",  "right_toe"};
  const auto i = static_cast<size_t>(joint);
  return i < kJointCount ? kNames[i] : "unknown_joint";
}

BodyShape BodyShape::standard(double height, double limb_scale, double girth) {
  // Fractions of standing height (Winter, Biomechanics and Motor Control of Human Movement).
  const double H = height, L = height * limb_scale, G = height * girth;
  BodyShape b;
  b.height = height;
  b.upper_arm = 0.186 * L;
  b.forearm = 0.146 * L;
  b.hand = 0.060 * L;
  b.thigh = 0.245 * L;
  b.shin = 0.246 * L;
  b.ankle_height = 0.039 * H;
  b.heel_back = 0.028 * H;
  b.foot_length = 0.152 * H;
  b.pelvis_to_waist = 0.120 * H;
  b.waist_to_chest = 0.168 * H;
  b.chest_to_neck = 0.052 * H;
  b.neck_to_head = 0.066 * H;
  b.shoulder_half_width = 0.115 * H;
  b.hip_half_width = 0.050 * H;
  b.head_radius = 0.063 * H;
  b.neck_radius = 0.030 * G;
  b.upper_arm_radius = 0.028 * G;
  b.forearm_radius = 0.023 * G;
  b.hand_radius = 0.020 * G;
  b.thigh_radius = 0.043 * G;
  b.shin_radius = 0.031 * G;
  b.foot_radius = 0.022 * G;
  b.chest_half_width = 0.097 * G;
  b.waist_half_width = 0.080 * G;
  b.hip_half_width_outer = 0.097 * G;
  b.torso_half_depth = 0.063 * G;
  return b;
}

Pose standing_pose(const BodyShape& b) {
  Pose p;
  const double hip_y = b.ankle_height + b.shin + b.thigh;
  p[Joint::Pelvis] = {0, hip_y, 0};
  p[Joint::Waist] = {0, hip_y + b.pelvis_to_waist, 0};
  p[Joint::Chest] = {0, hip_y + b.pelvis_to_waist + b.waist_to_chest, 0};
  p[Joint::Neck] = p[Joint::Chest] + Vec3{0, b.chest_to_neck, 0};
  p[Joint::Head] = p[Joint::Neck] + Vec3{0, b.neck_to_head, 0};
  for (const double side : {+1.0, -1.0}) {  // +x is the performer's left
    const bool left = side > 0;
    const Vec3 shoulder = p[Joint::Chest] + Vec3{side * b.shoulder_half_width, 0, 0};
    p[left ? Joint::LeftShoulder : Joint::RightShoulder] = shoulder;
    p[left ? Joint::LeftElbow : Joint::RightElbow] = shoulder - Vec3{0, b.upper_arm, 0};
    p[left ? Joint::LeftWrist : Joint::RightWrist] = shoulder - Vec3{0, b.upper_arm + b.forearm, 0};
    p[left ? Joint::LeftHand : Joint::RightHand] = shoulder - Vec3{0, b.upper_arm + b.forearm + b.hand, 0};
    const Vec3 hip = p[Joint::Pelvis] + Vec3{side * b.hip_half_width, 0, 0};
    p[left ? Joint::LeftHip : Joint::RightHip] = hip;
    p[left ? Joint::LeftKnee : Joint::RightKnee] = hip - Vec3{0, b.thigh, 0};
    p[left ? Joint::LeftAnkle : Joint::RightAnkle] = {hip.x, b.ankle_height, 0};
    p[left ? Joint::LeftHeel : Joint::RightHeel] = {hip.x, 0, -b.heel_back};
    p[left ? Joint::LeftToe : Joint::RightToe] = {hip.x, 0, b.foot_length - b.heel_back};
  }
  return p;
}

}  // namespace vg::synth
