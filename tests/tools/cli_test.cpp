// The videogemma command end to end: it runs, reports errors clearly and exits non-zero.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/cli_runner.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::CliRun;
using testing::run_cli;

TEST(Cli, VersionAndHelp) {
  CliRun v = run_cli("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.output.find("videogemma 0."), std::string::npos) << v.output;
  CliRun h = run_cli("--help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.output.find("bench"), std::string::npos);
  EXPECT_NE(h.output.find("inspect"), std::string::npos);
}

TEST(Cli, BadFlagsAndMissingFilesFailClearly) {
  CliRun bad = run_cli("bench ops --no-such-flag");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("no-such-flag"), std::string::npos) << bad.output;
  CliRun none = run_cli("");
  EXPECT_NE(none.status, 0);
  CliRun missing = run_cli("inspect /no/such/file.safetensors");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("error: [checkpoint]"), std::string::npos) << missing.output;
  CliRun dtype = run_cli("bench ops --dtype bf16 --quick");
  EXPECT_EQ(dtype.status, 1);
  EXPECT_NE(dtype.output.find("[bench]"), std::string::npos) << dtype.output;
}

TEST(Cli, InspectListsACheckpoint) {
  CliRun r = run_cli("inspect " + testing::test_data_path("io/sharded"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("model.layers.3.weight"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4 tensors in 4 file(s), 256 parameters"), std::string::npos) << r.output;
  CliRun j = run_cli("inspect --json " + testing::test_data_path("io/all_dtypes.safetensors"));
  EXPECT_EQ(j.status, 0) << j.output;
  EXPECT_NE(j.output.find("\"dtype\": \"bf16\""), std::string::npos) << j.output;
}

TEST(Cli, BenchOpsPrintsATable) {
  CliRun r = run_cli("--threads 2 bench ops --quick --repeat 1 --warmup 0 --filter rms_norm");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("| rms_norm | 1024x2048 | f32 |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GB/s"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vg
