// The renderer of the synthetic performer: pinhole projection, what lands on which pixel (head,
// thigh, room, a forearm in front of the torso, a body lying on the floor), determinism and
// per-frame noise, captions, random looks, and [synth] errors for bad inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <set>
#include <string>

#include "data/synth/render.h"
#include "support/tensor_testing.h"

namespace vg::synth {
namespace {

using vg::testing::expect_error;

// ---- helpers ----

struct Pixel {
  double r, g, b;
};

Pixel pixel_at(const Tensor& image, double u, double v) {
  const int x = static_cast<int>(std::floor(u)), y = static_cast<int>(std::floor(v));
  EXPECT_GE(x, 0);
  EXPECT_GE(y, 0);
  EXPECT_LT(x, image.size(1));
  EXPECT_LT(y, image.size(0));
  const uint8_t* p = image.data<uint8_t>() + (static_cast<int64_t>(y) * image.size(1) + x) * 3;
  return {static_cast<double>(p[0]), static_cast<double>(p[1]), static_cast<double>(p[2])};
}

// Whether `pixel` is the surface colour `albedo` under some amount of light between the ambient
// light in shade and full light with a highlight: pixel = k * albedo * 255 for one k in range,
// within a few levels per channel.
::testing::AssertionResult shaded_like(const Pixel& pixel, const Rgb& albedo, const Lighting& light) {
  const double a[3] = {albedo.r * 255, albedo.g * 255, albedo.b * 255};
  const double p[3] = {pixel.r, pixel.g, pixel.b};
  const double k = (a[0] * p[0] + a[1] * p[1] + a[2] * p[2]) / (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
  double worst = 0;
  for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(p[c] - k * a[c]));
  const double k_min = 0.5 * light.ambient, k_max = light.ambient + light.intensity + 0.3;
  if (k >= k_min && k <= k_max && worst <= 14) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "pixel (" << pixel.r << ", " << pixel.g << ", " << pixel.b << ") is not ("
                                       << a[0] << ", " << a[1] << ", " << a[2] << ") shaded: scale " << k
                                       << " (allowed " << k_min << ".." << k_max << "), off by " << worst;
}

// A look with colours far apart, a light from the camera's side, and no sensor effects.
SceneLook test_look() {
  SceneLook look;
  Appearance& a = look.appearance;
  a.skin = {{0.86, 0.67, 0.53}, "medium"};
  a.hair = color_named("black");
  a.shirt = color_named("red");
  a.sleeves = color_named("green");
  a.long_sleeves = true;
  a.pants = color_named("blue");
  a.long_pants = true;
  a.shoes = color_named("white");
  look.room.floor = FloorKind::Plain;
  look.room.floor_color = color_named("beige");
  look.room.wall = WallKind::Plain;
  look.room.wall_color = color_named("light grey");
  look.room.baseboard = false;
  look.lighting.direction = {0.3, 1.0, 1.0};
  look.lighting.intensity = 0.6;
  look.lighting.ambient = 0.4;
  return look;
}

Camera front_camera(int width = 320, int height = 240) {
  Camera c;
  c.position = {0, 1.2, 3.2};
  c.target = {0, 0.95, 0};
  c.vertical_fov_degrees = 50;
  c.width = width;
  c.height = height;
  return c;
}

// The right forearm held across the front of the chest, elbow bent, like a held phone.
Pose forearm_across_chest(const BodyShape& b) {
  Pose p = standing_pose(b);
  const Vec3 shoulder = p[Joint::RightShoulder];
  const Vec3 elbow = shoulder + Vec3{0.02, -std::cos(0.45), std::sin(0.45)} * b.upper_arm;
  const Vec3 along = normalized(Vec3{0.95, 0.05, 0.25});
  p[Joint::RightElbow] = elbow;
  p[Joint::RightWrist] = elbow + along * b.forearm;
  p[Joint::RightHand] = elbow + along * (b.forearm + b.hand);
  return p;
}

// Lying on the back along x, head towards -x, as at the start of a glute bridge.
Pose lying_on_back(const BodyShape& b) {
  const Pose standing = standing_pose(b);
  Pose p;
  // standing (x left, y up, z front) -> lying (x left = +z... ): up -> -x, front -> +y, left -> -z
  for (size_t j = 0; j < kJointCount; ++j) {
    const Vec3& q = standing.joints[j];
    p.joints[j] = Vec3{0.85, b.torso_half_depth, 0} + Vec3{0, 0, -1} * q.x + Vec3{-1, 0, 0} * q.y + Vec3{0, 1, 0} * q.z;
  }
  return p;
}

// ---- projection ----

TEST(RenderCamera, ProjectsLikeAPinhole) {
  Camera c;
  c.position = {0, 0, 5};
  c.target = {0, 0, 0};
  c.vertical_fov_degrees = 90;  // focal length = (100 / 2) / tan(45 deg) = 50 pixels
  c.width = 200;
  c.height = 100;
  Camera::Projection p = c.project({0, 0, 0});
  EXPECT_TRUE(p.in_front);
  EXPECT_NEAR(p.u, 100, 1e-9);
  EXPECT_NEAR(p.v, 50, 1e-9);
  EXPECT_NEAR(p.depth, 5, 1e-12);
  p = c.project({1, 0.5, 0});  // right and up of the target: u grows, v shrinks
  EXPECT_NEAR(p.u, 100 + 50 * 1.0 / 5, 1e-9);
  EXPECT_NEAR(p.v, 50 - 50 * 0.5 / 5, 1e-9);
  p = c.project({-2, -1, 3});  // nearer: depth 2
  EXPECT_NEAR(p.depth, 2, 1e-12);
  EXPECT_NEAR(p.u, 100 - 50 * 2.0 / 2, 1e-9);
  EXPECT_NEAR(p.v, 50 + 50 * 1.0 / 2, 1e-9);

  // A camera on the +x axis looking at the origin: the world's -z is to the picture's right.
  Camera side;
  side.position = {3, 1, 0};
  side.target = {0, 1, 0};
  side.vertical_fov_degrees = 60;
  side.width = 320;
  side.height = 240;
  const double focal = 120 / std::tan(std::numbers::pi / 6);
  p = side.project({0, 1.5, -1});
  EXPECT_TRUE(p.in_front);
  EXPECT_NEAR(p.depth, 3, 1e-12);
  EXPECT_NEAR(p.u, 160 + focal * 1 / 3, 1e-9);
  EXPECT_NEAR(p.v, 120 - focal * 0.5 / 3, 1e-9);
}

TEST(RenderCamera, FlagsPointsBehindTheCamera) {
  Camera c;
  c.position = {0, 1, 4};
  c.target = {0, 1, 0};
  EXPECT_FALSE(c.project({0, 1, 5}).in_front);
  EXPECT_FALSE(c.project({1, 1, 4}).in_front);  // in the camera's own plane
  EXPECT_LT(c.project({0, 1, 5}).depth, 0);
  EXPECT_TRUE(std::isnan(c.project({0, 1, 6}).u));
  EXPECT_TRUE(c.project({0, 1, 3.9}).in_front);
}

TEST(RenderCamera, PixelCentresAndRaysAgree) {
  Camera c = front_camera(7, 5);  // odd sizes: the centre pixel (3, 2) is centred on the axis
  const CameraFrame frame(c);
  const Camera::Projection centre = c.project(c.target);
  EXPECT_NEAR(centre.u, 3.5, 1e-9);
  EXPECT_NEAR(centre.v, 2.5, 1e-9);
  for (const auto& [u, v] : {std::pair{0.5, 0.5}, std::pair{6.5, 4.5}, std::pair{2.25, 3.75}}) {
    const Vec3 point = frame.origin + frame.ray(u, v) * 2.5;
    const Camera::Projection p = c.project(point);
    EXPECT_NEAR(p.u, u, 1e-9);
    EXPECT_NEAR(p.v, v, 1e-9);
    EXPECT_NEAR(p.depth, 2.5, 1e-9) << "rays are scaled to unit depth";
  }
  // Rolling the camera by 180 degrees turns the picture upside down about its centre.
  Camera rolled = c;
  rolled.roll_degrees = 180;
  const Vec3 point{0.3, 1.4, 0};
  EXPECT_NEAR(rolled.project(point).u, 7 - c.project(point).u, 1e-9);
  EXPECT_NEAR(rolled.project(point).v, 5 - c.project(point).v, 1e-9);
  // Looking straight down still gives a frame.
  Camera down;
  down.position = {0, 3, 0};
  down.target = {0, 0, 0};
  EXPECT_NEAR(down.project({0, 0, 0}).u, 160, 1e-9);
}

// ---- what lands where ----

TEST(Render, HeadThighAndRoomShowTheirColours) {
  const BodyShape body = BodyShape::standard(1.75);
  const SceneLook look = test_look();
  const Camera camera = front_camera();
  const Renderer renderer(camera, look, body);
  const Pose pose = standing_pose(body);
  const Tensor image = renderer.render(pose, 0);
  ASSERT_EQ(image.dtype(), DType::U8);
  ASSERT_EQ(image.shape(), Shape({240, 320, 3}));

  // The face, seen from the front, is skin; the top of the head is hair.
  const Camera::Projection head = camera.project(pose[Joint::Head]);
  EXPECT_TRUE(shaded_like(pixel_at(image, head.u, head.v), look.appearance.skin.rgb, look.lighting));
  const Camera::Projection crown = camera.project(pose[Joint::Head] + Vec3{0, 0.8 * body.head_radius, 0});
  EXPECT_TRUE(shaded_like(pixel_at(image, crown.u, crown.v), look.appearance.hair.rgb, look.lighting));
  // Mid-thigh is the pants, mid-chest the shirt, mid-shin the (long) pants, the sole line the shoes.
  const Camera::Projection thigh = camera.project(lerp(pose[Joint::LeftHip], pose[Joint::LeftKnee], 0.5));
  EXPECT_TRUE(shaded_like(pixel_at(image, thigh.u, thigh.v), look.appearance.pants.rgb, look.lighting));
  const Camera::Projection chest = camera.project(lerp(pose[Joint::Waist], pose[Joint::Chest], 0.5));
  EXPECT_TRUE(shaded_like(pixel_at(image, chest.u, chest.v), look.appearance.shirt.rgb, look.lighting));
  const Camera::Projection upper_arm = camera.project(lerp(pose[Joint::RightShoulder], pose[Joint::RightElbow], 0.5));
  EXPECT_TRUE(shaded_like(pixel_at(image, upper_arm.u, upper_arm.v), look.appearance.sleeves.rgb, look.lighting));

  // Far from the body: the room, exactly as the empty room renders.
  const Tensor room = renderer.render_room(0);
  for (const auto& [u, v] : {std::pair{5.5, 5.5}, std::pair{314.5, 30.5}, std::pair{20.5, 230.5}}) {
    const Pixel a = pixel_at(image, u, v), b = pixel_at(room, u, v);
    EXPECT_EQ(a.r, b.r);
    EXPECT_EQ(a.g, b.g);
    EXPECT_EQ(a.b, b.b);
  }
  EXPECT_TRUE(shaded_like(pixel_at(image, 5.5, 5.5), look.room.wall_color.rgb, look.lighting));
  EXPECT_TRUE(shaded_like(pixel_at(image, 20.5, 230.5), look.room.floor_color.rgb, look.lighting));
  // And the body is not drawn in the empty room.
  EXPECT_FALSE(shaded_like(pixel_at(room, thigh.u, thigh.v), look.appearance.pants.rgb, look.lighting));
}

TEST(Render, AForearmInFrontOfTheTorsoHidesItAndIsHiddenFromBehind) {
  const BodyShape body = BodyShape::standard(1.75);
  const SceneLook look = test_look();  // green sleeves, red shirt
  const Pose pose = forearm_across_chest(body);
  const Vec3 forearm_middle = lerp(pose[Joint::RightElbow], pose[Joint::RightWrist], 0.5);
  {
    const Camera camera = front_camera();
    const Tensor image = Renderer(camera, look, body).render(pose, 0);
    const Camera::Projection p = camera.project(forearm_middle);
    EXPECT_TRUE(shaded_like(pixel_at(image, p.u, p.v), look.appearance.sleeves.rgb, look.lighting));
  }
  {
    // From behind, the torso is between the camera and the forearm. The light follows the
    // camera so the back is lit.
    Camera camera = front_camera();
    camera.position.z = -camera.position.z;
    SceneLook behind = look;
    behind.lighting.direction.z = -behind.lighting.direction.z;
    const Tensor image = Renderer(camera, behind, body).render(pose, 0);
    const Camera::Projection p = camera.project(forearm_middle);
    EXPECT_TRUE(shaded_like(pixel_at(image, p.u, p.v), look.appearance.shirt.rgb, behind.lighting));
  }
}

TEST(Render, ABodyLyingOnTheFloorIsDrawnAndShadowsIt) {
  const BodyShape body = BodyShape::standard(1.75);
  const SceneLook look = test_look();
  Camera camera;
  camera.position = {1.0, 2.2, 2.6};
  camera.target = {0, 0.1, 0};
  const Pose pose = lying_on_back(body);
  const Renderer renderer(camera, look, body);
  const Tensor image = renderer.render(pose, 0), room = renderer.render_room(0);

  // The pelvis, seen from above, is the pants; the chest the shirt.
  const Vec3 up{0, 1, 0};
  const Camera::Projection pelvis = camera.project(pose[Joint::Pelvis] + up * body.torso_half_depth);
  EXPECT_TRUE(shaded_like(pixel_at(image, pelvis.u, pelvis.v), look.appearance.pants.rgb, look.lighting));
  const Camera::Projection chest = camera.project(lerp(pose[Joint::Waist], pose[Joint::Chest], 0.5) + up * body.torso_half_depth);
  EXPECT_TRUE(shaded_like(pixel_at(image, chest.u, chest.v), look.appearance.shirt.rgb, look.lighting));
  // The floor right beside the waist is in the body's shadow, darker than the empty room's.
  const Vec3 beside = Vec3{pose[Joint::Waist].x, 0, 0} + Vec3{0, 0, body.waist_half_width + 0.04};
  const Camera::Projection floor = camera.project(beside);
  const Pixel shaded = pixel_at(image, floor.u, floor.v), bare = pixel_at(room, floor.u, floor.v);
  EXPECT_TRUE(shaded_like(shaded, look.room.floor_color.rgb, look.lighting));
  EXPECT_LT(shaded.r + shaded.g + shaded.b, 0.85 * (bare.r + bare.g + bare.b));
  // Far from the body the floor is untouched.
  const Camera::Projection far = camera.project({-1.5, 0, 1.2});
  const Pixel far_image = pixel_at(image, far.u, far.v), far_room = pixel_at(room, far.u, far.v);
  EXPECT_EQ(far_image.r + far_image.g + far_image.b, far_room.r + far_room.g + far_room.b);
}

// ---- determinism and noise ----

std::vector<uint8_t> bytes(const Tensor& t) { return t.to_vector<uint8_t>(); }

TEST(Render, IsDeterministic) {
  RandomStream random(5);
  SceneLook look = random_scene_look(random);
  look.sensor.noise_sigma = 3;
  look.sensor.blur = 0.7;
  look.sensor.vignette = 0.3;
  const BodyShape body = BodyShape::standard(1.7, 1.02, 1.1);
  const Pose pose = forearm_across_chest(body);
  const Renderer a(front_camera(224, 224), look, body), b(front_camera(224, 224), look, body);
  EXPECT_EQ(bytes(a.render(pose, 3)), bytes(b.render(pose, 3)));
  // A frame does not depend on the frames drawn before it.
  const std::vector<uint8_t> first = bytes(a.render(pose, 7));
  (void)a.render(standing_pose(body), 8);
  (void)a.render(lying_on_back(body), 9);
  EXPECT_EQ(bytes(a.render(pose, 7)), first);
}

TEST(Render, NoiseChangesPerFrameWithTheRequestedSpread) {
  const BodyShape body = BodyShape::standard(1.75);
  SceneLook look = test_look();
  look.room.wall_color = color_named("grey");  // mid-grey: no clipping at 0 or 255
  look.room.floor_color = color_named("grey");
  const Pose pose = standing_pose(body);
  const Tensor clean = Renderer(front_camera(), look, body).render(pose, 0);
  look.sensor.noise_sigma = 4;
  look.sensor.noise_seed = 99;
  const Renderer noisy(front_camera(), look, body);
  const std::vector<uint8_t> base = bytes(clean), f0 = bytes(noisy.render(pose, 0)), f1 = bytes(noisy.render(pose, 1));
  ASSERT_EQ(base.size(), f0.size());
  EXPECT_NE(f0, f1);
  double n = 0, sum0 = 0, sum_sq0 = 0, sum_sq1 = 0, sum01 = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    if (base[i] < 30 || base[i] > 225) continue;
    const double e0 = f0[i] - static_cast<double>(base[i]), e1 = f1[i] - static_cast<double>(base[i]);
    n += 1, sum0 += e0, sum_sq0 += e0 * e0, sum_sq1 += e1 * e1, sum01 += e0 * e1;
  }
  ASSERT_GT(n, 100000);
  EXPECT_NEAR(sum0 / n, 0, 0.1);
  EXPECT_NEAR(std::sqrt(sum_sq0 / n), 4, 0.3);
  EXPECT_NEAR(std::sqrt(sum_sq1 / n), 4, 0.3);
  EXPECT_LT(std::abs(sum01 / std::sqrt(sum_sq0 * sum_sq1)), 0.05) << "frames share their noise";
  // Another noise seed, other noise for the same frame index.
  look.sensor.noise_seed = 100;
  EXPECT_NE(bytes(Renderer(front_camera(), look, body).render(pose, 0)), f0);
}

TEST(Render, SensorEffectsChangeThePicture) {
  const BodyShape body = BodyShape::standard(1.75);
  const SceneLook plain = test_look();
  const Pose pose = standing_pose(body);
  const std::vector<uint8_t> base = bytes(Renderer(front_camera(), plain, body).render(pose, 0));
  auto mean = [](const std::vector<uint8_t>& v) {
    double s = 0;
    for (const uint8_t x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  SceneLook brighter = plain;
  brighter.sensor.brightness = 1.2;
  EXPECT_GT(mean(bytes(Renderer(front_camera(), brighter, body).render(pose, 0))), mean(base) + 5);
  SceneLook vignetted = plain;
  vignetted.sensor.vignette = 0.4;
  const Tensor v = Renderer(front_camera(), vignetted, body).render(pose, 0);
  const Pixel corner = pixel_at(v, 0.5, 0.5), corner_base = pixel_at(Renderer(front_camera(), plain, body).render(pose, 0), 0.5, 0.5);
  EXPECT_LT(corner.r, 0.75 * corner_base.r);
  SceneLook blurred = plain;
  blurred.sensor.blur = 1.0;
  const std::vector<uint8_t> soft = bytes(Renderer(front_camera(), blurred, body).render(pose, 0));
  // Blur keeps the average and lowers the contrast between neighbouring pixels.
  auto roughness = [](const std::vector<uint8_t>& image) {
    double s = 0;
    for (size_t i = 3; i < image.size(); ++i) s += std::abs(image[i] - static_cast<double>(image[i - 3]));
    return s;
  };
  EXPECT_NEAR(mean(soft), mean(base), 1.0);
  EXPECT_LT(roughness(soft), 0.8 * roughness(base));
}

// ---- captions and random looks ----

TEST(RenderLook, DescriptionsNameTheColours) {
  Appearance a;
  EXPECT_EQ(a.describe(), "a red t-shirt, black shorts and white shoes");
  a.long_sleeves = true;
  a.long_pants = true;
  a.pants = color_named("navy");
  a.pattern = ShirtPattern::ChestStripe;
  a.stripe = color_named("white");
  a.shoes = color_named("black");
  EXPECT_EQ(a.describe(), "a red long-sleeved shirt with a white stripe, navy long pants and black shoes");
  a.sleeves = color_named("grey");
  EXPECT_EQ(a.describe(), "a red long-sleeved shirt with a white stripe and grey sleeves, navy long pants and black shoes");
  a.long_sleeves = false;
  a.sleeveless = true;
  a.shirt = color_named("orange");
  a.pattern = ShirtPattern::Hoops;
  EXPECT_EQ(a.describe(), "an orange and white striped tank top, navy long pants and black shoes");
  a.hair = color_named("blonde");
  a.hair_style = HairStyle::Long;
  EXPECT_EQ(a.describe_hair(), "long blonde hair");

  Room r;
  EXPECT_EQ(r.describe(), "a light grey wall and a wooden floor");
  r.wall = WallKind::Bricks;
  r.wall_color = color_named("terracotta");
  r.floor = FloorKind::Tiles;
  r.floor_color = color_named("white");
  r.mat = true;
  r.mat_color = color_named("purple");
  EXPECT_EQ(r.describe(), "a terracotta brick wall and a white tiled floor with a purple exercise mat");
  expect_error([] { color_named("sparkly"); }, {"[synth]", "sparkly", "known colours"});
}

TEST(RenderLook, RandomDrawsVaryAndNameRealColours) {
  RandomStream random(11);
  std::set<std::string> shirts, pants, walls, floors, descriptions;
  int long_pants = 0, long_sleeves = 0, mats = 0, side_walls = 0;
  for (int i = 0; i < 200; ++i) {
    RandomStream scene = random.fork(static_cast<uint64_t>(i));
    const SceneLook look = random_scene_look(scene);
    const Appearance& a = look.appearance;
    shirts.insert(a.shirt.name);
    pants.insert(a.pants.name);
    walls.insert(look.room.wall_color.name);
    floors.insert(look.room.describe().substr(look.room.describe().find(" and ")));
    descriptions.insert(a.describe());
    long_pants += a.long_pants, long_sleeves += a.long_sleeves, mats += look.room.mat, side_walls += look.room.side_wall != 0;
    // Every caption word is a palette colour, and the drawn colour is close to it.
    for (const NamedColor* c : {&a.shirt, &a.pants, &a.shoes, &look.room.wall_color}) {
      EXPECT_LT(color_distance(c->rgb, color_named(c->name).rgb), 0.4) << c->name;
    }
    EXPECT_NE(a.describe().find(a.shirt.name), std::string::npos);
    EXPECT_NE(a.describe().find(a.pants.name), std::string::npos);
    EXPECT_NE(look.room.describe().find(look.room.wall_color.name), std::string::npos);
    EXPECT_GT(normalized(look.lighting.direction).y, 0.3) << "lights come from above";
    EXPECT_NO_THROW(look.sensor.validate());
    EXPECT_NO_THROW(look.room.validate());
  }
  EXPECT_GE(shirts.size(), 15u);
  EXPECT_GE(pants.size(), 10u);
  EXPECT_GE(walls.size(), 10u);
  EXPECT_GE(floors.size(), 15u);
  EXPECT_GE(descriptions.size(), 150u);
  EXPECT_GT(long_pants, 50);
  EXPECT_LT(long_pants, 150);
  EXPECT_GT(long_sleeves, 30);
  EXPECT_GT(mats, 40);
  EXPECT_GT(side_walls, 50);
  // Same stream, same look.
  RandomStream x(3), y(3);
  EXPECT_EQ(random_scene_look(x).appearance.describe(), random_scene_look(y).appearance.describe());
}

// ---- errors ----

TEST(Render, RejectsBadInputsWithSynthErrors) {
  const BodyShape body = BodyShape::standard(1.75);
  const SceneLook look = test_look();
  auto with = [&](auto change) {
    Camera c = front_camera();
    change(c);
    return c;
  };
  expect_error([&] { Renderer(with([](Camera& c) { c.width = 0; }), look, body); }, {"[synth]", "0x240"});
  expect_error([&] { Renderer(with([](Camera& c) { c.height = 5000; }), look, body); }, {"[synth]", "4096"});
  expect_error([&] { Renderer(with([](Camera& c) { c.vertical_fov_degrees = 0.5; }), look, body); },
               {"[synth]", "field of view 0.5"});
  expect_error([&] { Renderer(with([](Camera& c) { c.vertical_fov_degrees = 170; }), look, body); },
               {"[synth]", "(1, 170)"});
  expect_error([&] { Renderer(with([](Camera& c) { c.target = c.position; }), look, body); },
               {"[synth]", "at its target"});
  expect_error([&] { Renderer(with([](Camera& c) { c.position.x = std::nan(""); }), look, body); },
               {"[synth]", "not finite"});
  expect_error([&] { Renderer(with([](Camera& c) { c.position.y = -0.5; }), look, body); },
               {"[synth]", "not above the floor"});
  expect_error([&] { front_camera(224, 0).project({0, 0, 0}); }, {"[synth]", "224x0"});

  const Renderer renderer(front_camera(), look, body);
  Pose pose = standing_pose(body);
  pose[Joint::LeftKnee].y = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { renderer.render(pose, 0); }, {"[synth]", "left_knee", "not finite"});
  pose = standing_pose(body);
  pose[Joint::Head].x = std::numeric_limits<double>::infinity();
  expect_error([&] { renderer.render(pose, 0); }, {"[synth]", "head"});

  SceneLook bad = look;
  bad.sensor.blur = 5;
  expect_error([&] { Renderer(front_camera(), bad, body); }, {"[synth]", "blur 5"});
  bad = look;
  bad.appearance.shirt.rgb.g = 1.5;
  expect_error([&] { Renderer(front_camera(), bad, body); }, {"[synth]", "shirt colour"});
  bad = look;
  bad.lighting.direction = {0, 0, 0};
  expect_error([&] { Renderer(front_camera(), bad, body); }, {"[synth]", "light direction"});
  BodyShape flat = body;
  flat.thigh_radius = 0;
  expect_error([&] { Renderer(front_camera(), look, flat); }, {"[synth]", "thigh_radius"});
  Camera odd = front_camera(225, 133);  // odd sizes are fine
  EXPECT_EQ(Renderer(odd, look, body).render(standing_pose(body), 0).shape(), Shape({133, 225, 3}));
}

}  // namespace
}  // namespace vg::synth
