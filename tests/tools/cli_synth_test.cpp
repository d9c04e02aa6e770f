// `videogemma synth` end to end: the JSON summary matches the files, and bad flags are errors
// that name the problem.
#include <gtest/gtest.h>

#include <filesystem>

#include "media/video_writer.h"
#include "support/cli_runner.h"
#include "support/media_fixtures.h"

namespace vg {
namespace {

using testing::CliRun;
using testing::last_json;
using testing::run_cli;

TEST(CliSynth, WritesTheDatasetItReports) {
  if (!media::can_encode(media::VideoCodec::MPEG4) && !media::can_encode(media::VideoCodec::H264))
    GTEST_SKIP() << "this build has no video encoder";
  testing::ScratchFolder dir;
  const std::string out = dir.file("synth");
  CliRun r = run_cli("synth --out " + out + " --clips 5 --seed 2 --size 96x64 --fps 10 --max-seconds 3 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json summary = last_json(r);
  EXPECT_EQ(summary["clips"], 5);
  EXPECT_EQ(summary["train"].get<int>() + summary["val"].get<int>() + summary["test"].get<int>(), 5);
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(out + "/dataset"))
    files += entry.path().extension() == ".mp4" ? 1 : 0;
  EXPECT_EQ(files, 5);
  EXPECT_TRUE(std::filesystem::exists(summary["registry"].get<std::string>()));
}

TEST(CliSynth, BadFlagsNameTheProblem) {
  testing::ScratchFolder dir;
  const std::string out = " --out " + dir.file("synth");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{"--clips 0" + out, "number of clips"}, Case{"--clips 3 --size 10x10" + out, "[synth]"},
                        Case{"--clips 3 --size 90000x90000" + out, "[synth]"}, Case{"--clips 3 --size big" + out, "--size"},
                        Case{"--clips 3 --codec vp9" + out, "--codec"}, Case{"--clips 3 --fps 0.1" + out, "[synth]"},
                        Case{"--clips 3 --out /proc/no/such", "/proc/no/such"}, Case{"--clips 3", "--out"}}) {
    const CliRun r = run_cli("synth " + c.args);
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace vg
