// `videogemma train` end to end: a run killed with SIGKILL right after a checkpoint resumes, when
// started again, to exactly the weights of a run that was never interrupted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/safetensors.h"
#include "support/cli_runner.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/vlm_fixtures.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

std::string write_config(const testing::ScratchFolder& dir, const std::string& name, const std::string& model,
                         const std::string& datasets) {
  const nlohmann::json config = {{"model", model},
                                 {"stage", 3},
                                 {"train_data", "QVED_TRAIN"},
                                 {"datasets", datasets},
                                 {"output", dir.file(name)},
                                 {"max_steps", 4},
                                 {"batch_size", 2},
                                 {"save_every", 2},
                                 {"learning_rate", 2e-3},
                                 {"lora", {{"r", 4}, {"alpha", 8}}}};
  const std::string path = dir.file(name + ".json");
  std::ofstream(path) << config.dump(1);
  return path;
}

TEST(CliTrain, KilledWithSigkillThenResumedEqualsAnUninterruptedRun) {
  testing::ScratchFolder dir;
  const std::string model = testing::write_tiny_vlm(dir.file("model"), 17);
  const std::string data = testing::write_tiny_qved(dir.file("data"), 10);

  const testing::CliRun whole = run_cli("train --quiet --config " + write_config(dir, "whole", model, data));
  ASSERT_EQ(whole.status, 0) << whole.output;

  // Start the run, wait for its first complete checkpoint, then SIGKILL it.
  const std::string config = write_config(dir, "killed", model, data);
  const std::string marker = dir.file("killed") + "/checkpoints/step-000002/trainer_state.json";
  const std::string script =
      std::string(VG_BINARY_DIR) + "/videogemma train --quiet --config " + config + " & pid=$!; while [ ! -f " +
      marker + " ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done; kill -9 $pid; wait $pid; echo status=$?";
  const std::string output = testing::run_shell(script).output;
  ASSERT_NE(output.find("status=137"), std::string::npos) << "the run was not killed: " << output;
  ASSERT_FALSE(fs::exists(dir.file("killed") + "/adapter")) << "the run finished before the kill";

  const testing::CliRun resumed = run_cli("train --json --config " + config);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const nlohmann::json result = testing::last_json(resumed);
  EXPECT_GE(result["resumed_from"].get<int>(), 2);
  EXPECT_EQ(result["steps"], 4);
  for (const char* f :
       {"adapter/adapter_model.safetensors", "video_projector.safetensors", "image_projector.safetensors"}) {
    io::SafetensorsFile a = io::SafetensorsFile::open(dir.file("whole") + "/" + f);
    io::SafetensorsFile b = io::SafetensorsFile::open(dir.file("killed") + "/" + f);
    ASSERT_EQ(a.tensors().size(), b.tensors().size()) << f;
    for (const io::TensorInfo& t : a.tensors())
      EXPECT_ALL_CLOSE(b.get(t.name), a.get(t.name), 0, 0) << f << ": " << t.name;
  }
}

}  // namespace
}  // namespace vg
