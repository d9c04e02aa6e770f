// The model config's "device" and "dtype" keys and the names behind them (vlm/device_choice.h):
// defaults per device, what each device takes, and errors that name the key. Runs on any machine:
// asking for a GPU where there is none (or in a build without CUDA) is the backend's own error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "io/mapped_file.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"
#include "vlm/device_choice.h"
#include "vlm/video_language_model.h"
#include "vlm/vlm_config.h"

namespace vg {
namespace {

using testing::expect_error;

// A model config with the three required paths (they need not exist to be read) plus `extra`.
std::string write_config(const testing::ScratchFolder& dir, const nlohmann::json& extra) {
  return testing::write_json(dir.file("model.json"),
                             {{"language_model", "lm"}, {"clip", "clip"}, {"videomamba", "vm.safetensors"}}, extra);
}

// Loading a config with `extra` fails with an error holding every fragment.
void expect_load_error(const testing::ScratchFolder& dir, const nlohmann::json& extra,
                       const std::vector<std::string>& fragments) {
  expect_error([&] { VlmConfig::load(write_config(dir, extra)); }, fragments);
}

TEST(DeviceChoice, EachDeviceHasItsDefaultDtype) {
  EXPECT_EQ(parse_compute_dtype("", Device::cpu(), "t", "--dtype"), DType::F32);
  EXPECT_EQ(parse_compute_dtype("", Device::cuda(), "t", "--dtype"), DType::BF16);
  EXPECT_EQ(parse_compute_dtype("f64", Device::cpu(), "t", "--dtype"), DType::F64);
  EXPECT_EQ(parse_compute_dtype("f32", Device::cuda(1), "t", "--dtype"), DType::F32);
  EXPECT_EQ(parse_compute_dtype("f16", Device::cuda(), "t", "--dtype"), DType::F16);
  EXPECT_EQ(parse_compute_device("cpu", "t", "--device"), Device::cpu());
  EXPECT_EQ(parse_compute_device("cuda", "t", "--device"), Device::cuda(0));
  EXPECT_EQ(parse_compute_device("cuda:3", "t", "--device"), Device::cuda(3));
  EXPECT_TRUE(is_compute_dtype_name("bf16"));
  EXPECT_TRUE(is_compute_dtype_name("f64"));
  EXPECT_FALSE(is_compute_dtype_name("i64"));
  EXPECT_FALSE(is_compute_dtype_name("q8_0"));
}

TEST(DeviceChoice, NamesADeviceDoesNotTakeAreErrorsSayingWhatItTakes) {
  expect_error([] { parse_compute_dtype("bf16", Device::cpu(), "cli", "--dtype"); },
               {"[cli]", "--dtype must be f32 or f64 on the cpu, got 'bf16'", "bf16, f16 or f32 on cuda"});
  expect_error([] { parse_compute_dtype("f64", Device::cuda(), "cli", "--dtype"); },
               {"[cli]", "--dtype must be bf16, f16 or f32 on cuda, got 'f64'", "f32 or f64 on the cpu"});
  expect_error([] { parse_compute_dtype("fp8", Device::cpu(), "cli", "--dtype"); }, {"--dtype", "'fp8'"});
  expect_error([] { parse_compute_device("tpu", "cli", "--device"); },
               {"[cli]", "--device must be cpu, cuda or cuda:N, got 'tpu'"});
  expect_error([] { parse_compute_device("cuda:x", "cli", "--device"); }, {"--device", "'cuda:x'"});
}

TEST(DeviceChoice, AGpuThatIsNotThereIsTheBackendsError) {
  EXPECT_NO_THROW(require_device(Device::cpu()));
  if (cuda_is_available()) {
    // A device index past the last one is refused, whatever the machine has.
    expect_error([] { require_device(Device::cuda(1000)); }, {"[cuda]", "cuda:1000"});
    GTEST_SKIP() << "this machine has a GPU; the no-GPU error cannot be seen";
  }
  // "no CUDA support" in a build without CUDA, "no CUDA device is available" in one with it.
  expect_error([] { require_device(Device::cuda()); }, {"[cuda]"});
}

TEST(VlmConfigDevice, DefaultsToTheCpuInItsDefaultDtype) {
  testing::ScratchFolder dir;
  const VlmConfig c = VlmConfig::load(write_config(dir, {}));
  EXPECT_EQ(c.device, "cpu");
  EXPECT_EQ(c.dtype, "");
  EXPECT_EQ(c.compute_device(), Device::cpu());
  EXPECT_EQ(c.compute_dtype(), DType::F32);
}

TEST(VlmConfigDevice, CudaComputesInBf16UnlessToldOtherwise) {
  testing::ScratchFolder dir;
  VlmConfig c = VlmConfig::load(write_config(dir, {{"device", "cuda:1"}}));
  EXPECT_EQ(c.compute_device(), Device::cuda(1));
  EXPECT_EQ(c.compute_dtype(), DType::BF16);
  c = VlmConfig::load(write_config(dir, {{"device", "cuda"}, {"dtype", "f32"}}));
  EXPECT_EQ(c.compute_dtype(), DType::F32);
  c = VlmConfig::load(write_config(dir, {{"dtype", "f64"}}));
  EXPECT_EQ(c.compute_dtype(), DType::F64);
}

TEST(VlmConfigDevice, UnknownValuesAreErrorsNamingTheKey) {
  testing::ScratchFolder dir;
  expect_load_error(dir, {{"device", "tpu"}},
                    {"[config]", "model.json", "\"device\" must be cpu, cuda or cuda:N, got 'tpu'"});
  expect_load_error(dir, {{"dtype", "fp8"}}, {"[config]", "model.json", "\"dtype\"", "fp8"});
  expect_load_error(dir, {{"device", 1}}, {"[config]", "\"device\" should be a string"});
  // A dtype the device does not take is named when the model is placed: a command's --device
  // may still move the model to a device that takes it.
  VlmConfig c = VlmConfig::load(write_config(dir, {{"dtype", "bf16"}}));
  expect_error([&] { (void)c.compute_dtype(); },
               {"[config]", "model.json: \"dtype\" must be f32 or f64 on the cpu, got 'bf16'"});
  expect_error([&] { VideoLanguageModel::load(c); }, {"[config]", "\"dtype\"", "bf16"});
  c.device = "cuda";
  EXPECT_EQ(c.compute_dtype(), DType::BF16);
}

TEST(VlmConfigDevice, SavingKeepsTheDeviceAndLeavesAnUnsetDtypeOut) {
  testing::ScratchFolder dir;
  VlmConfig c = VlmConfig::load(write_config(dir, {{"device", "cuda"}}));
  c.save(dir.file("saved.json"));
  nlohmann::json doc = nlohmann::json::parse(io::read_text_file(dir.file("saved.json")));
  EXPECT_EQ(doc["device"], "cuda");
  EXPECT_FALSE(doc.contains("dtype")) << doc.dump();
  const VlmConfig again = VlmConfig::load(dir.file("saved.json"));
  EXPECT_EQ(again.device, "cuda");
  EXPECT_EQ(again.compute_dtype(), DType::BF16);

  c.dtype = "f16";
  c.save(dir.file("saved.json"));
  EXPECT_EQ(VlmConfig::load(dir.file("saved.json")).compute_dtype(), DType::F16);
}

TEST(VlmConfigDevice, LoadingOntoAMissingGpuIsTheBackendsErrorBeforeAnyWeightIsRead) {
  if (cuda_is_available()) GTEST_SKIP() << "this machine has a GPU";
  testing::ScratchFolder dir;
  // The weight paths do not exist: the device is refused first.
  VlmConfig c = VlmConfig::load(write_config(dir, {{"device", "cuda"}}));
  expect_error([&] { VideoLanguageModel::load(c); }, {"[cuda]"});
}

}  // namespace
}  // namespace vg
