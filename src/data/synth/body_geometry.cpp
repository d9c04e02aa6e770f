// Building the body's volumes from a pose (see body_geometry.h). Sizes come from BodyShape; the
// factors here shape them like a person: limbs taper from the joint nearer the trunk, the torso
// is an elliptic solid (deeper than a cylinder would be flat), the head an ellipsoid.
#include "data/synth/body_geometry.h"

#include <algorithm>
#include <cmath>

namespace vg::synth {
namespace {

constexpr Vec3 kUp{0, 1, 0};

// A unit vector orthogonal to `axis`, as close to `hint` as possible (any, when hint is parallel).
Vec3 orthogonal_towards(const Vec3& axis, const Vec3& hint) {
  Vec3 v = hint - axis * dot(hint, axis);
  if (norm(v) < 1e-6 * std::max(1.0, norm(hint))) {
    v = std::abs(axis.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 0, 1};
    v = v - axis * dot(v, axis);
  }
  return normalized(v);
}

Vec3 direction_or(const Vec3& v, const Vec3& fallback) {
  const double n = norm(v);
  return n > 1e-9 ? v / n : fallback;
}

// A part whose local y runs from a to b and whose local x is `side_hint` made orthogonal to it;
// local z = x cross y, so (x, y, z) is (left, up, front) for a body part standing upright. Scales stretch the local
// unit sphere/cone into the world: side (x), along the axis (y) and front (z).
BodyPart framed_part(const Vec3& a, const Vec3& b, const Vec3& side_hint, double ra, double rb,
                     double side_scale = 1, double axis_scale = 1, double front_scale = 1) {
  const Vec3 axis = direction_or(b - a, kUp);
  const Vec3 side = orthogonal_towards(axis, side_hint);
  const Vec3 front = cross(side, axis);
  BodyPart part;
  part.origin = a;
  part.to_world = Mat3::from_columns(side * side_scale, axis * axis_scale, front * front_scale);
  part.to_local = Mat3{{{side / side_scale, axis / axis_scale, front / front_scale}}};
  part.shape = RoundCone(distance(a, b) / axis_scale, ra, rb);
  part.metres_per_local_y = axis_scale;
  part.world_radius = std::max(ra, rb) * std::max({side_scale, axis_scale, front_scale});
  return part;
}

BodyPart limb(const Vec3& a, const Vec3& b, double ra, double rb, const Material& material) {
  // The side hint only matters for patterns; any orthogonal direction will do for a round limb.
  BodyPart part = framed_part(a, b, Vec3{1, 0, 0.3}, ra, rb);
  part.bands = {material, material, material, material};
  return part;
}

void set_bands(BodyPart& part, std::initializer_list<std::pair<double, Material>> bands, const Material& last) {
  size_t k = 0;
  for (const auto& [end, material] : bands) {
    part.band_ends[k] = end;
    part.bands[k] = material;
    ++k;
  }
  for (; k < 4; ++k) part.bands[k] = last;
}

}  // namespace

const Material& BodyPart::material_at(const Vec3& p, const Vec3& n) const {
  switch (surface) {
    case Surface::Banded: {
      const double fraction = shape.length() > 0 ? p.y / shape.length() : 0;
      if (hoop_period > 0 && fraction >= hoops_from) {
        const double phase = p.y * metres_per_local_y / hoop_period;
        if (phase - std::floor(phase) < 0.5) return hoop;
      }
      size_t k = 0;
      while (k < 3 && fraction >= band_ends[k]) ++k;
      return bands[k];
    }
    case Surface::Head: {
      // p is on the unit sphere: x to the performer's left, y up, z out of the face.
      const double side = std::abs(p.x);
      if (p.z > 0.55) {
        const double eye_x = side - 0.36, eye_y = p.y - 0.1;
        if (eye_x * eye_x + 1.6 * eye_y * eye_y < 0.1 * 0.1) return bands[2];
        if (side < 0.22 && std::abs(p.y + 0.45) < 0.055) return bands[3];
      }
      // The hairline rises from the nape to the forehead; long hair also covers the sides.
      if (hair == HairCut::Short && p.y > 0.12 + 0.38 * p.z) return bands[1];
      if (hair == HairCut::Long && (p.y > 0.12 + 0.38 * p.z || (p.z < 0.2 && p.y > -0.55))) return bands[1];
      return bands[0];
    }
    case Surface::Foot:
      return n.z < -0.45 ? bands[1] : bands[0];
  }
  return bands[0];
}

void build_body_parts(const Pose& pose, const BodyShape& b, const Appearance& look, std::vector<BodyPart>& parts) {
  parts.clear();
  const Material skin{look.skin.rgb, 0.12};
  const Material hair{look.hair.rgb, 0.2};
  const Material shirt{look.shirt.rgb, 0.03};
  const Material sleeve{look.sleeves.rgb, 0.03};
  const Material stripe{look.stripe.rgb, 0.03};
  const Material pants{look.pants.rgb, 0.05};
  const Material sock{look.socks.rgb, 0.02};
  const Material shoe{look.shoes.rgb, 0.3};
  const Material sole{look.soles.rgb, 0.1};
  const Material eyes{Rgb{0.09, 0.06, 0.05}, 0.6};
  const Material lips{look.skin.rgb * Rgb{0.78, 0.55, 0.55}, 0.15};

  const Vec3 hips_side = pose[Joint::LeftHip] - pose[Joint::RightHip];
  const Vec3 shoulders_side = pose[Joint::LeftShoulder] - pose[Joint::RightShoulder];

  // Torso: two elliptic rounded cones, pelvis-waist and waist-chest, each squashed along its
  // axis so the end caps are shallow domes (a hemisphere of the chest's width would rise above
  // the shoulders) and flattened front to back. Both take the body's depth at the waist, so the
  // side view has no waist notch (a belly and a back fill it), while hips and chest are deeper.
  {
    const double depth_scale = b.torso_half_depth / b.waist_half_width;
    BodyPart pelvis = framed_part(pose[Joint::Pelvis], pose[Joint::Waist], hips_side, b.hip_half_width_outer,
                                  b.waist_half_width, 1, 0.45, depth_scale);
    set_bands(pelvis, {{0.5, pants}}, shirt);
    BodyPart chest = framed_part(pose[Joint::Waist], pose[Joint::Chest], shoulders_side, b.waist_half_width,
                                 b.chest_half_width, 1, 0.32, depth_scale);
    set_bands(chest, {}, shirt);
    if (look.pattern == ShirtPattern::ChestStripe) set_bands(chest, {{0.55, shirt}, {0.72, stripe}}, shirt);
    if (look.pattern == ShirtPattern::Hoops) {
      for (BodyPart* part : {&pelvis, &chest}) {
        part->hoop_period = 0.1;
        part->hoop = stripe;
      }
      pelvis.hoops_from = 0.5;
    }
    parts.push_back(pelvis);
    parts.push_back(chest);
  }
  // Shoulders: the trapezius slopes from the base of the neck to each shoulder, where the upper
  // arm's rounded end makes the deltoid.
  {
    const Vec3 neck_base = lerp(pose[Joint::Chest], pose[Joint::Neck], 0.35);
    for (const Joint shoulder : {Joint::LeftShoulder, Joint::RightShoulder}) {
      BodyPart trapezius = limb(neck_base, pose[shoulder], 1.5 * b.neck_radius, 1.1 * b.upper_arm_radius, shirt);
      if (look.sleeveless && !look.long_sleeves) set_bands(trapezius, {{0.75, shirt}}, skin);
      trapezius.casts_floor_shadow = false;
      parts.push_back(trapezius);
    }
  }
  // Neck and head. The head's frame follows the neck for "up" and the chest for "left", so the
  // face turns with the trunk.
  const Vec3 head_up = direction_or(pose[Joint::Head] - pose[Joint::Neck], kUp);
  {
    const Vec3 neck_top = lerp(pose[Joint::Neck], pose[Joint::Head], 0.35);
    parts.push_back(limb(pose[Joint::Chest], neck_top, 1.1 * b.neck_radius, b.neck_radius, skin));
    parts.back().casts_floor_shadow = false;
    const double r = b.head_radius;
    const Vec3 side = orthogonal_towards(head_up, shoulders_side), front = cross(side, head_up);
    BodyPart head;
    head.origin = pose[Joint::Head];
    head.to_world = Mat3::from_columns(side * (0.8 * r), head_up * r, front * (0.92 * r));
    head.to_local = Mat3{{{side / (0.8 * r), head_up / r, front / (0.92 * r)}}};
    head.shape = RoundCone(0, 1, 1);
    head.world_radius = r;
    head.surface = Surface::Head;
    head.bands = {skin, hair, eyes, lips};
    head.hair = look.hair_style == HairStyle::Short ? HairCut::Short
                : look.hair_style == HairStyle::Long ? HairCut::Long
                                                    : HairCut::None;
    parts.push_back(head);
    if (look.hair_style == HairStyle::Long) {
      // Hair falling behind the neck to the shoulders, flattened against the back of the head.
      const Vec3 top = pose[Joint::Head] - front * (0.42 * r) + head_up * (0.25 * r);
      const Vec3 bottom = pose[Joint::Head] - front * (0.62 * r) - head_up * (1.45 * r);
      BodyPart tail = framed_part(top, bottom, side, 0.62 * r, 0.5 * r, 1, 1, 0.62);
      tail.bands = {hair, hair, hair, hair};
      tail.casts_floor_shadow = false;
      parts.push_back(tail);
    }
  }
  // Arms.
  for (const bool left : {true, false}) {
    const Vec3 shoulder = pose[left ? Joint::LeftShoulder : Joint::RightShoulder];
    const Vec3 elbow = pose[left ? Joint::LeftElbow : Joint::RightElbow];
    const Vec3 wrist = pose[left ? Joint::LeftWrist : Joint::RightWrist];
    const Vec3 hand = pose[left ? Joint::LeftHand : Joint::RightHand];
    BodyPart upper = limb(shoulder, elbow, 1.15 * b.upper_arm_radius, 0.9 * b.upper_arm_radius, skin);
    if (look.long_sleeves) {
      set_bands(upper, {}, sleeve);
    } else if (!look.sleeveless) {
      set_bands(upper, {{look.sleeve_length, sleeve}}, skin);
    }
    parts.push_back(upper);
    BodyPart fore = limb(elbow, wrist, 1.05 * b.forearm_radius, 0.75 * b.forearm_radius, skin);
    if (look.long_sleeves) set_bands(fore, {{0.93, sleeve}}, skin);
    parts.push_back(fore);
    // The hand: palm from wrist to knuckles, fingers continuing a little beyond.
    Vec3 finger_tips = hand + direction_or(hand - wrist, kUp * -1.0) * (0.5 * b.hand);
    // Fingers pointing into the floor (a palm pressed flat in a push-up) lie on it instead.
    finger_tips.y = std::max(finger_tips.y, std::min(hand.y, 0.6 * b.hand_radius));
    parts.push_back(limb(wrist, finger_tips, 0.8 * b.hand_radius, 0.6 * b.hand_radius, skin));
  }
  // Legs.
  for (const bool left : {true, false}) {
    const Vec3 hip = pose[left ? Joint::LeftHip : Joint::RightHip];
    const Vec3 knee = pose[left ? Joint::LeftKnee : Joint::RightKnee];
    const Vec3 ankle = pose[left ? Joint::LeftAnkle : Joint::RightAnkle];
    const Vec3 heel = pose[left ? Joint::LeftHeel : Joint::RightHeel];
    const Vec3 toe = pose[left ? Joint::LeftToe : Joint::RightToe];
    BodyPart thigh = limb(hip, knee, b.thigh_radius, 1.12 * b.shin_radius, pants);
    if (!look.long_pants) set_bands(thigh, {{look.shorts_length, pants}}, skin);
    parts.push_back(thigh);
    BodyPart shin = limb(knee, ankle, 1.05 * b.shin_radius, 0.62 * b.shin_radius, skin);
    if (look.long_pants) {
      set_bands(shin, {}, pants);
    } else if (look.socks_visible) {
      set_bands(shin, {{0.8, skin}}, sock);
    }
    parts.push_back(shin);
    // The shoe: a flattened rounded cone from heel to toe resting on the sole line, and the
    // shoe's upper around the ankle.
    const Vec3 forward = direction_or(toe - heel, Vec3{0, 0, 1});
    const Vec3 foot_up = orthogonal_towards(forward, ankle - heel);
    const Vec3 foot_side = cross(forward, foot_up);
    const double r_heel = 1.2 * b.foot_radius, r_toe = 1.05 * b.foot_radius, flat = 0.75;
    const Vec3 a = heel + forward * r_heel + foot_up * (flat * r_heel);
    const Vec3 c = toe - forward * (0.9 * r_toe) + foot_up * (flat * r_toe);
    BodyPart foot;
    foot.origin = a;
    foot.to_world = Mat3::from_columns(foot_side, forward, foot_up * flat);
    foot.to_local = Mat3{{{foot_side, forward, foot_up / flat}}};
    foot.shape = RoundCone(dot(c - a, forward), r_heel, r_toe);
    foot.world_radius = r_heel;
    foot.surface = Surface::Foot;
    foot.bands = {shoe, sole, shoe, shoe};
    parts.push_back(foot);
    const Vec3 instep = lerp(heel, toe, 0.42) + foot_up * (1.1 * flat * r_heel);
    parts.push_back(limb(ankle, instep, 0.75 * b.shin_radius, 0.95 * b.foot_radius, shoe));
    parts.back().casts_floor_shadow = false;
  }
}

}  // namespace vg::synth
