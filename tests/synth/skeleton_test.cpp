// The shared skeleton: standard proportions stand a body of the asked height on the floor.
#include <gtest/gtest.h>

#include "data/synth/random_stream.h"
#include "data/synth/skeleton.h"

namespace vg::synth {
namespace {

TEST(Skeleton, StandingPoseHasTheBodysHeightAndBoneLengths) {
  for (double height : {1.55, 1.75, 1.95}) {
    const BodyShape b = BodyShape::standard(height);
    const Pose p = standing_pose(b);
    // Top of the head at about the standing height (Winter's ratios put it within 1%).
    EXPECT_NEAR(p[Joint::Head].y + b.head_radius, height, 0.01 * height);
    EXPECT_NEAR(distance(p[Joint::LeftHip], p[Joint::LeftKnee]), b.thigh, 1e-12);
    EXPECT_NEAR(distance(p[Joint::RightKnee], p[Joint::RightAnkle]), b.shin, 1e-12);
    EXPECT_NEAR(distance(p[Joint::LeftShoulder], p[Joint::LeftElbow]), b.upper_arm, 1e-12);
    EXPECT_NEAR(distance(p[Joint::LeftHeel], p[Joint::LeftToe]), b.foot_length, 1e-12);
    EXPECT_GT(p[Joint::LeftHip].x, 0) << "the performer's left is +x";
    EXPECT_GT(p[Joint::LeftToe].z, p[Joint::LeftHeel].z) << "the performer faces +z";
    EXPECT_DOUBLE_EQ(p[Joint::LeftHeel].y, 0.0);
  }
  EXPECT_STREQ(joint_name(Joint::RightToe), "right_toe");
  EXPECT_STREQ(joint_name(Joint::Pelvis), "pelvis");
}

TEST(Skeleton, RandomStreamsAreDeterministicAndForksIndependent) {
  RandomStream a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.uniform(), b.uniform());
  RandomStream c(42);
  RandomStream camera = c.fork(1), light = c.fork(2);
  EXPECT_NE(camera.uniform(), light.uniform());
  double lo = 1, hi = 0, mean = 0;
  RandomStream d(7);
  for (int i = 0; i < 10000; ++i) {
    const int64_t k = d.integer(3, 5);
    EXPECT_GE(k, 3);
    EXPECT_LE(k, 5);
    const double u = d.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    mean += d.normal() / 10000;
  }
  EXPECT_LT(lo, 0.01);
  EXPECT_GT(hi, 0.99);
  EXPECT_NEAR(mean, 0.0, 0.05);
}

}  // namespace
}  // namespace vg::synth
