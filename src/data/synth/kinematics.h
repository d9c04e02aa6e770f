// Geometry for the synthetic performer's motions (exercises.h): rotations, body frames, two-bone
// inverse kinematics that keeps bone lengths exact, placing the trunk, a foot or a limb from
// angles, easing curves and smooth per-performer noise. Every joint a motion writes is its parent
// plus a unit direction times the bone's length, so bones never stretch.
#pragma once

#include <cstdint>

#include "data/synth/skeleton.h"

namespace vg::synth {

constexpr double kPi = 3.14159265358979323846;
constexpr double deg(double degrees) { return degrees * kPi / 180.0; }

// Rodrigues' rotation of `v` about the unit vector `axis` by `angle` radians (right-handed).
Vec3 rotate(const Vec3& v, const Vec3& axis, double angle);

// A body part's orthonormal frame, named as for a person standing in it: `left` (their left),
// `up` (towards the head) and `forward` (where they face), with left x up = forward. The world
// frame of a performer standing at the origin is {+x, +y, +z} (skeleton.h).
struct Frame {
  Vec3 left{1, 0, 0}, up{0, 1, 0}, forward{0, 0, 1};

  Frame rotated(const Vec3& axis, double angle) const;
  // The frame bowed forward (up tips towards forward), leaning to its own left, turning to its
  // own left, by positive angles in radians.
  Frame flexed(double angle) const { return rotated(left, angle); }
  Frame bent_sideways(double angle) const { return rotated(forward, -angle); }
  Frame twisted(double angle) const { return rotated(up, angle); }
};

// A frame from an up direction and an approximate left direction (made orthogonal to up).
Frame frame_from_up_left(const Vec3& up, const Vec3& left_hint);

// Frames of a body lying on the floor with the head towards -x: face down (prone) or face up
// (supine). Prone: up = -x, forward = -y, left = +z. Supine: up = -x, forward = +y, left = -z.
Frame prone_frame();
Frame supine_frame();

// Where the middle joint of a two-bone chain (hip-knee-ankle, shoulder-elbow-wrist) goes so that
// the chain runs from `root` towards `target` with exact bone lengths; it bends towards `pole`
// (a direction). When the target is out of reach (too far, or too close for the bones), `end` is
// pulled onto the nearest reachable point along the same line.
struct TwoBoneSolution {
  Vec3 middle, end;
  bool reached = true;
};
TwoBoneSolution solve_two_bone(const Vec3& root, const Vec3& target, double first_length,
                               double second_length, const Vec3& pole);

// Of the two points at distances `radius_a` from `a` and `radius_b` from `b` within the plane
// through a and b spanned with `plane_dir`, the one on `plane_dir`'s side. Where the circles do not
// meet (a body too far from its layout's assumptions) the radii are eased to the nearest meeting
// point, so that a motion degrades (a hand lifts) rather than fails.
Vec3 circle_intersection(const Vec3& a, double radius_a, const Vec3& b, double radius_b,
                         const Vec3& plane_dir);

// Angles of the spine and head, in radians: flexion (positive bows towards the frame's forward),
// side bend (positive towards its left) and the chest's twist (positive turns it to its left).
struct SpineAngles {
  double lumbar_flex = 0, thoracic_flex = 0, neck_flex = 0, head_flex = 0;
  double lumbar_side = 0, thoracic_side = 0, thoracic_twist = 0;
};
struct TrunkFrames {
  Frame pelvis, waist, chest, head;
};
// Writes pelvis, waist, chest, neck, head, both hips and both shoulders from the pelvis position
// and orientation. The hips lie on the pelvis frame's left axis, the shoulders on the chest's.
TrunkFrames place_trunk(Pose& pose, const BodyShape& body, const Vec3& pelvis, const Frame& pelvis_frame,
                        const SpineAngles& angles);

// The arm hanging from the shoulder in `frame`, raised by `flexion` (0 hangs down, 90 degrees points
// forward, 180 overhead) and then by `abduction` towards the arm's own side (`side` +1 left,
// -1 right): abduction 90 with flexion 0 points sideways, 180 overhead.
Vec3 limb_direction(const Frame& frame, double flexion, double abduction, double side);

// Places elbow, wrist and hand from the upper arm's direction and the elbow's bend (radians,
// 0 = straight) towards `bend_towards` (a direction the forearm swings to).
void place_arm_fk(Pose& pose, const BodyShape& body, bool left, const Vec3& upper_arm_dir, double elbow_bend,
                  const Vec3& bend_towards);
// Places elbow and wrist by IK so the wrist reaches `wrist_target`, the elbow pointing along
// `elbow_pole`; the hand continues in `hand_dir` (need not be unit). Returns whether it reached.
bool place_arm_ik(Pose& pose, const BodyShape& body, bool left, const Vec3& wrist_target, const Vec3& elbow_pole,
                  const Vec3& hand_dir);
// Places knee (by IK, towards `knee_pole`) for a leg whose ankle is at `ankle`. Returns whether it
// reached (the ankle is moved onto the reachable sphere otherwise; the feet are placed after).
bool place_leg_ik(Pose& pose, const BodyShape& body, bool left, const Vec3& ankle, const Vec3& knee_pole);

// A foot as a rigid triangle (ankle, heel, toe) in `foot` (forward: heel to toe, up: sole to ankle).
// The sole's heel and toe are at the ankle minus ankle_height along up, heel_back behind it.
void place_foot_from_ankle(Pose& pose, const BodyShape& body, bool left, const Vec3& ankle, const Frame& foot);
// The ankle position that puts the toe at `toe` (the foot pivoting about its tip).
Vec3 ankle_for_toe(const BodyShape& body, const Vec3& toe, const Frame& foot);
// A foot frame flat on the floor, its toes pointing along the horizontal direction `toes`.
Frame flat_foot_frame(const Vec3& toes);

// Easing: 0 at u <= 0, 1 at u >= 1, with zero first and second derivatives at both ends; the
// second form eases x over [edge0, edge1].
double smootherstep(double u);
double smootherstep(double edge0, double edge1, double x);
// Easing with zero first derivatives at the ends only, and a gentler top speed (1.5 vs 1.875).
double smoothstep(double u);
// 0 -> 1 -> 0 over [start, end] with a flat top of `hold` (fraction of the span) in the middle.
double bump(double x, double start, double end, double hold = 0.0);
double clamp_unit(double x);
double mix(double a, double b, double t);
// A smooth max/min, continuously differentiable: never below max(a, b) (above min) and at most
// softness/2 beyond it, where a and b are equal.
double smooth_max(double a, double b, double softness);
double smooth_min(double a, double b, double softness);

// A uniform value in [0, 1) from a seed and up to two integers (a counter-based hash).
double hash_unit(uint64_t seed, uint64_t a, uint64_t b = 0);
// Smooth value noise in [-1, 1] of `t` (in knots; the value changes over about one unit),
// continuous with continuous first and second derivatives. Different channels are independent.
double smooth_noise(uint64_t seed, uint64_t channel, double t);

// The smallest height above the floor a joint's centre may take given the body's thickness there
// (the sole points Heel and Toe are on the surface itself: 0).
double floor_clearance(Joint joint, const BodyShape& body);

}  // namespace vg::synth
