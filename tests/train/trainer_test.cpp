// Training a stage end to end on the tiny model of the real architecture and synthetic clips:
// every output is written, checkpoints resume to the very same weights, and the loss falls.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"
#include "support/vlm_fixtures.h"
#include "train/trainer.h"
#include "vlm/video_language_model.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;

class Trainer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScratchFolder();
    model_ = testing::write_tiny_vlm(dir_->file("model"), 11);
    data_ = testing::write_tiny_qved(dir_->file("data"), 10);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static TrainConfig stage3(const std::string& output, int64_t steps) {
    return testing::stage3_config(model_, data_, output, steps);
  }

  static testing::ScratchFolder* dir_;
  static std::string model_, data_;
};
testing::ScratchFolder* Trainer::dir_ = nullptr;
std::string Trainer::model_, Trainer::data_;

TEST_F(Trainer, Stage3WritesAdapterProjectorsLogsAndAModelConfig) {
  const std::string out = dir_->file("run");
  std::vector<TrainProgress::Phase> phases;
  TrainResult r = train(stage3(out, 4), [&](const TrainProgress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  });
  EXPECT_EQ(r.steps, 4);
  EXPECT_EQ(r.train_examples, 6);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  ASSERT_TRUE(r.val_loss.has_value());
  EXPECT_TRUE(std::isfinite(*r.val_loss));
  EXPECT_EQ(phases.front(), TrainProgress::Phase::Encoding);
  EXPECT_EQ(phases.back(), TrainProgress::Phase::Done);
  for (const char* f :
       {"adapter/adapter_config.json", "adapter/adapter_model.safetensors", "video_projector.safetensors",
        "image_projector.safetensors", "model.json", "loss_curve.png", "train_log.jsonl",
        "checkpoints/step-000002/trainer_state.json", "checkpoints/step-000004/optimizer.safetensors"}) {
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  }
  std::ifstream log(fs::path(out) / "train_log.jsonl");
  int lines = 0;
  for (std::string line; std::getline(log, line); ++lines) EXPECT_TRUE(nlohmann::json::parse(line).contains("loss"));
  EXPECT_EQ(lines, 4);

  // The trained model loads from its config with the adapter, and answers a clip.
  std::unique_ptr<VideoLanguageModel> vlm = VideoLanguageModel::load(VlmConfig::load(r.model_config));
  EXPECT_FALSE(vlm->lora().empty());
  GenerationOptions g;
  g.max_new_tokens = 3;
  std::vector<GenerationResult> answers =
      vlm->answer({dir_->file("data/dataset/" + testing::tiny_qved_video(0))}, "", g);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_LE(answers[0].ids.size(), 3u);
}

TEST_F(Trainer, AnInterruptedRunResumesToTheSameWeights) {
  TrainResult whole = train(stage3(dir_->file("whole"), 4));
  const std::string out = dir_->file("interrupted");
  struct Stop {};
  EXPECT_THROW(train(stage3(out, 4),
                     [](const TrainProgress& p) {
                       if (p.phase == TrainProgress::Phase::Training && p.done == 3) throw Stop{};
                     }),
               Stop);
  ASSERT_TRUE(fs::exists(fs::path(out) / "checkpoints/step-000002"));
  EXPECT_FALSE(fs::exists(fs::path(out) / "checkpoints/step-000004"));
  TrainResult resumed = train(stage3(out, 4));
  EXPECT_EQ(resumed.resumed_from, 2);
  EXPECT_EQ(resumed.steps, 4);
  EXPECT_EQ(resumed.last_loss, whole.last_loss);
  for (const char* f :
       {"adapter/adapter_model.safetensors", "video_projector.safetensors", "image_projector.safetensors"}) {
    io::SafetensorsFile a = io::SafetensorsFile::open((fs::path(dir_->file("whole")) / f).string());
    io::SafetensorsFile b = io::SafetensorsFile::open((fs::path(out) / f).string());
    ASSERT_EQ(a.tensors().size(), b.tensors().size()) << f;
    for (const io::TensorInfo& t : a.tensors()) {
      ASSERT_TRUE(b.contains(t.name)) << f << ": " << t.name;
      EXPECT_ALL_CLOSE(b.get(t.name), a.get(t.name), 0, 0) << f << ": " << t.name;
    }
  }
  // A run with other settings refuses the folder instead of mixing two runs.
  TrainConfig other = stage3(out, 4);
  other.learning_rate = 1e-4;
  testing::expect_error([&] { train(other); }, {"[train]", "other settings"});
}

TEST_F(Trainer, TheLossFalls) {
  TrainConfig c = stage3(dir_->file("falls"), 12);
  c.save_every = 0;
  c.val_data.clear();
  c.learning_rate = 1e-2;
  c.lora.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  TrainResult r = train(c);
  std::ifstream log(fs::path(c.output) / "train_log.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(log, line);) losses.push_back(nlohmann::json::parse(line)["loss"].get<double>());
  ASSERT_EQ(losses.size(), 12u);
  const double first = (losses[0] + losses[1] + losses[2]) / 3, last = (losses[9] + losses[10] + losses[11]) / 3;
  EXPECT_LT(last, 0.8 * first) << "first steps " << first << ", last steps " << last;
  std::printf("[loss] first three steps %.3f, last three %.3f\n", first, last);
}

}  // namespace
}  // namespace vg::train
