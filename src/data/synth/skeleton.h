// The synthetic performer's skeleton: named joints in 3D, the body's proportions, and a pose
// (every joint's position at one instant). Shared by the motions (exercises.h), which produce
// poses, and the renderer (render.h), which draws a body around them.
//
// World frame: metres, right-handed, y up, the floor is the plane y = 0. A performer standing at
// the origin faces +z (towards a camera on the +z axis); their left side is +x.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

namespace vg::synth {

struct Vec3 {
  double x = 0, y = 0, z = 0;

  Vec3 operator+(const Vec3& o) const { return {x + o.x, y + o.y, z + o.z}; }
  Vec3 operator-(const Vec3& o) const { return {x - o.x, y - o.y, z - o.z}; }
  Vec3 operator*(double s) const { return {x * s, y * s, z * s}; }
  Vec3 operator/(double s) const { return {x / s, y / s, z / s}; }
  Vec3& operator+=(const Vec3& o) { return *this = *this + o; }
  Vec3& operator-=(const Vec3& o) { return *this = *this - o; }
  bool operator==(const Vec3&) const = default;
};

inline double dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
inline double norm(const Vec3& v) { return std::sqrt(dot(v, v)); }
inline double distance(const Vec3& a, const Vec3& b) { return norm(a - b); }
inline Vec3 normalized(const Vec3& v) {
  const double n = norm(v);
  return n > 0 ? v / n : Vec3{};
}
inline Vec3 lerp(const Vec3& a, const Vec3& b, double t) { return a + (b - a) * t; }

// Joints, centre line first, then the left and right limbs. Hand is the knuckles (where a palm
// meets the floor in a push-up); Heel and Toe are the back and front of the foot's sole.
enum class Joint : int {
  Pelvis,  // midpoint of the hip joints
  Waist,   // lower back, on the spine between pelvis and chest
  Chest,   // upper spine, midpoint of the shoulder joints
  Neck,    // top of the neck, base of the skull
  Head,    // centre of the head
  LeftShoulder,
  LeftElbow,
  LeftWrist,
  LeftHand,
  RightShoulder,
  RightElbow,
  RightWrist,
  RightHand,
  LeftHip,
  LeftKnee,
  LeftAnkle,
  LeftHeel,
  LeftToe,
  RightHip,
  RightKnee,
  RightAnkle,
  RightHeel,
  RightToe,
  Count
};
constexpr size_t kJointCount = static_cast<size_t>(Joint::Count);

// "left_knee" etc., for messages and debugging.
const char* joint_name(Joint joint);

// Lengths and thicknesses of one performer, in metres. standard() gives average adult
// proportions (Winter's anthropometric ratios) for a height; the scale factors vary builds.
struct BodyShape {
  double height = 1.75;
  // bone lengths (joint to joint)
  double upper_arm = 0, forearm = 0, hand = 0;           // shoulder-elbow, elbow-wrist, wrist-knuckles
  double thigh = 0, shin = 0;                            // hip-knee, knee-ankle
  double ankle_height = 0, heel_back = 0, foot_length = 0;  // ankle above the sole; ankle to heel; heel to toe
  double pelvis_to_waist = 0, waist_to_chest = 0, chest_to_neck = 0, neck_to_head = 0;
  double shoulder_half_width = 0, hip_half_width = 0;   // centre line to each shoulder / hip joint
  // thicknesses (radii of the rendered volumes)
  double head_radius = 0, neck_radius = 0;
  double upper_arm_radius = 0, forearm_radius = 0, hand_radius = 0;
  double thigh_radius = 0, shin_radius = 0, foot_radius = 0;
  double chest_half_width = 0, waist_half_width = 0, hip_half_width_outer = 0;  // torso outline, side to side
  double torso_half_depth = 0;                                                 // torso, front to back

  // limb_scale stretches arms and legs relative to the trunk; girth scales every thickness.
  static BodyShape standard(double height = 1.75, double limb_scale = 1.0, double girth = 1.0);
};

// Every joint's position at one instant, in the world frame.
struct Pose {
  std::array<Vec3, kJointCount> joints{};

  Vec3& operator[](Joint j) { return joints[static_cast<size_t>(j)]; }
  const Vec3& operator[](Joint j) const { return joints[static_cast<size_t>(j)]; }
};

// The performer standing upright at the origin, facing +z, arms hanging at the sides.
Pose standing_pose(const BodyShape& body);

}  // namespace vg::synth
