// Frame times of the renderer, for people tuning it: run with
//   vg_test_synth --gtest_also_run_disabled_tests --gtest_filter='*RenderTiming*'
// Disabled by default and without thresholds: timings depend on the machine and its load.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "data/synth/render.h"

namespace vg::synth {
namespace {

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

TEST(RenderTiming, DISABLED_FrameTimes) {
  const BodyShape body = BodyShape::standard(1.75);
  // A squat-like sequence: the knees bend and straighten, the performer fills most of the frame.
  std::vector<Pose> poses;
  for (int i = 0; i < 60; ++i) {
    Pose p = standing_pose(body);
    const double bend = 0.15 * (1 - std::cos(i * 0.2));
    for (Vec3& joint : p.joints) {
      if (joint.y > body.ankle_height + body.shin) joint.y -= bend, joint.z -= 0.5 * bend;
    }
    poses.push_back(p);
  }
  for (const auto& [width, height] : {std::pair{224, 224}, std::pair{320, 240}, std::pair{640, 480}}) {
    for (const bool effects : {false, true}) {
      RandomStream random(3);
      SceneLook look = random_scene_look(random);
      look.sensor.noise_sigma = effects ? 3 : 0;
      look.sensor.blur = effects ? 0.8 : 0;
      look.sensor.vignette = effects ? 0.3 : 0;
      Camera camera;
      camera.position = {0.9, 1.2, 2.5};
      camera.target = {0, 0.9, 0};
      camera.width = width;
      camera.height = height;
      const double t0 = thread_cpu_ms();
      const Renderer renderer(camera, look, body);
      const double t1 = thread_cpu_ms();
      const int frames = 200;
      for (int i = 0; i < frames; ++i) (void)renderer.render(poses[static_cast<size_t>(i) % poses.size()], i);
      const double t2 = thread_cpu_ms();
      std::printf("%dx%d %-16s room %.1f ms, frame %.3f ms (thread CPU time)\n", width, height,
                  effects ? "noise+blur+vign" : "no effects", t1 - t0, (t2 - t1) / frames);
    }
  }
}

}  // namespace
}  // namespace vg::synth
