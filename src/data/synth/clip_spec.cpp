#include "data/synth/clip_spec.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "data/synth/random_stream.h"

namespace vg::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180;

// Streams for the independent parts of a clip (fork salts): adding a draw to one part leaves
// the others as they were.
enum Salt : uint64_t { kExercise = 1, kMotion, kBody, kLook, kCamera, kTiming };

bool lies_on_the_floor(Exercise e) { return e == Exercise::PushUp || e == Exercise::Plank || e == Exercise::GluteBridge; }

// Every joint of the clip's motion at `samples` instants.
std::vector<Vec3> sampled_joints(const MotionSpec& motion, const BodyShape& body, double seconds, int samples) {
  std::vector<Vec3> points;
  for (int i = 0; i < samples; ++i) {
    const Pose p = pose_at(motion, body, seconds * i / std::max(1, samples - 1));
    points.insert(points.end(), p.joints.begin(), p.joints.end());
  }
  return points;
}

}  // namespace

void validate(const ClipOptions& o) {
  VG_CHECK(o.width >= 64 && o.width <= 1920 && o.height >= 64 && o.height <= 1080, "synth", "the picture size ",
           o.width, "x", o.height, " is outside 64x64 .. 1920x1080");
  VG_CHECK(o.width % 2 == 0 && o.height % 2 == 0, "synth", "the picture size ", o.width, "x", o.height,
           " must be even in both directions (video codecs store colour at half resolution)");
  VG_CHECK(o.fps == 0 || (o.fps >= 1 && o.fps <= 120), "synth", "the frame rate ", o.fps,
           " is outside 1 .. 120 frames per second");
  VG_CHECK(o.min_seconds >= 0.5 && o.max_seconds <= 60 && o.min_seconds <= o.max_seconds, "synth",
           "clip lengths ", o.min_seconds, " .. ", o.max_seconds, " s must lie within 0.5 .. 60 s, the minimum first");
  VG_CHECK(o.good_form_share >= 0 && o.good_form_share <= 1, "synth", "the share of good-form clips ",
           o.good_form_share, " is not within 0 .. 1");
}

int64_t ClipSpec::frame_count() const { return std::max<int64_t>(1, std::llround(seconds * fps)); }

Camera frame_performer(const MotionSpec& motion, const BodyShape& body, double seconds, int width, int height,
                       double azimuth_degrees, double elevation_degrees, double vertical_fov_degrees, double fill) {
  const std::vector<Vec3> points = sampled_joints(motion, body, seconds, 24);
  Vec3 lo = points[0], hi = points[0];
  for (const Vec3& p : points) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
  }
  // Body volume reaches a little beyond the joints (the head's top, the limbs' thickness).
  const double margin = body.head_radius;
  lo -= Vec3{margin, 0, margin};
  hi += Vec3{margin, margin, margin};
  const Vec3 target = (lo + hi) * 0.5;
  const double az = azimuth_degrees * kDeg, el = elevation_degrees * kDeg;
  const Vec3 direction{std::sin(az) * std::cos(el), std::sin(el), std::cos(az) * std::cos(el)};

  Camera camera;
  camera.width = width;
  camera.height = height;
  camera.vertical_fov_degrees = vertical_fov_degrees;
  camera.target = target;
  // Start far, then move in until the sampled body fills `fill` of the frame (projection is not
  // linear in distance near the body, so iterate on the measured extent).
  double distance = 2.5 * norm(hi - lo) + 1.0;
  for (int iteration = 0; iteration < 8; ++iteration) {
    camera.position = target + direction * distance;
    double extent = 0;  // largest |offset from centre| over half the frame size, in u or v
    for (const Vec3& p : points) {
      for (const Vec3& corner : {p, p + Vec3{0, margin, 0}}) {
        const Camera::Projection q = camera.project(corner);
        extent = std::max({extent, std::abs(q.u - width / 2.0) / (width / 2.0), std::abs(q.v - height / 2.0) / (height / 2.0)});
      }
    }
    distance *= std::clamp(extent / fill, 0.5, 2.0);
  }
  camera.position = target + direction * distance;
  return camera;
}

ClipSpec random_clip(uint64_t dataset_seed, int64_t index, const ClipOptions& options) {
  validate(options);
  ClipSpec spec;
  spec.index = index;
  spec.seed = RandomStream::mix(dataset_seed ^ RandomStream::mix(static_cast<uint64_t>(index) + 1));
  const RandomStream root(spec.seed);

  // Exercise uniformly; good form with its share, else one of the named errors.
  RandomStream pick = root.fork(kExercise);
  const auto& catalog = exercise_catalog();
  const ExerciseInfo& info = catalog[static_cast<size_t>(pick.integer(0, static_cast<int64_t>(catalog.size()) - 1))];
  const int errors = static_cast<int>(info.variants.size()) - 1;
  const int variant = pick.chance(options.good_form_share) ? 0 : static_cast<int>(pick.integer(1, errors));
  RandomStream motion_random = root.fork(kMotion);
  spec.motion = random_motion(info.exercise, variant, motion_random);

  RandomStream timing = root.fork(kTiming);
  spec.fps = options.fps > 0 ? options.fps : timing.pick(std::vector<double>{15, 20, 24, 25, 30});
  spec.seconds = timing.uniform(options.min_seconds, options.max_seconds);

  // A studio dataset draws body, look and camera from the dataset's stream, shared by every clip.
  const RandomStream scene_root = options.studio ? RandomStream(RandomStream::mix(dataset_seed)) : root;
  RandomStream body = scene_root.fork(kBody);
  spec.body = BodyShape::standard(body.uniform(1.50, 1.95), body.uniform(0.93, 1.07), body.uniform(0.85, 1.3));

  RandomStream look = scene_root.fork(kLook);
  spec.look.appearance = random_appearance(look);
  spec.look.room = random_room(look);
  spec.look.lighting = random_lighting(look);
  spec.look.sensor = random_sensor_effects(look);

  // Standing exercises face +z: seen from the front, at three-quarters or from the side.
  // Floor exercises lie along x: seen from the side (from +z or -z) or at three-quarters.
  RandomStream cam = scene_root.fork(kCamera);
  double azimuth = 0, elevation = 0;
  if (options.studio) {
    // Floor exercises from the side, standing ones at three-quarters, both from a little above.
    azimuth = lies_on_the_floor(info.exercise) ? 90 : 35;
    elevation = 15;
    spec.view = lies_on_the_floor(info.exercise) ? "side" : "three-quarter";
  } else if (lies_on_the_floor(info.exercise)) {
    const double off_side = cam.uniform(-60, 60);
    azimuth = off_side + (cam.chance(0.5) ? 0 : 180);
    elevation = cam.uniform(10, 35);
    spec.view = std::abs(off_side) < 25 ? "side" : "three-quarter";
  } else {
    const double r = cam.uniform();
    const double magnitude = r < 0.3 ? cam.uniform(0, 20) : r < 0.7 ? cam.uniform(20, 65) : cam.uniform(65, 95);
    azimuth = cam.chance(0.5) ? magnitude : -magnitude;
    elevation = cam.uniform(3, 28);
    spec.view = magnitude < 20 ? "front" : magnitude < 65 ? "three-quarter" : "side";
  }
  spec.camera = frame_performer(spec.motion, spec.body, spec.seconds, options.width, options.height, azimuth,
                                elevation, cam.uniform(40, 60), cam.uniform(0.6, 0.85));
  return spec;
}

}  // namespace vg::synth
