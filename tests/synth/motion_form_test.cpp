// Synthetic exercises: every form error measurably differs from good form in the feature that
// defines it (knee separation for caving knees, hip height for depth, ...), at the phase where it
// shows, for every performer style and body; and a stronger severity makes it stronger.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "motion_testing.h"

namespace vg::synth {
namespace {

using namespace vg::synth::testing;

Pose at(const MotionSpec& spec, const BodyShape& body, double seconds) { return pose_at(spec, body, seconds); }

// ---- features (lengths are divided by the body's height so that one limit fits every body) ----

double knee_to_ankle_separation(const Pose& p) {
  return std::abs(p[Joint::LeftKnee].x - p[Joint::RightKnee].x) /
         std::abs(p[Joint::LeftAnkle].x - p[Joint::RightAnkle].x);
}
// For floor exercises the body's width runs along z.
double knee_to_ankle_separation_z(const Pose& p) {
  return std::abs(p[Joint::LeftKnee].z - p[Joint::RightKnee].z) /
         std::abs(p[Joint::LeftAnkle].z - p[Joint::RightAnkle].z);
}
double hips_above_knees(const Pose& p) {
  return midpoint(p[Joint::LeftHip], p[Joint::RightHip]).y - midpoint(p[Joint::LeftKnee], p[Joint::RightKnee]).y;
}
double highest_heel(const Pose& p) { return std::max(p[Joint::LeftHeel].y, p[Joint::RightHeel].y); }
// Forward lean of a direction from vertical, for a performer facing +z, degrees.
double lean(const Vec3& v) { return degrees(std::atan2(v.z, v.y)); }
// Flexion of the spine seen from the side: how much further forward the upper chest leans than
// the lower back, degrees (negative: extended).
double spine_flexion(const Pose& p) {
  return lean(p[Joint::Neck] - p[Joint::Chest]) - lean(p[Joint::Waist] - p[Joint::Pelvis]);
}
double lumbar_arch(const Pose& p) {
  return degrees(angle_between(p[Joint::Waist] - p[Joint::Pelvis], p[Joint::Chest] - p[Joint::Waist]));
}
// The head against the upper spine, degrees.
double head_drop(const Pose& p) {
  return degrees(angle_between(p[Joint::Head] - p[Joint::Neck], p[Joint::Chest] - p[Joint::Waist]));
}
double trunk_from_vertical(const Pose& p) { return degrees(angle_between(p[Joint::Chest] - p[Joint::Pelvis], {0, 1, 0})); }
// Pelvis above the shoulder-to-ankle line (a plank's body line).
double hips_above_body_line(const Pose& p) {
  return height_above_line(p[Joint::Pelvis], midpoint(p[Joint::LeftShoulder], p[Joint::RightShoulder]),
                           midpoint(p[Joint::LeftAnkle], p[Joint::RightAnkle]));
}
// Pelvis above the shoulder-to-knee line (a bridge's line).
double hips_above_bridge_line(const Pose& p) {
  return height_above_line(p[Joint::Pelvis], midpoint(p[Joint::LeftShoulder], p[Joint::RightShoulder]),
                           midpoint(p[Joint::LeftKnee], p[Joint::RightKnee]));
}
// Upper arm against the body's axis (+x, towards the feet), seen from above, degrees.
double elbow_flare(const Pose& p) {
  double sum = 0;
  for (const auto& [shoulder, elbow] : {std::pair{Joint::LeftShoulder, Joint::LeftElbow},
                                        std::pair{Joint::RightShoulder, Joint::RightElbow}}) {
    const Vec3 arm = p[elbow] - p[shoulder];
    sum += degrees(std::atan2(std::abs(arm.z), arm.x));
  }
  return sum / 2;
}
// Arms raised: 0 hanging, 180 straight overhead (the lower of the two), degrees.
double arm_elevation(const Pose& p) {
  return std::min(degrees(angle_between(p[Joint::LeftWrist] - p[Joint::LeftShoulder], {0, -1, 0})),
                  degrees(angle_between(p[Joint::RightWrist] - p[Joint::RightShoulder], {0, -1, 0})));
}
// Wrists ahead of (towards the head, -x) the shoulders.
double hands_ahead_of_shoulders(const Pose& p) {
  return 0.5 * (p[Joint::LeftShoulder].x + p[Joint::RightShoulder].x - p[Joint::LeftWrist].x - p[Joint::RightWrist].x);
}

// The lunge's front leg is the one whose ankle is further forward.
bool left_leads(const Pose& p) { return p[Joint::LeftAnkle].z > p[Joint::RightAnkle].z; }
double front_knee_past_toe(const Pose& p) {
  const bool left = left_leads(p);
  return p[left ? Joint::LeftKnee : Joint::RightKnee].z - p[left ? Joint::LeftToe : Joint::RightToe].z;
}
double front_knee_inward(const Pose& p) {
  const bool left = left_leads(p);
  const Vec3 knee = p[left ? Joint::LeftKnee : Joint::RightKnee], ankle = p[left ? Joint::LeftAnkle : Joint::RightAnkle];
  return (left ? 1.0 : -1.0) * (ankle.x - knee.x);
}
double back_knee_height(const Pose& p) { return p[left_leads(p) ? Joint::RightKnee : Joint::LeftKnee].y; }

// Features over time.
double lowest_chest(const MotionSpec& spec, const BodyShape& body) {
  double lowest = 1e9;
  for (double t = 0; t <= kRepSeconds; t += 0.02) lowest = std::min(lowest, at(spec, body, t)[Joint::Chest].y);
  return lowest;
}
double most_knee_bend(const MotionSpec& spec, const BodyShape& body) {
  double most = 0;
  for (double t = 0; t <= kRepSeconds; t += 0.02) most = std::max(most, knee_flexion(at(spec, body, t), true));
  return most;
}
// Correlation, over one jack, of the hands' height with the feet's separation.
double arms_legs_correlation(const MotionSpec& spec, const BodyShape& body) {
  std::vector<double> hands, feet;
  for (double t = 0; t < kRepSeconds; t += 0.02) {
    const Pose p = at(spec, body, t);
    hands.push_back(p[Joint::LeftWrist].y + p[Joint::RightWrist].y);
    feet.push_back(p[Joint::LeftAnkle].x - p[Joint::RightAnkle].x);
  }
  const auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  const double mh = mean(hands), mf = mean(feet);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < hands.size(); ++i) {
    sxy += (hands[i] - mh) * (feet[i] - mf);
    sxx += (hands[i] - mh) * (hands[i] - mh);
    syy += (feet[i] - mf) * (feet[i] - mf);
  }
  return sxy / std::sqrt(sxx * syy);
}

// ---- the table ----

struct FormCheck {
  Exercise exercise;
  std::string error_id;
  std::string feature_name;
  std::function<double(const MotionSpec&, const BodyShape&)> feature;
  double good_limit;   // good form stays on the near side of this
  double error_limit;  // the error at severity 0.6 is beyond this
  bool error_raises;   // the error makes the feature larger (else smaller)
};

// A pose feature taken at `seconds`; `per_height` divides it by the body's height.
std::function<double(const MotionSpec&, const BodyShape&)> at_time(double seconds, double (*f)(const Pose&),
                                                                   bool per_height = false) {
  return [=](const MotionSpec& spec, const BodyShape& body) {
    return f(at(spec, body, seconds)) / (per_height ? body.height : 1.0);
  };
}

std::vector<FormCheck> form_checks() {
  const double squat_bottom = peak_seconds(Exercise::Squat), lunge_bottom = peak_seconds(Exercise::Lunge);
  const double pushup_bottom = peak_seconds(Exercise::PushUp), bridge_top = peak_seconds(Exercise::GluteBridge);
  const double jack_peak = peak_seconds(Exercise::JumpingJack);
  const auto per_height = [](double (*f)(const MotionSpec&, const BodyShape&)) {
    return [f](const MotionSpec& spec, const BodyShape& body) { return f(spec, body) / body.height; };
  };
  return {
      {Exercise::Squat, "knees_caving_in", "knee over ankle separation at the bottom",
       at_time(squat_bottom, knee_to_ankle_separation), 1.0, 0.8, false},
      {Exercise::Squat, "shallow_depth", "hips above knees at the bottom", at_time(squat_bottom, hips_above_knees, true),
       0.03, 0.07, true},
      {Exercise::Squat, "heels_lifting", "heel height at the bottom", at_time(squat_bottom, highest_heel, true), 1e-9,
       0.02, true},
      {Exercise::Squat, "rounded_back", "spine flexion at the bottom", at_time(squat_bottom, spine_flexion), 5, 20, true},
      {Exercise::PushUp, "hips_sagging", "hips above the body line at the top", at_time(0.0, hips_above_body_line, true),
       -0.012, -0.03, false},
      {Exercise::PushUp, "hips_sagging", "hips above the body line at the bottom",
       at_time(pushup_bottom, hips_above_body_line, true), -0.012, -0.025, false},
      {Exercise::PushUp, "hips_piked", "hips above the body line at the top", at_time(0.0, hips_above_body_line, true),
       0.012, 0.05, true},
      {Exercise::PushUp, "partial_range", "lowest chest height", per_height(lowest_chest), 0.14, 0.2, true},
      {Exercise::PushUp, "elbows_flared", "elbow flare at the bottom", at_time(pushup_bottom, elbow_flare), 55, 65, true},
      {Exercise::PushUp, "head_dropping", "head against the spine at the top", at_time(0.0, head_drop), 15, 30, true},
      {Exercise::Lunge, "knee_past_toes", "front knee ahead of the toes at the bottom",
       at_time(lunge_bottom, front_knee_past_toe, true), -0.03, 0.0, true},
      {Exercise::Lunge, "knee_caving_in", "front knee inside the ankle at the bottom",
       at_time(lunge_bottom, front_knee_inward, true), 0.01, 0.025, true},
      {Exercise::Lunge, "leaning_forward", "trunk from vertical at the bottom",
       at_time(lunge_bottom, trunk_from_vertical), 15, 25, true},
      {Exercise::Lunge, "shallow_lunge", "back knee height at the bottom", at_time(lunge_bottom, back_knee_height, true),
       0.1, 0.13, true},
      {Exercise::GluteBridge, "low_bridge", "hips above the shoulder-knee line at the top",
       at_time(bridge_top, hips_above_bridge_line, true), -0.012, -0.03, false},
      {Exercise::GluteBridge, "over_arching", "hips above the shoulder-knee line at the top",
       at_time(bridge_top, hips_above_bridge_line, true), 0.012, 0.025, true},
      {Exercise::GluteBridge, "over_arching", "lower-back arch at the top", at_time(bridge_top, lumbar_arch), 10, 18,
       true},
      {Exercise::GluteBridge, "knees_caving_in", "knee over ankle separation at the top",
       at_time(bridge_top, knee_to_ankle_separation_z), 0.95, 0.8, false},
      {Exercise::GluteBridge, "feet_too_far", "knee bend at the top",
       at_time(bridge_top, [](const Pose& p) { return knee_flexion(p, true); }), 88, 62, false},
      {Exercise::JumpingJack, "arms_not_overhead", "arm elevation with the feet wide", at_time(jack_peak, arm_elevation),
       150, 115, false},
      {Exercise::JumpingJack, "feet_not_wide", "ankle separation with the arms up",
       at_time(jack_peak, [](const Pose& p) { return p[Joint::LeftAnkle].x - p[Joint::RightAnkle].x; }, true), 0.3,
       0.2, false},
      {Exercise::JumpingJack, "hunched_over", "trunk from vertical", at_time(jack_peak, trunk_from_vertical), 10, 20,
       true},
      {Exercise::JumpingJack, "hunched_over", "most knee bend over a jack", most_knee_bend, 25, 14, false},
      {Exercise::JumpingJack, "out_of_sync", "correlation of hands' height with feet's spread", arms_legs_correlation,
       0.7, -0.2, false},
      {Exercise::Plank, "hips_sagging", "hips above the body line", at_time(1.0, hips_above_body_line, true), -0.012,
       -0.03, false},
      {Exercise::Plank, "hips_piked", "hips above the body line", at_time(1.0, hips_above_body_line, true), 0.012, 0.05,
       true},
      {Exercise::Plank, "head_dropping", "head against the spine", at_time(1.0, head_drop), 15, 30, true},
      {Exercise::Plank, "hands_too_far_forward", "wrists ahead of the shoulders",
       at_time(1.0, hands_ahead_of_shoulders, true), 0.025, 0.06, true},
  };
}

// Whether `value` is on the good side of the good limit / beyond the error limit.
bool looks_good(const FormCheck& check, double value) {
  return check.error_raises ? value <= check.good_limit : value >= check.good_limit;
}
bool shows_error(const FormCheck& check, double value) {
  return check.error_raises ? value >= check.error_limit : value <= check.error_limit;
}

TEST(MotionForm, EveryErrorVariantIsChecked) {
  // Each named error has at least one feature that tells it from good form.
  for (const Exercise exercise : all_exercises()) {
    for (const FormVariant& variant : exercise_info(exercise).variants) {
      if (variant.id == "good_form") continue;
      bool checked = false;
      for (const FormCheck& check : form_checks()) checked |= check.exercise == exercise && check.error_id == variant.id;
      EXPECT_TRUE(checked) << exercise_info(exercise).id << "/" << variant.id << " has no feature check";
    }
  }
}

TEST(MotionForm, ErrorsDifferFromGoodFormForEveryStyleAndBody) {
  for (const FormCheck& check : form_checks()) {
    const int error = variant_index(check.exercise, check.error_id);
    for (const BodyShape& body : test_bodies()) {
      for (uint64_t seed = 1; seed <= 8; ++seed) {
        const double good = check.feature(fixed_spec(check.exercise, 0, 1.0, seed * 7919), body);
        const double bad = check.feature(fixed_spec(check.exercise, error, 0.6, seed * 7919), body);
        const std::string what = exercise_info(check.exercise).id + "/" + check.error_id + ": " + check.feature_name +
                                 " (height " + std::to_string(body.height) + ", seed " + std::to_string(seed) + ")";
        EXPECT_TRUE(looks_good(check, good)) << what << ": good form gives " << good << ", limit " << check.good_limit;
        EXPECT_TRUE(shows_error(check, bad)) << what << ": the error at severity 0.6 gives " << bad << ", limit "
                                             << check.error_limit;
      }
    }
  }
}

TEST(MotionForm, SeverityScalesEveryError) {
  const BodyShape body = BodyShape::standard(1.75);
  for (const FormCheck& check : form_checks()) {
    const int error = variant_index(check.exercise, check.error_id);
    double previous = check.feature(fixed_spec(check.exercise, 0), body);
    for (const double severity : {0.6, 1.0, 1.4}) {
      const double value = check.feature(fixed_spec(check.exercise, error, severity), body);
      const double growth = check.error_raises ? value - previous : previous - value;
      EXPECT_GT(growth, 0) << exercise_info(check.exercise).id << "/" << check.error_id << ": " << check.feature_name
                           << " at severity " << severity << " is " << value << ", not beyond " << previous;
      previous = value;
    }
  }
}

TEST(MotionForm, GoodFormLooksRight) {
  // A few absolute facts of correct form, beyond "unlike the errors".
  const BodyShape body = BodyShape::standard(1.75);
  const Pose squat = at(fixed_spec(Exercise::Squat, 0), body, peak_seconds(Exercise::Squat));
  EXPECT_NEAR(hips_above_knees(squat), 0.0, 0.06) << "thighs about parallel at the bottom";
  EXPECT_GT(trunk_from_vertical(squat), 25) << "the torso inclines forward";
  EXPECT_LT(trunk_from_vertical(squat), 55);
  const Pose pushup = at(fixed_spec(Exercise::PushUp, 0), body, peak_seconds(Exercise::PushUp));
  EXPECT_LT(pushup[Joint::Chest].y, body.torso_half_depth + 0.08) << "chest near the floor at the bottom";
  EXPECT_NEAR(elbow_flare(pushup), 45, 12) << "elbows at about 45 degrees";
  const Pose pushup_top = at(fixed_spec(Exercise::PushUp, 0), body, 0.0);
  EXPECT_LT(std::abs(hips_above_body_line(pushup_top)), 0.02) << "a straight line at the top";
  EXPECT_LT(degrees(angle_between(pushup_top[Joint::LeftWrist] - pushup_top[Joint::LeftShoulder], {0, -1, 0})), 20)
      << "arms nearly vertical at the top";
  const Pose lunge = at(fixed_spec(Exercise::Lunge, 0), body, peak_seconds(Exercise::Lunge));
  const bool left = left_leads(lunge);
  EXPECT_NEAR(lunge[left ? Joint::LeftKnee : Joint::RightKnee].z, lunge[left ? Joint::LeftAnkle : Joint::RightAnkle].z,
              0.08)
      << "front knee over the ankle";
  EXPECT_NEAR(knee_flexion(lunge, left), 90, 15) << "front knee at about 90 degrees";
  const Pose bridge = at(fixed_spec(Exercise::GluteBridge, 0), body, peak_seconds(Exercise::GluteBridge));
  EXPECT_NEAR(knee_flexion(bridge, true), 90, 12) << "shins about vertical at the top";
  const Pose jack = at(fixed_spec(Exercise::JumpingJack, 0), body, peak_seconds(Exercise::JumpingJack));
  EXPECT_GT(arm_elevation(jack), 160) << "arms overhead";
}

}  // namespace
}  // namespace vg::synth

namespace vg::synth {
namespace {
TEST(MotionForm, DISABLED_PrintTable) {
  const BodyShape body = BodyShape::standard(1.75);
  for (const FormCheck& check : form_checks()) {
    const int error = variant_index(check.exercise, check.error_id);
    printf("%-14s %-22s %-50s good %8.3f | %8.3f %8.3f %8.3f   limits %6.3f %6.3f\n", exercise_info(check.exercise).id.c_str(),
           check.error_id.c_str(), check.feature_name.c_str(), check.feature(fixed_spec(check.exercise, 0), body),
           check.feature(fixed_spec(check.exercise, error, 0.6), body), check.feature(fixed_spec(check.exercise, error, 1.0), body),
           check.feature(fixed_spec(check.exercise, error, 1.4), body), check.good_limit, check.error_limit);
  }
}
}  // namespace
}  // namespace vg::synth
