// Clip specs: a studio dataset shares one scene, so the motion is what differs between clips.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "data/synth/clip_spec.h"

namespace vg::synth {
namespace {

struct SceneDraws {
  std::set<std::string> shirts, walls, exercises, views;  // views: "exercise: view"
  std::set<double> heights, fields_of_view, camera_heights;
};

SceneDraws scenes_of(bool studio) {
  ClipOptions options;
  options.studio = studio;
  SceneDraws d;
  for (int64_t i = 0; i < 24; ++i) {
    const ClipSpec spec = random_clip(5, i, options);
    d.shirts.insert(spec.look.appearance.shirt.name);
    d.walls.insert(spec.look.room.wall_color.name);
    d.exercises.insert(spec.exercise().name);
    d.views.insert(spec.exercise().name + ": " + spec.view);
    d.heights.insert(spec.body.height);
    d.fields_of_view.insert(spec.camera.vertical_fov_degrees);
    d.camera_heights.insert(spec.camera.position.y);
  }
  return d;
}

TEST(ClipSpec, AStudioDatasetSharesOneSceneAndOneAnglePerExercise) {
  const SceneDraws studio = scenes_of(true);
  EXPECT_EQ(studio.shirts.size(), 1u);
  EXPECT_EQ(studio.walls.size(), 1u);
  EXPECT_EQ(studio.heights.size(), 1u);
  EXPECT_EQ(studio.fields_of_view.size(), 1u);
  EXPECT_EQ(studio.views.size(), studio.exercises.size());  // one camera angle per exercise
  for (const std::string& v : studio.views) {
    EXPECT_TRUE(v.ends_with(": side") || v.ends_with(": three-quarter")) << v;
  }
  // Without it every clip draws its own scene.
  const SceneDraws varied = scenes_of(false);
  EXPECT_GT(varied.shirts.size(), 3u);
  EXPECT_GT(varied.heights.size(), 20u);
  EXPECT_GT(varied.fields_of_view.size(), 20u);
  EXPECT_GT(varied.camera_heights.size(), 20u);
  EXPECT_GT(varied.views.size(), varied.exercises.size());
}

}  // namespace
}  // namespace vg::synth
