// Synthetic exercises: the catalog, and what every motion must keep at all times: exact bone
// lengths, nothing through the floor, planted hands and feet, smooth and deterministic motion,
// clear errors for bad input.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <sstream>
#include <string>

#include "core/error.h"
#include "data/synth/kinematics.h"
#include "motion_testing.h"

namespace vg::synth {
namespace {

using namespace vg::synth::testing;

// Specs covering every exercise and variant with varied tempo, start phase, range, severity and
// style, including the extremes the spec accepts.
std::vector<MotionSpec> varied_specs() {
  std::vector<MotionSpec> specs;
  for (const Exercise exercise : all_exercises()) {
    for (int variant = 0; variant < variant_count(exercise); ++variant) {
      specs.push_back(fixed_spec(exercise, variant));
      MotionSpec fast = fixed_spec(exercise, variant, 1.4, 99);
      fast.rep_seconds = 0.9;
      fast.pause_seconds = 0.0;
      fast.start_phase = 0.37;
      fast.range = 1.05;
      fast.partial_rep_chance = 0.5;
      specs.push_back(fast);
      MotionSpec extreme = fixed_spec(exercise, variant, 2.0, 12345);
      extreme.range = 1.2;
      extreme.start_phase = 0.81;
      specs.push_back(extreme);
      MotionSpec mild = fixed_spec(exercise, variant, 0.0, 777);
      mild.range = 0.3;
      mild.pause_seconds = 1.0;
      specs.push_back(mild);
    }
  }
  return specs;
}

std::string describe(const MotionSpec& spec) {
  std::ostringstream os;
  os << exercise_info(spec.exercise).id << "/" << exercise_info(spec.exercise).variants[static_cast<size_t>(spec.variant)].id
     << " (rep " << spec.rep_seconds << " s, range " << spec.range << ", severity " << spec.severity << ", seed "
     << spec.style_seed << ")";
  return os.str();
}

std::vector<double> sample_times(const MotionSpec& spec, double step = 0.041) {
  std::vector<double> times;
  const double duration = 2.2 * (spec.rep_seconds + spec.pause_seconds);
  for (double t = 0; t < duration; t += step) times.push_back(t);
  return times;
}

bool is_snake_case(const std::string& s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s.front()))) return false;
  for (const char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

int word_count(const std::string& s) {
  std::istringstream in(s);
  int n = 0;
  for (std::string word; in >> word;) ++n;
  return n;
}

TEST(MotionCatalog, SixExercisesWithNamedFormErrors) {
  const auto& catalog = exercise_catalog();
  ASSERT_EQ(catalog.size(), 6u);
  const std::vector<std::string> ids = {"squats", "pushups", "lunges", "glutes_bridge", "jumping_jacks", "high_plank"};
  for (size_t i = 0; i < catalog.size(); ++i) {
    const ExerciseInfo& info = catalog[i];
    EXPECT_EQ(static_cast<size_t>(info.exercise), i) << "in the enum's order";
    EXPECT_EQ(info.id, ids[i]);
    EXPECT_EQ(&exercise_info(info.exercise), &info);
    EXPECT_EQ(exercise_from_id(info.id), info.exercise);
    EXPECT_EQ(info.is_hold, info.exercise == Exercise::Plank);
    EXPECT_FALSE(info.name.empty());
    ASSERT_GE(info.variants.size(), 4u) << info.id << ": good form and at least three errors";
    EXPECT_EQ(info.variants[0].id, "good_form");
    EXPECT_EQ(info.variants[0].name, "good form");
    std::set<std::string> seen;
    for (size_t v = 0; v < info.variants.size(); ++v) {
      const FormVariant& variant = info.variants[v];
      EXPECT_TRUE(is_snake_case(variant.id)) << variant.id;
      EXPECT_TRUE(seen.insert(variant.id).second) << info.id << " repeats " << variant.id;
      EXPECT_EQ(variant_index(info.exercise, variant.id), static_cast<int>(v));
      EXPECT_FALSE(variant.name.empty());
      EXPECT_FALSE(variant.caption.empty());
      EXPECT_GE(word_count(variant.feedback), 3) << variant.feedback;
      EXPECT_LE(word_count(variant.feedback), 10) << variant.feedback;
      EXPECT_EQ(variant.feedback.back(), '.') << "one sentence: " << variant.feedback;
    }
  }
  EXPECT_THROW(exercise_from_id("burpees"), Error);
  EXPECT_THROW(variant_index(Exercise::Squat, "elbows_flared"), Error);
}

TEST(Motion, BoneLengthsAreExactlyTheBodys) {
  for (const BodyShape& b : test_bodies()) {
    const double ankle_heel = std::hypot(b.ankle_height, b.heel_back);
    const double ankle_toe = std::hypot(b.ankle_height, b.foot_length - b.heel_back);
    struct Bone {
      Joint a, b;
      double length;
    };
    std::vector<Bone> bones = {{Joint::Pelvis, Joint::Waist, b.pelvis_to_waist},
                               {Joint::Waist, Joint::Chest, b.waist_to_chest},
                               {Joint::Chest, Joint::Neck, b.chest_to_neck},
                               {Joint::Neck, Joint::Head, b.neck_to_head},
                               {Joint::Chest, Joint::LeftShoulder, b.shoulder_half_width},
                               {Joint::Chest, Joint::RightShoulder, b.shoulder_half_width},
                               {Joint::Pelvis, Joint::LeftHip, b.hip_half_width},
                               {Joint::Pelvis, Joint::RightHip, b.hip_half_width}};
    for (const bool left : {true, false}) {
      const auto j = [&](Joint l, Joint r) { return left ? l : r; };
      bones.push_back({j(Joint::LeftShoulder, Joint::RightShoulder), j(Joint::LeftElbow, Joint::RightElbow), b.upper_arm});
      bones.push_back({j(Joint::LeftElbow, Joint::RightElbow), j(Joint::LeftWrist, Joint::RightWrist), b.forearm});
      bones.push_back({j(Joint::LeftWrist, Joint::RightWrist), j(Joint::LeftHand, Joint::RightHand), b.hand});
      bones.push_back({j(Joint::LeftHip, Joint::RightHip), j(Joint::LeftKnee, Joint::RightKnee), b.thigh});
      bones.push_back({j(Joint::LeftKnee, Joint::RightKnee), j(Joint::LeftAnkle, Joint::RightAnkle), b.shin});
      // The foot is a rigid triangle.
      bones.push_back({j(Joint::LeftAnkle, Joint::RightAnkle), j(Joint::LeftHeel, Joint::RightHeel), ankle_heel});
      bones.push_back({j(Joint::LeftAnkle, Joint::RightAnkle), j(Joint::LeftToe, Joint::RightToe), ankle_toe});
      bones.push_back({j(Joint::LeftHeel, Joint::RightHeel), j(Joint::LeftToe, Joint::RightToe), b.foot_length});
    }
    for (const MotionSpec& spec : varied_specs()) {
      for (const double t : sample_times(spec, 0.13)) {
        Pose p;
        ASSERT_NO_THROW(p = pose_at(spec, b, t)) << describe(spec) << " at " << t << " s";
        for (const Bone& bone : bones) {
          const double length = distance(p[bone.a], p[bone.b]);
          ASSERT_NEAR(length, bone.length, 1e-9 * bone.length)
              << describe(spec) << " at " << t << " s: " << joint_name(bone.a) << "-" << joint_name(bone.b);
        }
        // The pelvis and chest sit midway between the hips and the shoulders.
        ASSERT_LT(distance(p[Joint::Pelvis], midpoint(p[Joint::LeftHip], p[Joint::RightHip])), 1e-9);
        ASSERT_LT(distance(p[Joint::Chest], midpoint(p[Joint::LeftShoulder], p[Joint::RightShoulder])), 1e-9);
      }
    }
  }
}

TEST(Motion, NothingGoesThroughTheFloor) {
  for (const BodyShape& b : test_bodies()) {
    for (const MotionSpec& spec : varied_specs()) {
      for (const double t : sample_times(spec, 0.029)) {
        const Pose p = pose_at(spec, b, t);
        for (size_t i = 0; i < kJointCount; ++i) {
          const auto joint = static_cast<Joint>(i);
          ASSERT_GE(p.joints[i].y, floor_clearance(joint, b) - 1e-9)
              << describe(spec) << " at " << t << " s: " << joint_name(joint) << " is at height " << p.joints[i].y;
        }
      }
    }
  }
}

TEST(Motion, EveryBuildKeepsItsBonesAndStaysAboveTheFloor) {
  // Short and tall, short- and long-limbed, slim and broad performers: no error, exact bones,
  // nothing through the floor, hands and feet within reach of their contacts.
  for (const double height : {1.45, 2.05}) {
    for (const double limbs : {0.9, 1.1}) {
      for (const double girth : {0.8, 1.4}) {
        const BodyShape body = BodyShape::standard(height, limbs, girth);
        for (const Exercise exercise : all_exercises()) {
          for (int variant = 0; variant < variant_count(exercise); ++variant) {
            for (const double severity : {0.6, 1.4}) {
              const MotionSpec spec = fixed_spec(exercise, variant, severity, 3);
              for (double t = 0; t < kRepSeconds; t += 0.09) {
                Pose p;
                ASSERT_NO_THROW(p = pose_at(spec, body, t)) << describe(spec);
                const std::string what = describe(spec) + " for height " + std::to_string(height) + ", limbs " +
                                         std::to_string(limbs) + ", girth " + std::to_string(girth);
                ASSERT_NEAR(distance(p[Joint::LeftHip], p[Joint::LeftKnee]), body.thigh, 1e-9 * body.thigh) << what;
                ASSERT_NEAR(distance(p[Joint::RightElbow], p[Joint::RightWrist]), body.forearm, 1e-9 * body.forearm)
                    << what;
                for (size_t i = 0; i < kJointCount; ++i) {
                  ASSERT_GE(p.joints[i].y, floor_clearance(static_cast<Joint>(i), body) - 1e-9)
                      << what << " at " << t << " s: " << joint_name(static_cast<Joint>(i));
                }
                if (exercise == Exercise::PushUp || exercise == Exercise::Plank) {
                  ASSERT_NEAR(p[Joint::LeftWrist].y, body.hand_radius, 1e-9) << what << ": the hands stay down";
                }
              }
            }
          }
        }
      }
    }
  }
}

// The largest distance a joint travels over the samples, and its lowest and highest height.
struct Track {
  double travel = 0, lowest = 1e9, highest = -1e9;
};
Track track(const MotionSpec& spec, const BodyShape& body, Joint joint, double from, double to) {
  Track track;
  const Vec3 start = pose_at(spec, body, from)[joint];
  for (double t = from; t <= to; t += 0.01) {
    const Vec3 v = pose_at(spec, body, t)[joint];
    track.travel = std::max(track.travel, distance(v, start));
    track.lowest = std::min(track.lowest, v.y);
    track.highest = std::max(track.highest, v.y);
  }
  return track;
}

TEST(Motion, HandsAndFeetStayPlanted) {
  const BodyShape body = BodyShape::standard(1.75);
  const double clip = 2 * (kRepSeconds + kPauseSeconds);
  const std::vector<Joint> soles = {Joint::LeftHeel, Joint::LeftToe, Joint::RightHeel, Joint::RightToe};
  const std::vector<Joint> toes = {Joint::LeftToe, Joint::RightToe};
  const std::vector<Joint> hands = {Joint::LeftWrist, Joint::LeftHand, Joint::RightWrist, Joint::RightHand};
  for (int variant = 0; variant < variant_count(Exercise::Squat); ++variant) {
    const MotionSpec spec = fixed_spec(Exercise::Squat, variant);
    const bool heels_lift = exercise_info(Exercise::Squat).variants[static_cast<size_t>(variant)].id == "heels_lifting";
    for (const Joint j : soles) {
      const Track tr = track(spec, body, j, 0, clip);
      const bool heel = j == Joint::LeftHeel || j == Joint::RightHeel;
      if (heels_lift && heel) {
        EXPECT_GT(tr.highest, 0.04) << "heels lift at the bottom";
        EXPECT_NEAR(tr.lowest, 0.0, 1e-9) << "and come down at the top";
      } else {
        EXPECT_LT(tr.travel, 1e-9) << describe(spec) << ": " << joint_name(j) << " slides";
        EXPECT_NEAR(tr.highest, 0.0, 1e-9) << describe(spec) << ": " << joint_name(j) << " leaves the floor";
      }
    }
  }
  for (const Exercise exercise : {Exercise::PushUp, Exercise::Plank}) {
    for (int variant = 0; variant < variant_count(exercise); ++variant) {
      const MotionSpec spec = fixed_spec(exercise, variant);
      for (const Joint j : toes) {
        const Track tr = track(spec, body, j, 0, clip);
        EXPECT_LT(tr.travel, 1e-9) << describe(spec) << ": " << joint_name(j);
        EXPECT_NEAR(tr.highest, 0.0, 1e-9) << describe(spec) << ": " << joint_name(j);
      }
      for (const Joint j : hands) {
        const Track tr = track(spec, body, j, 0, clip);
        EXPECT_LT(tr.travel, 1e-9) << describe(spec) << ": " << joint_name(j);
        EXPECT_NEAR(tr.highest, body.hand_radius, 1e-9) << describe(spec) << ": the palm rests on the floor";
      }
    }
  }
  for (int variant = 0; variant < variant_count(Exercise::GluteBridge); ++variant) {
    const MotionSpec spec = fixed_spec(Exercise::GluteBridge, variant);
    for (const Joint j : soles) {
      const Track tr = track(spec, body, j, 0, clip);
      EXPECT_LT(tr.travel, 1e-9) << describe(spec) << ": " << joint_name(j);
      EXPECT_NEAR(tr.highest, 0.0, 1e-9) << describe(spec) << ": " << joint_name(j);
    }
    for (const Joint j : {Joint::Chest, Joint::Head, Joint::LeftShoulder, Joint::RightShoulder}) {
      EXPECT_LT(track(spec, body, j, 0, clip).travel, 1e-9) << describe(spec) << ": the upper back stays down";
    }
    EXPECT_NEAR(pose_at(spec, body, 0)[Joint::Pelvis].y, body.torso_half_depth, 1e-9) << "hips rest on the floor";
    EXPECT_NEAR(pose_at(spec, body, 0)[Joint::Chest].y, body.torso_half_depth, 1e-9);
  }
  for (int variant = 0; variant < variant_count(Exercise::Lunge); ++variant) {
    const MotionSpec spec = fixed_spec(Exercise::Lunge, variant);
    for (const Joint j : toes) {
      // Each toe is either the back foot's pivot or lifted to step; over a rep of each leg, the
      // back toe never moves while the front foot is planted.
      const Pose bottom = pose_at(spec, body, peak_seconds(Exercise::Lunge));
      const bool back = bottom[j].z < 0.5;
      if (!back) continue;
      const Track tr = track(spec, body, j, 0, kRepSeconds);
      EXPECT_LT(tr.travel, 1e-9) << describe(spec) << ": the back foot's toe pivots in place";
    }
    const Pose bottom = pose_at(spec, body, peak_seconds(Exercise::Lunge));
    const bool left = bottom[Joint::LeftAnkle].z > bottom[Joint::RightAnkle].z;
    EXPECT_NEAR(bottom[left ? Joint::LeftHeel : Joint::RightHeel].y, 0.0, 1e-9) << "front foot flat at the bottom";
    EXPECT_NEAR(bottom[left ? Joint::LeftToe : Joint::RightToe].y, 0.0, 1e-9);
    EXPECT_GT(bottom[left ? Joint::RightHeel : Joint::LeftHeel].y, 0.08) << "back heel up at the bottom";
  }
  // Jumping jacks: feet flat on landing (together at the start, wide with the arms up), in the air
  // mid-jump.
  for (int variant = 0; variant < variant_count(Exercise::JumpingJack); ++variant) {
    const MotionSpec spec = fixed_spec(Exercise::JumpingJack, variant);
    for (const double landed : {0.0, peak_seconds(Exercise::JumpingJack)}) {
      const Pose p = pose_at(spec, body, landed);
      for (const Joint j : soles) EXPECT_NEAR(p[j].y, 0.0, 1e-9) << describe(spec) << " at " << landed << " s";
    }
    const Pose flying = pose_at(spec, body, 0.11 * kRepSeconds);
    for (const Joint j : soles) EXPECT_GT(flying[j].y, 0.01) << describe(spec) << ": " << joint_name(j) << " mid-jump";
  }
}

TEST(Motion, StandingExercisesStartAtTheOriginFacingPlusZ) {
  const BodyShape body = BodyShape::standard(1.75);
  for (const Exercise exercise : {Exercise::Squat, Exercise::Lunge, Exercise::JumpingJack}) {
    const Pose p = pose_at(fixed_spec(exercise, 0), body, 0.0);
    EXPECT_NEAR(p[Joint::Pelvis].x, 0, 0.03) << exercise_info(exercise).id;
    EXPECT_NEAR(p[Joint::Pelvis].z, 0, 0.05) << exercise_info(exercise).id;
    EXPECT_GT(p[Joint::Head].y, 0.85 * body.height - body.head_radius) << "standing tall at the start";
    EXPECT_GT(p[Joint::LeftHip].x, p[Joint::RightHip].x) << "left is +x";
    EXPECT_GT(p[Joint::LeftToe].z, p[Joint::LeftHeel].z) << "facing +z";
  }
  for (const Exercise exercise : {Exercise::PushUp, Exercise::Plank, Exercise::GluteBridge}) {
    const Pose p = pose_at(fixed_spec(exercise, 0), body, 0.0);
    EXPECT_LT(p[Joint::Head].x, p[Joint::Pelvis].x) << "head towards -x";
    EXPECT_LT(p[Joint::Pelvis].x, p[Joint::LeftAnkle].x) << "feet towards +x";
    double lo = 1e9, hi = -1e9;
    for (const Vec3& v : p.joints) {
      lo = std::min(lo, v.x);
      hi = std::max(hi, v.x);
    }
    EXPECT_NEAR(0.5 * (lo + hi), 0.0, 0.2) << exercise_info(exercise).id << ": roughly centred";
    const bool face_down = exercise != Exercise::GluteBridge;
    EXPECT_EQ(p[Joint::LeftShoulder].z > p[Joint::RightShoulder].z, face_down)
        << "the left side is +z face down, -z face up";
  }
}

TEST(Motion, MovesSmoothlyWithoutJumps) {
  // Over one millisecond no joint moves more than 12 mm (12 m/s, faster than a jumping jack's
  // hands), including across rep boundaries and pauses.
  const BodyShape body = BodyShape::standard(1.75);
  for (const MotionSpec& spec : varied_specs()) {
    const double cycle = spec.rep_seconds + spec.pause_seconds;
    std::vector<double> times = sample_times(spec, 0.0173);
    for (int k = 0; k < 3; ++k) {  // just around rep and pause boundaries
      const double boundary = (k + 1 - spec.start_phase) * cycle;
      for (const double edge : {boundary, boundary - spec.pause_seconds}) {
        for (double dt = -0.003; dt <= 0.003; dt += 0.0005) {
          if (edge + dt >= 0) times.push_back(edge + dt);
        }
      }
    }
    for (const double t : times) {
      const double moved = max_displacement(pose_at(spec, body, t), pose_at(spec, body, t + 0.001));
      ASSERT_LT(moved, 0.012) << describe(spec) << " jumps at " << t << " s";
    }
  }
}

TEST(Motion, DeterministicAndStyleChangesOnlyDetails) {
  const BodyShape body = BodyShape::standard(1.8, 1.02, 1.1);
  for (const MotionSpec& spec : varied_specs()) {
    for (const double t : {0.0, 0.77, 1.9, 3.3}) {
      const Pose a = pose_at(spec, body, t), b = pose_at(spec, body, t);
      for (size_t i = 0; i < kJointCount; ++i) {
        ASSERT_EQ(a.joints[i], b.joints[i]) << describe(spec) << " at " << t << " s, " << joint_name(static_cast<Joint>(i));
      }
    }
  }
  for (const Exercise exercise : all_exercises()) {
    const double t = peak_seconds(exercise) + 0.05;
    const Pose a = pose_at(fixed_spec(exercise, 0, 1.0, 1), body, t);
    const Pose b = pose_at(fixed_spec(exercise, 0, 1.0, 2), body, t);
    // Arms may be held differently (hands on hips, forward, at the chest); the rest only differs
    // in details.
    double differ = 0;
    for (size_t i = 0; i < kJointCount; ++i) {
      const auto joint = static_cast<Joint>(i);
      const bool arm = (joint >= Joint::LeftElbow && joint <= Joint::LeftHand) ||
                       (joint >= Joint::RightElbow && joint <= Joint::RightHand);
      if (!arm) differ = std::max(differ, distance(a[joint], b[joint]));
    }
    EXPECT_GT(differ, 0.003) << exercise_info(exercise).id << ": performers differ";
    EXPECT_LT(differ, 0.12) << exercise_info(exercise).id << ": but only in details";
  }
}

TEST(Motion, BadInputGivesSynthErrors) {
  const BodyShape body = BodyShape::standard(1.75);
  const auto expect_synth_error = [&](const MotionSpec& spec, double t, const std::string& words) {
    try {
      pose_at(spec, body, t);
      ADD_FAILURE() << "no error for " << words;
    } catch (const Error& e) {
      EXPECT_EQ(e.component(), "synth");
      EXPECT_EQ(std::string(e.what()).rfind("[synth] ", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  MotionSpec spec = fixed_spec(Exercise::Squat, 0);
  expect_synth_error(spec, -0.5, "non-negative");
  expect_synth_error(spec, std::nan(""), "non-negative");
  spec.variant = variant_count(Exercise::Squat);
  expect_synth_error(spec, 1.0, "has no form variant");
  spec.variant = -1;
  expect_synth_error(spec, 1.0, "has no form variant");
  spec = fixed_spec(Exercise::Squat, 0);
  spec.rep_seconds = 0;
  expect_synth_error(spec, 1.0, "rep_seconds");
  spec = fixed_spec(Exercise::Squat, 0);
  spec.start_phase = 1.0;
  expect_synth_error(spec, 1.0, "start_phase");
  spec = fixed_spec(Exercise::Squat, 0);
  spec.exercise = static_cast<Exercise>(17);
  expect_synth_error(spec, 1.0, "unknown exercise");
  EXPECT_THROW(pose_at(fixed_spec(Exercise::Squat, 0), BodyShape{}, 1.0), Error) << "a body never set up";
}

TEST(Motion, RandomMotionsArePlausibleAndDeterministic) {
  for (const Exercise exercise : all_exercises()) {
    for (int variant = 0; variant < variant_count(exercise); ++variant) {
      RandomStream a(42 + static_cast<uint64_t>(variant)), b(42 + static_cast<uint64_t>(variant));
      for (int i = 0; i < 20; ++i) {
        const MotionSpec x = random_motion(exercise, variant, a), y = random_motion(exercise, variant, b);
        EXPECT_EQ(x.rep_seconds, y.rep_seconds);
        EXPECT_EQ(x.style_seed, y.style_seed);
        EXPECT_EQ(x.exercise, exercise);
        EXPECT_EQ(x.variant, variant);
        EXPECT_GE(x.rep_seconds, 0.7);
        EXPECT_LE(x.rep_seconds, 4.5);
        EXPECT_GE(x.start_phase, 0.0);
        EXPECT_LT(x.start_phase, 1.0);
        EXPECT_GE(x.range, 0.85);
        EXPECT_LE(x.range, 1.05);
        EXPECT_LE(x.partial_rep_chance, 0.2);
        if (variant == 0) {
          EXPECT_EQ(x.severity, 1.0);
        }
        EXPECT_GE(x.severity, 0.6);
        EXPECT_LE(x.severity, 1.4);
        if (exercise == Exercise::JumpingJack || exercise == Exercise::Plank) {
          EXPECT_EQ(x.partial_rep_chance, 0.0);
        }
        EXPECT_NO_THROW(pose_at(x, BodyShape::standard(1.7), 1.234));
      }
    }
  }
  RandomStream a(1), b(2);
  EXPECT_NE(random_motion(Exercise::Squat, 0, a).style_seed, random_motion(Exercise::Squat, 0, b).style_seed);
  RandomStream c(3);
  EXPECT_THROW(random_motion(Exercise::Squat, 9, c), Error);
}

}  // namespace
}  // namespace vg::synth
