// The renderer of the synthetic exercise performer: from a Pose, a BodyShape and a scene (camera,
// outfit, room, light, sensor), an RGB frame of a person with volume (head with hair and face,
// tapered torso, limbs, hands, shoes) exercising in a textured room, filmed by a pinhole camera.
//
// One Renderer draws the frames of one clip: camera and look are fixed, so the room, its lighting
// and its sensor processing are computed once; a frame ray-casts only the body and its floor
// shadows (raster.h, floor_shadow.h), develops the changed pixels (sensor.h) and adds the frame's
// noise. Everything follows from the inputs and the frame index: same inputs, same bytes.
#pragma once

#include <cstdint>
#include <memory>

#include "core/tensor.h"
#include "data/synth/appearance.h"
#include "data/synth/backdrop.h"
#include "data/synth/camera.h"
#include "data/synth/lighting.h"
#include "data/synth/random_stream.h"
#include "data/synth/sensor.h"
#include "data/synth/skeleton.h"

namespace vg::synth {

struct SceneLook {
  Appearance appearance;
  Room room;
  Lighting lighting;
  SensorEffects sensor;
};

// All four draws, from independent forks of `random`, with the outfit kept apart from the wall
// and floor colours most of the time (about one scene in eight keeps a low-contrast pairing, as
// real footage does).
SceneLook random_scene_look(RandomStream& random);

class Renderer {
 public:
  // Validates everything (camera size and field of view, camera above the floor and away from its
  // target, body sizes, light, sensor ranges) with [synth] errors, and draws the room.
  Renderer(const Camera& camera, const SceneLook& look, const BodyShape& body);
  ~Renderer();
  Renderer(Renderer&&) noexcept;
  Renderer& operator=(Renderer&&) noexcept;
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // u8 [height, width, 3] RGB. frame_index seeds the frame's sensor noise. Throws a [synth] error
  // for a joint that is not finite. Calls on one Renderer from several threads are serialised.
  Tensor render(const Pose& pose, int64_t frame_index) const;
  // The empty room as render() would show it (same sensor effects and noise).
  Tensor render_room(int64_t frame_index) const;

  const Camera& camera() const;
  const SceneLook& look() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// Throws a [synth] error naming the first non-finite joint.
void check_pose(const Pose& pose);
// Throws a [synth] error for a non-positive or non-finite size of `body`.
void check_body_shape(const BodyShape& body);

}  // namespace vg::synth
