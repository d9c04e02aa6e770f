// Checkpoints of a run: a damaged checkpoint is refused with an error naming it, and refusing
// it changes nothing (no tensor or optimizer moment is half-loaded); a half-written one is never
// taken for the newest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ops/ops.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "train/train_state.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;

struct Params {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({5, 6, 7}, {3});
  std::vector<NamedParameter> params() { return {{"a", a}, {"b", b}}; }
  Params() {
    a.set_requires_grad(true);
    b.set_requires_grad(true);
  }
};

// One optimizer step with gradients of ones, so the optimizer has moments to save.
void take_a_step(Params& s, AdamW& optimizer) {
  Tensor loss = add(sum(s.a), sum(s.b));
  loss.backward();
  optimizer.step();
  optimizer.zero_grad();
}

// A run of one step, checkpointed into `out` as step 1.
struct OneStepRun {
  Params params;
  AdamW optimizer{{ParamGroup{"all", params.params(), 0.1}}};
  explicit OneStepRun(const std::string& out) {
    take_a_step(params, optimizer);
    TrainState state;
    state.step = 1;
    state.fingerprint = "test";
    save_checkpoint(out, state, params.params(), optimizer, 3);
  }
};

TEST(TrainState, ADamagedCheckpointIsRefusedAndChangesNothing) {
  testing::ScratchFolder folder;
  const std::string out = folder.path().string();
  OneStepRun run(out);
  Params& s = run.params;
  AdamW& optimizer = run.optimizer;
  const std::optional<std::string> dir = latest_checkpoint(out);
  ASSERT_TRUE(dir);

  // The run moves on; then the optimizer file of the checkpoint is cut short.
  take_a_step(s, optimizer);
  const Tensor a_now = s.a.clone(), b_now = s.b.clone();
  const std::string opt_file = (fs::path(*dir) / "optimizer.safetensors").string();
  fs::resize_file(opt_file, fs::file_size(opt_file) / 2);
  testing::expect_error([&] { load_checkpoint(*dir, s.params(), optimizer); }, {"optimizer.safetensors"});
  EXPECT_ALL_CLOSE(s.a, a_now, 0, 0);  // not half-loaded
  EXPECT_ALL_CLOSE(s.b, b_now, 0, 0);

  // A damaged state file is named too.
  std::ofstream(fs::path(*dir) / "trainer_state.json") << "{\"step\": ";
  testing::expect_error([&] { load_checkpoint(*dir, s.params(), optimizer); }, {"trainer_state.json", "damaged"});
}

TEST(TrainState, AHalfWrittenCheckpointIsNotTheLatest) {
  testing::ScratchFolder folder;
  const std::string out = folder.path().string();
  OneStepRun run(out);
  // What a kill during the next save leaves: a .partial folder.
  fs::create_directories(fs::path(out) / "checkpoints" / "step-000002.partial");
  std::ofstream(fs::path(out) / "checkpoints" / "step-000002.partial" / "trainer_state.json") << "{}";
  const std::optional<std::string> latest = latest_checkpoint(out);
  ASSERT_TRUE(latest);
  EXPECT_EQ(fs::path(*latest).filename(), "step-000001");
}

}  // namespace
}  // namespace vg::train
