// `videogemma train --gpus 2` on two GPUs (NCCL sums the gradients) against `--gpus 1` with twice
// the gradient accumulation: the same micro-batches, so the same step (docs/training.md,
// "Several GPUs"). Skipped with fewer than two GPUs, and, with a message, in a build without NCCL.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/cli_runner.h"
#include "support/cuda_conformance.h"
#include "support/media_fixtures.h"
#include "support/training_runs.h"
#include "support/vlm_fixtures.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

#define VG_REQUIRE_TWO_GPUS()                                                                                       \
  do {                                                                                                              \
    VG_REQUIRE_GPU();                                                                                               \
    if (cuda_device_count() < 2) GTEST_SKIP() << "needs 2 GPUs, this machine has " << cuda_device_count();          \
    if (!fs::exists(testing::gemma_tokenizer_json())) GTEST_SKIP() << "no Gemma tokenizer.json (scripts/setup.sh)"; \
  } while (0)

std::string write_config(const testing::ScratchFolder& dir, const std::string& name, const std::string& model,
                         const std::string& datasets, int accumulation) {
  return testing::write_stage3_config(dir, name, model, datasets, accumulation, 2);
}

TEST(CudaDistributed, TwoGpusTrainAsOneWithTwiceTheAccumulation) {
  VG_REQUIRE_TWO_GPUS();
  if (!VG_HAVE_NCCL) GTEST_SKIP() << "this build has no NCCL: install libnccl-dev and reconfigure with -DVG_NCCL=ON";
  testing::ScratchFolder dir;
  const std::string model = testing::write_tiny_vlm(dir.file("model"), 29);
  const std::string data = testing::write_tiny_qved(dir.file("data"), 10);
  // f32 compares tightly; bf16 is the default a user gets.
  for (const char* dtype : {"f32", "bf16"}) {
    SCOPED_TRACE(dtype);
    const std::string one = std::string("one_") + dtype, two = std::string("two_") + dtype;
    const std::string flags = std::string(" --json --device cuda --dtype ") + dtype + " --config ";
    const testing::CliRun a = run_cli("train --gpus 1" + flags + write_config(dir, one, model, data, 2));
    ASSERT_EQ(a.status, 0) << a.output;
    const testing::CliRun b = run_cli("train --gpus 2" + flags + write_config(dir, two, model, data, 1));
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_NE(b.output.find("NCCL on cuda:0"), std::string::npos) << "rank 0 did not sum through NCCL:\n" << b.output;

    const std::vector<nlohmann::json> la = testing::train_log(dir.file(one)), lb = testing::train_log(dir.file(two));
    ASSERT_EQ(la.size(), 2u);
    ASSERT_EQ(lb.size(), 2u);
    const double rel = std::string(dtype) == "f32" ? 1e-5 : 5e-3;  // bf16: step 2's weights may differ by rounding
    for (size_t s = 0; s < 2; ++s) {
      EXPECT_EQ(lb[s]["tokens"], la[s]["tokens"]) << "step " << s + 1;
      const double x = la[s]["loss"].get<double>(), y = lb[s]["loss"].get<double>();
      EXPECT_NEAR(y, x, rel * std::abs(x)) << "loss, step " << s + 1;
      const double gx = la[s]["grad_norm"].get<double>(), gy = lb[s]["grad_norm"].get<double>();
      EXPECT_NEAR(gy, gx, 10 * rel * std::abs(gx)) << "grad norm, step " << s + 1;
    }
    for (const char* f :
         {"adapter/adapter_model.safetensors", "video_projector.safetensors", "image_projector.safetensors"}) {
      testing::expect_same_tensor_files(dir.file(one) + "/" + f, dir.file(two) + "/" + f, 0);  // layouts
    }
    // The gradients: NCCL's sum of the two ranks' is the one GPU's accumulation of its two
    // micro-batches, up to the order of f32 additions (bf16: of bf16 activations).
    const std::string optimizer = "/checkpoints/step-000002/optimizer.safetensors";
    testing::expect_same_moments(dir.file(one) + optimizer, dir.file(two) + optimizer,
                                 std::string(dtype) == "f32" ? 1e-5 : 2e-2);
  }
}

TEST(CudaDistributed, WithoutNcclTheRanksSayHowToGetIt) {
  VG_REQUIRE_TWO_GPUS();
  if (VG_HAVE_NCCL) GTEST_SKIP() << "this build has NCCL";
  testing::ScratchFolder dir;
  const std::string model = testing::write_tiny_vlm(dir.file("model"), 29);
  const std::string data = testing::write_tiny_qved(dir.file("data"), 4);
  const testing::CliRun run =
      run_cli("train --gpus 2 --device cuda --config " + write_config(dir, "run", model, data, 1));
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("this build of videogemma has no NCCL"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace vg
