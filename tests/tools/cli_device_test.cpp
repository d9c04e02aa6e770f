// --device and --dtype on the commands: what each device takes, errors that name the flag, and
// the backend's own error where a GPU is asked for and there is none (or the build has no CUDA).
// The runs on a GPU are in tests/cuda/cuda_vlm_test.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "support/cli_runner.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"

namespace vg {
namespace {

using testing::CliRun;
using testing::run_cli;

const std::string kTiny = testing::test_data_path("gemma3n/tiny");

void expect_failure(const CliRun& r, std::initializer_list<std::string> fragments) {
  EXPECT_EQ(r.status, 1) << r.output;
  for (const std::string& f : fragments)
    EXPECT_NE(r.output.find(f), std::string::npos) << "'" << f << "' in: " << r.output;
}

// A model config whose files do not exist: the device is checked before any of them is read.
std::string fake_model_config(const testing::ScratchFolder& dir, const std::string& name,
                              const nlohmann::json& extra = {}) {
  return testing::write_json(dir.file(name + ".json"),
                             {{"language_model", "lm"}, {"clip", "clip"}, {"videomamba", "vm.safetensors"}}, extra);
}

TEST(CliDevice, HelpSaysWhatEachDeviceTakes) {
  for (const char* command : {"generate", "score", "eval", "train", "encode", "demo"}) {
    CliRun r = run_cli(std::string(command) + " --help");
    EXPECT_EQ(r.status, 0) << command;
    EXPECT_NE(r.output.find("--device"), std::string::npos) << command << ": " << r.output;
    EXPECT_NE(r.output.find("f32 (default) or f64 on the cpu; bf16 (default), f16 or f32 on cuda"), std::string::npos)
        << command << ": " << r.output;
  }
}

TEST(CliDevice, TheCpuGivesTheSameScoresWhenNamed) {
  CliRun plain = run_cli("score --model " + kTiny + " --ids 2,17,300,41 --json");
  CliRun named = run_cli("score --model " + kTiny + " --ids 2,17,300,41 --device cpu --dtype f32 --json");
  ASSERT_EQ(plain.status, 0) << plain.output;
  ASSERT_EQ(named.status, 0) << named.output;
  EXPECT_EQ(testing::last_json(plain)["logprobs"], testing::last_json(named)["logprobs"]);
}

TEST(CliDevice, BadNamesAreErrorsNamingTheFlag) {
  expect_failure(run_cli("score --model " + kTiny + " --ids 2,3 --device tpu"),
                 {"[cli] --device must be cpu, cuda or cuda:N, got 'tpu'"});
  expect_failure(run_cli("score --model " + kTiny + " --ids 2,3 --device cuda --dtype f64"),
                 {"[cli] --dtype must be bf16, f16 or f32 on cuda, got 'f64'"});
  expect_failure(run_cli("generate --model " + kTiny + " --ids 2,3 --dtype f16"),
                 {"[cli] --dtype must be f32 or f64 on the cpu, got 'f16'"});
  testing::ScratchFolder dir;
  const std::string model = fake_model_config(dir, "model");
  expect_failure(run_cli("generate --model " + model + " --video clip.mkv --dtype bf16"),
                 {"[cli] --dtype must be f32 or f64 on the cpu, got 'bf16'"});
  expect_failure(run_cli("encode --video clip.mkv --clip c --videomamba v --dtype bf16"),
                 {"[encode] --dtype must be f32 or f64 on the cpu, got 'bf16'"});
  expect_failure(run_cli("encode --video clip.mkv --clip c --videomamba v --device cuda:x"),
                 {"[encode] --device must be cpu, cuda or cuda:N"});
  const nlohmann::json train = {{"model", model}, {"train_data", "QVED_TRAIN"}, {"output", dir.file("run")}};
  testing::write_json(dir.file("train.json"), train);
  expect_failure(run_cli("train --quiet --config " + dir.file("train.json") + " --device nope"),
                 {"[cli] --device must be cpu, cuda or cuda:N, got 'nope'"});
  expect_failure(run_cli("train --quiet --config " + dir.file("train.json") + " --dtype bf16"),
                 {"[cli] --dtype must be f32 or f64 on the cpu, got 'bf16'"});
  // The model config's own dtype, wrong for its device, is named as the config's key.
  const std::string bf16_on_cpu = fake_model_config(dir, "bf16_on_cpu", {{"dtype", "bf16"}});
  expect_failure(run_cli("generate --model " + bf16_on_cpu + " --video clip.mkv"),
                 {"[config]", "\"dtype\" must be f32 or f64 on the cpu, got 'bf16'"});
}

TEST(CliDevice, AMissingGpuIsTheBackendsError) {
  if (cuda_is_available()) GTEST_SKIP() << "this machine has a GPU";
  // "[cuda] this build of videogemma has no CUDA support ..." or "[cuda] no CUDA device is available ...".
  expect_failure(run_cli("score --model " + kTiny + " --ids 2,3 --device cuda"), {"error: [cuda]"});
  expect_failure(run_cli("generate --model " + kTiny + " --ids 2,3 --device cuda:0 --dtype f32"), {"error: [cuda]"});
  testing::ScratchFolder dir;
  const std::string model = fake_model_config(dir, "model");
  expect_failure(run_cli("generate --model " + model + " --video clip.mkv --device cuda"), {"error: [cuda]"});
  expect_failure(run_cli("encode --video clip.mkv --clip c --videomamba v --device cuda"), {"error: [cuda]"});
  // The model config may ask for the GPU itself.
  expect_failure(
      run_cli("generate --model " + fake_model_config(dir, "on_cuda", {{"device", "cuda"}}) + " --video clip.mkv"),
      {"error: [cuda]"});
  const nlohmann::json train = {{"model", model}, {"train_data", "QVED_TRAIN"}, {"output", dir.file("run")}};
  testing::write_json(dir.file("train.json"), train);
  expect_failure(run_cli("train --quiet --config " + dir.file("train.json") + " --device cuda"), {"error: [cuda]"});
  expect_failure(run_cli("demo --out " + dir.file("demo") + " --device cuda"), {"error: [cuda]"});
}

}  // namespace
}  // namespace vg
