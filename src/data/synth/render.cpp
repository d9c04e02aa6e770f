// The per-clip renderer: the room once, then per frame the body, its shadows, development and
// noise (see render.h).
#include "data/synth/render.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>

#include "core/error.h"
#include "data/synth/body_geometry.h"
#include "data/synth/floor_shadow.h"
#include "data/synth/raster.h"

namespace vg::synth {
namespace {

void check_color(const NamedColor& c, const char* what) {
  for (const double v : {c.rgb.r, c.rgb.g, c.rgb.b}) {
    VG_CHECK(std::isfinite(v) && v >= 0 && v <= 1, "synth", what, " colour '", c.name, "' (", c.rgb.r, ", ", c.rgb.g,
             ", ", c.rgb.b, ") is outside [0, 1]");
  }
}

void check_look(const SceneLook& look) {
  const Appearance& a = look.appearance;
  check_color(a.skin, "skin");
  check_color(a.hair, "hair");
  check_color(a.shirt, "shirt");
  check_color(a.sleeves, "sleeves");
  check_color(a.stripe, "stripe");
  check_color(a.pants, "pants");
  check_color(a.socks, "socks");
  check_color(a.shoes, "shoes");
  check_color(a.soles, "soles");
  VG_CHECK(std::isfinite(a.sleeve_length) && a.sleeve_length >= 0 && a.sleeve_length <= 1 &&
               std::isfinite(a.shorts_length) && a.shorts_length >= 0 && a.shorts_length <= 1,
           "synth", "appearance sleeve_length ", a.sleeve_length, " or shorts_length ", a.shorts_length,
           " is outside [0, 1]");
  const Room& r = look.room;
  check_color(r.floor_color, "floor");
  check_color(r.floor_accent, "floor accent");
  check_color(r.mat_color, "mat");
  check_color(r.wall_color, "wall");
  check_color(r.wall_accent, "wall accent");
  check_color(r.baseboard_color, "baseboard");
  const Lighting& l = look.lighting;
  const Vec3& d = l.direction;
  VG_CHECK(std::isfinite(d.x) && std::isfinite(d.y) && std::isfinite(d.z) && norm(d) > 1e-9, "synth",
           "light direction (", d.x, ", ", d.y, ", ", d.z, ") is zero or not finite");
  VG_CHECK(std::isfinite(l.intensity) && std::isfinite(l.ambient) && l.intensity >= 0 && l.ambient >= 0 &&
               l.intensity <= 4 && l.ambient <= 4,
           "synth", "light intensity ", l.intensity, " or ambient ", l.ambient, " is outside [0, 4]");
  for (const double v : {l.tint.r, l.tint.g, l.tint.b}) {
    VG_CHECK(std::isfinite(v) && v >= 0 && v <= 4, "synth", "light tint (", l.tint.r, ", ", l.tint.g, ", ", l.tint.b,
             ") is outside [0, 4]");
  }
}

}  // namespace

void check_pose(const Pose& pose) {
  for (size_t j = 0; j < kJointCount; ++j) {
    const Vec3& p = pose.joints[j];
    VG_CHECK(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z), "synth", "pose joint '",
             joint_name(static_cast<Joint>(j)), "' is not finite: (", p.x, ", ", p.y, ", ", p.z, ")");
  }
}

void check_body_shape(const BodyShape& b) {
  const std::pair<const char*, double> sizes[] = {
      {"height", b.height},
      {"upper_arm", b.upper_arm},
      {"forearm", b.forearm},
      {"hand", b.hand},
      {"thigh", b.thigh},
      {"shin", b.shin},
      {"foot_length", b.foot_length},
      {"head_radius", b.head_radius},
      {"neck_radius", b.neck_radius},
      {"upper_arm_radius", b.upper_arm_radius},
      {"forearm_radius", b.forearm_radius},
      {"hand_radius", b.hand_radius},
      {"thigh_radius", b.thigh_radius},
      {"shin_radius", b.shin_radius},
      {"foot_radius", b.foot_radius},
      {"chest_half_width", b.chest_half_width},
      {"waist_half_width", b.waist_half_width},
      {"hip_half_width_outer", b.hip_half_width_outer},
      {"torso_half_depth", b.torso_half_depth},
  };
  for (const auto& [name, value] : sizes) {
    VG_CHECK(std::isfinite(value) && value > 0 && value < 10, "synth", "body shape ", name, " = ", value,
             " m is not a positive size (use BodyShape::standard)");
  }
}

SceneLook random_scene_look(RandomStream& random) {
  SceneLook look;
  RandomStream appearance_random = random.fork(0x61707065ull), room_random = random.fork(0x726f6f6dull);
  RandomStream light_random = random.fork(0x6c696768ull), sensor_random = random.fork(0x73656e73ull);
  look.appearance = random_appearance(appearance_random);
  const bool allow_low_contrast = room_random.chance(0.12);
  for (int attempt = 0; attempt < 8; ++attempt) {
    look.room = random_room(room_random);
    if (allow_low_contrast) break;
    const Appearance& a = look.appearance;
    const double wall_gap = std::min(color_distance(a.shirt.rgb, look.room.wall_color.rgb),
                                     color_distance(a.pants.rgb, look.room.wall_color.rgb));
    const double floor_gap = color_distance(a.pants.rgb, look.room.floor_color.rgb);
    if (wall_gap > 0.3 && floor_gap > 0.2) break;
  }
  look.lighting = random_lighting(light_random);
  look.sensor = random_sensor_effects(sensor_random);
  return look;
}

