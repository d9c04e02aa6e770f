// The training config's "device" and "dtype" keys: they override the model config's for the run,
// and bad names are errors naming the key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"
#include "train/train_config.h"

namespace vg::train {
namespace {

using testing::expect_error;

std::string write_config(const testing::ScratchFolder& dir, const nlohmann::json& extra) {
  return testing::write_json(dir.file("train.json"),
                             {{"model", "model.json"}, {"train_data", "QVED_TRAIN"}, {"output", "run"}}, extra);
}

// Loading a config with `extra` fails with an error holding every fragment.
void expect_load_error(const testing::ScratchFolder& dir, const nlohmann::json& extra,
                       const std::vector<std::string>& fragments) {
  expect_error([&] { TrainConfig::load(write_config(dir, extra)); }, fragments);
}

TEST(TrainConfigDevice, LeftOutTheModelConfigDecides) {
  testing::ScratchFolder dir;
  const TrainConfig c = TrainConfig::load(write_config(dir, {}));
  EXPECT_EQ(c.device, "");
  EXPECT_EQ(c.dtype, "");
}

TEST(TrainConfigDevice, ReadsDeviceAndDtype) {
  testing::ScratchFolder dir;
  const TrainConfig c = TrainConfig::load(write_config(dir, {{"device", "cuda:1"}, {"dtype", "bf16"}}));
  EXPECT_EQ(c.device, "cuda:1");
  EXPECT_EQ(c.dtype, "bf16");
}

TEST(TrainConfigDevice, BadNamesAreErrorsNamingTheKey) {
  testing::ScratchFolder dir;
  expect_load_error(dir, {{"device", "gpu0"}},
                    {"[train]", "train.json", "\"device\" must be cpu, cuda or cuda:N, got 'gpu0'"});
  expect_load_error(dir, {{"dtype", "int8"}}, {"[train]", "train.json", "\"dtype\"", "int8"});
  expect_load_error(dir, {{"dtype", 16}}, {"[train]", "\"dtype\" should be a string"});
}

}  // namespace
}  // namespace vg::train
