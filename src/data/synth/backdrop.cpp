// Rooms: random draws, captions, and drawing the room once per clip (see backdrop.h).
#include "data/synth/backdrop.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"
#include "data/synth/textures.h"

namespace vg::synth {

void Room::validate() const {
  VG_CHECK(std::isfinite(floor_pattern_size) && floor_pattern_size >= 0.02 && floor_pattern_size <= 5, "synth",
           "room floor_pattern_size ", floor_pattern_size, " m is outside [0.02, 5]");
  VG_CHECK(std::isfinite(wall_pattern_size) && wall_pattern_size >= 0.02 && wall_pattern_size <= 5, "synth",
           "room wall_pattern_size ", wall_pattern_size, " m is outside [0.02, 5]");
  VG_CHECK(std::isfinite(floor_variation) && floor_variation >= 0 && floor_variation <= 0.5, "synth",
           "room floor_variation ", floor_variation, " is outside [0, 0.5]");
  VG_CHECK(std::isfinite(back_wall_distance) && back_wall_distance > 0 && back_wall_distance <= 100, "synth",
           "room back_wall_distance ", back_wall_distance, " m is outside (0, 100]");
  VG_CHECK(std::isfinite(side_wall_distance) && side_wall_distance > 0 && side_wall_distance <= 100, "synth",
           "room side_wall_distance ", side_wall_distance, " m is outside (0, 100]");
  VG_CHECK(side_wall >= -1 && side_wall <= 1, "synth", "room side_wall ", side_wall, " is not -1, 0 or 1");
  VG_CHECK(std::isfinite(wall_angle_degrees) && std::abs(wall_angle_degrees) <= 60, "synth",
           "room wall_angle_degrees ", wall_angle_degrees, " is outside [-60, 60]");
  VG_CHECK(pictures >= 0 && pictures <= 3, "synth", "room pictures ", pictures, " is outside 0..3");
  VG_CHECK(std::isfinite(mat_length) && std::isfinite(mat_width) && mat_length > 0 && mat_width > 0 &&
               std::isfinite(mat_center_x) && std::isfinite(mat_center_z) && std::isfinite(mat_angle_degrees),
           "synth", "room mat size ", mat_length, " x ", mat_width, " or placement is not positive and finite");
}

std::string Room::describe() const {
  std::string wall_text;
  switch (wall) {
    case WallKind::Stripes: wall_text = wall_color.name + " and " + wall_accent.name + " striped wall"; break;
    case WallKind::Bricks: wall_text = wall_color.name + " brick wall"; break;
    default: wall_text = wall_color.name + " wall"; break;
  }
  std::string floor_text;
  switch (floor) {
    case FloorKind::Wood: {
      const double l = luma(floor_color.rgb);
      floor_text = l > 0.55 ? "light wooden floor" : l < 0.3 ? "dark wooden floor" : "wooden floor";
      break;
    }
    case FloorKind::Tiles: floor_text = floor_color.name + " tiled floor"; break;
    case FloorKind::Carpet: floor_text = floor_color.name + " carpet"; break;
    case FloorKind::Concrete: floor_text = floor_color.name + " concrete floor"; break;
    case FloorKind::Plain: floor_text = floor_color.name + " floor"; break;
  }
  auto article = [](const std::string& s) { return std::string(std::string("aeiou").find(s[0]) != std::string::npos ? "an " : "a ") + s; };
  std::string text = article(wall_text) + " and " + article(floor_text);
  if (mat) text += " with " + article(mat_color.name + " exercise mat");
  return text;
}

Room random_room(RandomStream& random) {
  Room r;
  const double floor_kind = random.uniform();
  if (floor_kind < 0.35) {
    r.floor = FloorKind::Wood;
    r.floor_color = random_color(random, {"wood", "wood", "tan", "brown", "dark brown", "beige"});
    r.floor_pattern_size = random.uniform(0.09, 0.22);
  } else if (floor_kind < 0.55) {
    r.floor = FloorKind::Tiles;
    r.floor_color = random_color(random, {"white", "cream", "light grey", "grey", "beige", "terracotta", "dark grey", "black"});
    r.floor_accent = random_color(random, {"light grey", "grey", "white", "dark grey"});
    r.floor_pattern_size = random.uniform(0.25, 0.6);
  } else if (floor_kind < 0.7) {
    r.floor = FloorKind::Carpet;
    r.floor_color = random_color(random, {"grey", "dark grey", "beige", "navy", "maroon", "dark green", "blue", "brown"});
  } else if (floor_kind < 0.85) {
    r.floor = FloorKind::Concrete;
    r.floor_color = random_color(random, {"grey", "light grey", "dark grey"});
  } else {
    r.floor = FloorKind::Plain;  // vinyl or rubber gym flooring
    r.floor_color = random_color(random, {"black", "dark grey", "grey", "blue", "green", "terracotta", "beige"});
  }
  r.floor_variation = random.uniform(0.04, 0.2);

  r.mat = random.chance(0.4);
  r.mat_color = random_color(random, {"blue", "purple", "pink", "black", "green", "teal", "grey", "lavender", "red",
                                      "orange", "sage green", "light blue", "magenta"});
  r.mat_length = random.uniform(1.7, 1.9);
  r.mat_width = random.uniform(0.58, 0.7);
  r.mat_center_x = random.uniform(-0.1, 0.1);
  r.mat_center_z = random.uniform(-0.08, 0.08);
  r.mat_angle_degrees = random.uniform(-6, 6);

  const double wall_kind = random.uniform();
  const std::vector<std::string> paints = {"white", "white", "cream", "light grey", "grey", "beige", "sky blue",
                                           "sage green", "lavender", "pink", "yellow", "terracotta", "dark grey",
                                           "navy", "teal", "light blue", "olive"};
  r.wall = wall_kind < 0.4 ? WallKind::Plain : wall_kind < 0.55 ? WallKind::Gradient : wall_kind < 0.67 ? WallKind::Stripes
           : wall_kind < 0.8 ? WallKind::Bricks : WallKind::Plaster;
  if (r.wall == WallKind::Bricks) {
    r.wall_color = random_color(random, {"terracotta", "terracotta", "brown", "white", "grey", "maroon"});
    r.wall_accent = random_color(random, {"light grey", "grey", "cream"});
  } else {
    r.wall_color = random_color(random, paints);
    for (int attempt = 0; attempt < 6; ++attempt) {  // the second colour must show
      r.wall_accent = random_color(random, paints);
      if (r.wall_accent.name != r.wall_color.name && color_distance(r.wall_accent.rgb, r.wall_color.rgb) > 0.25) break;
    }
  }
  r.wall_pattern_size = random.uniform(0.12, 0.6);
  r.vertical_stripes = random.chance(0.7);
  r.baseboard = random.chance(0.7);
  r.baseboard_color = random_color(random, {"white", "white", "dark brown", "black", "grey", "wood"});
  const double pictures = random.uniform();
  r.pictures = pictures < 0.45 ? 0 : pictures < 0.75 ? 1 : pictures < 0.92 ? 2 : 3;

  r.back_wall_distance = random.uniform(1.6, 4.5);
  r.wall_angle_degrees = random.uniform(-35, 35);
  r.side_wall = random.chance(0.5) ? 0 : random.chance(0.5) ? -1 : 1;
  r.side_wall_distance = random.uniform(1.5, 3.5);
  r.texture_seed = RandomStream::mix(static_cast<uint64_t>(random.uniform() * 9007199254740992.0));
  return r;
}

Backdrop::Backdrop(const CameraFrame& camera, const Room& room, const Lighting& lighting) {
  room.validate();
  VG_CHECK(camera.origin.y > 0, "synth", "camera height ", camera.origin.y, " m is not above the floor (y = 0)");
  const int width = camera.width, height = camera.height;
  const size_t pixels = static_cast<size_t>(width) * height;
  radiance_.assign(pixels * 3, 0.0f);
  floor_points_.assign(pixels, {std::numeric_limits<float>::quiet_NaN(), 0.0f, 0.0f, false});
  const ShadingLight light(lighting);
  const RoomMaterials materials(room);
  const Vec3 up{0, 1, 0};

  // The room's frame: `back` runs horizontally from the camera towards the back wall, `across`
  // along the back wall to the camera's right. A camera looking straight down uses its picture's up.
  Vec3 view{camera.forward.x, 0, camera.forward.z};
  if (norm(view) < 1e-6) view = {camera.up.x, 0, camera.up.z};
  view = normalized(view);
  const double angle = room.wall_angle_degrees * std::numbers::pi / 180;
  const Vec3 back = normalized(Vec3{view.x * std::cos(angle) + view.z * std::sin(angle), 0,
                                    -view.x * std::sin(angle) + view.z * std::cos(angle)});
  const Vec3 across = cross(back, up);
  const Vec3 centre{camera.target.x, 0, camera.target.z};
  const Vec3 eye = camera.origin - centre;
  // Keep the camera inside the room, whatever the draws say.
  const double back_distance = std::max(room.back_wall_distance, dot(eye, back) + 0.5);
  const int side = room.side_wall;
  const double side_distance = side == 0 ? 0 : std::max(room.side_wall_distance, side * dot(eye, across) + 0.5);

  const double mat_angle = room.mat_angle_degrees * std::numbers::pi / 180;
  const double mat_cos = std::cos(mat_angle), mat_sin = std::sin(mat_angle);
  const Rgb mat_albedo = room.mat_color.rgb;
  const double ambient_level = luma(light.ambient), direct_level = luma(light.diffuse);

  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const Vec3 d = camera.ray(x + 0.5, y + 0.5);
      const double ray_length = norm(d);
      const Vec3 to_eye = d * (-1 / ray_length);
      double t = std::numeric_limits<double>::infinity();
      int surface = -1;  // 0 floor, 1 back wall, 2 side wall
      if (d.y < 0) t = -camera.origin.y / d.y, surface = 0;
      const double toward_back = dot(d, back);
      if (toward_back > 1e-9) {
        const double t_back = (back_distance - dot(eye, back)) / toward_back;
        if (t_back < t) t = t_back, surface = 1;
      }
      const double toward_side = side * dot(d, across);
      if (side != 0 && toward_side > 1e-9) {
        const double t_side = (side_distance - side * dot(eye, across)) / toward_side;
        if (t_side < t) t = t_side, surface = 2;
      }
      const size_t pixel = static_cast<size_t>(y) * width + x;
      if (d.y < 0) {
        const Vec3 on_floor = camera.origin - d * (camera.origin.y / d.y);
        floor_points_[pixel] = {static_cast<float>(on_floor.x), static_cast<float>(on_floor.z), 0.0f, false};
      }
      Rgb radiance;
      if (surface < 0) {  // a ray escaping every surface (only with extreme fields of view)
        radiance = room.wall_color.rgb * light.ambient;
      } else {
        const Vec3 p = camera.origin + d * t;
        const Vec3 normal = surface == 0 ? up : surface == 1 ? back * -1.0 : across * static_cast<double>(-side);
        // The pixel's size on the surface: the ray's spread, stretched where it grazes.
        const double grazing = std::max(0.04, std::abs(dot(to_eye, normal)));
        const double footprint = t * ray_length / camera.focal / std::sqrt(grazing);
        const double room_across = dot(p - centre, across), room_along = dot(p - centre, back);
        Rgb albedo;
        double occlusion = 1;  // soft darkening where floor and walls meet
        if (surface == 0) {
          albedo = materials.floor(room_across, room_along, footprint);
          if (room.mat) {
            const double mx = p.x - room.mat_center_x, mz = p.z - room.mat_center_z;
            const double along_mat = mx * mat_cos + mz * mat_sin, across_mat = -mx * mat_sin + mz * mat_cos;
            const double coverage = texture::interval_coverage(along_mat, -0.5 * room.mat_length, 0.5 * room.mat_length, footprint) *
                                    texture::interval_coverage(across_mat, -0.5 * room.mat_width, 0.5 * room.mat_width, footprint);
            if (coverage > 0) {
              // A rubber mat: faint ribs across it and a slightly darker rim.
              const double rim = std::max(texture::interval_coverage(std::abs(along_mat), 0.5 * room.mat_length - 0.02, 1e9, footprint),
                                          texture::interval_coverage(std::abs(across_mat), 0.5 * room.mat_width - 0.02, 1e9, footprint));
              const double ribs = texture::square_wave_coverage(along_mat, 0.012, 0.006, footprint);
              albedo = mix(albedo, mat_albedo * ((1 - 0.12 * rim) * (0.97 + 0.06 * ribs)), coverage);
            }
          }
          occlusion -= 0.3 * std::exp(-(back_distance - room_along) / 0.25);
          if (side != 0) occlusion -= 0.3 * std::exp(-(side_distance - side * room_across) / 0.25);
        } else if (surface == 1) {
          albedo = materials.wall(0, room_across, p.y, footprint);
          occlusion -= 0.25 * std::exp(-p.y / 0.2);
          if (side != 0) occlusion -= 0.25 * std::exp(-(side_distance - side * room_across) / 0.25);
        } else {
          albedo = materials.wall(1, side * room_along, p.y, footprint);
          occlusion -= 0.25 * std::exp(-p.y / 0.2) + 0.25 * std::exp(-(back_distance - room_along) / 0.25);
        }
        occlusion = std::max(occlusion, 0.4);
        radiance = light.shade(albedo, 0, normal, to_eye) * occlusion;
        if (surface == 0) {
          const double lambert = std::max(0.0, light.to_light.y);
          const double direct = direct_level * lambert, total = ambient_level + direct;
          floor_points_[pixel].direct_share = static_cast<float>(total > 0 ? direct / total : 0);
          floor_points_[pixel].visible = true;
        }
      }
      float* out = radiance_.data() + pixel * 3;
      out[0] = static_cast<float>(radiance.r);
      out[1] = static_cast<float>(radiance.g);
      out[2] = static_cast<float>(radiance.b);
    }
  }
}

}  // namespace vg::synth