struct Renderer::State {
  Camera camera;
  SceneLook look;
  BodyShape body;
  CameraFrame frame;
  ShadingLight light;
  Backdrop backdrop;
  SensorPipeline sensor;
  FloorShadow shadow;
  BodyRaster raster;
  std::vector<uint8_t> developed_room;  // u8 [height, width, 3], without noise
  std::vector<float> blurred_room;      // the room's radiance through the sensor's blur

  // Per-frame scratch, kept between frames so a frame allocates nothing but its tensor.
  mutable std::mutex mutex;
  mutable std::vector<float> radiance;  // the room's radiance, restored after each frame
  mutable std::vector<float> depth;     // +infinity, restored after each frame
  mutable std::vector<uint8_t> part_ids;
  mutable std::vector<float> body_color;
  mutable std::vector<BodyPart> parts;

  State(const Camera& c, const SceneLook& l, const BodyShape& b)
      : camera(c),
        look(l),
        body(b),
        frame(camera),
        light(look.lighting),
        backdrop(frame, look.room, look.lighting),
        sensor(look.sensor, camera.width, camera.height),
        shadow(frame, backdrop, look.lighting),
        raster(frame) {
    const size_t pixels = static_cast<size_t>(camera.width) * camera.height;
    radiance = backdrop.radiance();
    developed_room.resize(pixels * 3);
    sensor.develop(radiance.data(), {0, 0, camera.width, camera.height}, developed_room.data());
    blurred_room = sensor.blurred(radiance.data());
    depth.assign(pixels, std::numeric_limits<float>::infinity());
    part_ids.assign(pixels, 0);
    body_color.assign(pixels * 3, 0.0f);
  }

  Tensor empty_frame() const {
    Tensor out = Tensor::empty(Shape({camera.height, camera.width, 3}), DType::U8);
    std::memcpy(out.data<uint8_t>(), developed_room.data(), developed_room.size());
    return out;
  }
};

namespace {

std::unique_ptr<Renderer::State> checked_state(const Camera& camera, const SceneLook& look, const BodyShape& body) {
  camera.validate();
  check_look(look);
  look.room.validate();
  look.sensor.validate();
  check_body_shape(body);
  return std::make_unique<Renderer::State>(camera, look, body);
}

}  // namespace

Renderer::Renderer(const Camera& camera, const SceneLook& look, const BodyShape& body)
    : state_(checked_state(camera, look, body)) {}
Renderer::~Renderer() = default;
Renderer::Renderer(Renderer&&) noexcept = default;
Renderer& Renderer::operator=(Renderer&&) noexcept = default;

const Camera& Renderer::camera() const { return state_->camera; }
const SceneLook& Renderer::look() const { return state_->look; }

Tensor Renderer::render_room(int64_t frame_index) const {
  Tensor out = state_->empty_frame();
  state_->sensor.add_noise(out.data<uint8_t>(), frame_index);
  return out;
}

Tensor Renderer::render(const Pose& pose, int64_t frame_index) const {
  check_pose(pose);
  State& s = *state_;
  const std::lock_guard<std::mutex> lock(s.mutex);
  const int width = s.camera.width, height = s.camera.height;
  build_body_parts(pose, s.body, s.look.appearance, s.parts);

  // Shadows first: they darken the room behind the body, which the edges of the body blend with.
  const PixelBox shadowed = s.shadow.apply(s.parts);
  const PixelBox body = s.raster.prepare(s.parts);
  const int blur = s.sensor.blur_radius();
  const PixelBox body_output = body.grown(blur, width, height);      // pixels whose output sees the body
  const PixelBox body_input = body.grown(2 * blur, width, height);   // pixels those read
  const float* gains = s.shadow.gains();
  for (int y = std::max(body_input.y0, shadowed.y0); y < std::min(body_input.y1, shadowed.y1); ++y) {
    for (int x = std::max(body_input.x0, shadowed.x0); x < std::min(body_input.x1, shadowed.x1); ++x) {
      const size_t pixel = static_cast<size_t>(y) * width + x;
      const float gain = gains[pixel];
      float* c = s.radiance.data() + pixel * 3;
      c[0] *= gain, c[1] *= gain, c[2] *= gain;
    }
  }
  s.raster.draw(s.light, {s.radiance.data(), s.depth.data(), s.part_ids.data(), s.body_color.data()});

  Tensor out = s.empty_frame();
  uint8_t* pixels = out.data<uint8_t>();
  s.sensor.develop_with_gains(s.blurred_room.data(), gains, shadowed, pixels);
  s.sensor.develop(s.radiance.data(), body_output, pixels);
  s.sensor.add_noise(pixels, frame_index);

  // Put the scratch back as the next frame expects it: the bare room, an empty depth buffer.
  const std::vector<float>& room = s.backdrop.radiance();
  for (int y = body_input.y0; y < body_input.y1; ++y) {
    const size_t begin = (static_cast<size_t>(y) * width + body_input.x0) * 3;
    const size_t count = static_cast<size_t>(body_input.x1 - body_input.x0) * 3;
    std::memcpy(s.radiance.data() + begin, room.data() + begin, count * sizeof(float));
  }
  for (int y = body.y0; y < body.y1; ++y) {
    std::fill_n(s.depth.data() + static_cast<size_t>(y) * width + body.x0, body.x1 - body.x0,
                std::numeric_limits<float>::infinity());
  }
  return out;
}

}  // namespace vg::synth
