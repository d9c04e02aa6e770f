// The user-facing path on the GPU (`--device cuda`): the tiny random-weight video-language model
// of tests/support/vlm_fixtures.h placed on CUDA, encoding frames, answering greedily, clipping
// gradients and training stage 3, each against the same on the CPU. Skipped without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"
#include "support/vlm_fixtures.h"
#include "train/grad_clip.h"
#include "train/lora.h"
#include "train/peft_adapter.h"
#include "train/trainer.h"
#include "vlm/demo_model.h"
#include "vlm/frame_selection.h"
#include "vlm/video_language_model.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

// The tiny VLM uses the real Gemma tokenizer, which the GPU machine may not have.
#define VG_REQUIRE_GEMMA_TOKENIZER()                                                                  \
  do {                                                                                                \
    if (find_gemma_tokenizer().empty()) GTEST_SKIP() << "no Gemma tokenizer.json (scripts/setup.sh)"; \
  } while (0)
using testing::close_relative;

// The tiny model with both projectors and a PEFT adapter (q and v projections, B random so the
// adapter changes the answers), written once per process.
std::string tiny_model_with_adapter(const testing::ScratchFolder& dir) {
  const std::string path = testing::write_tiny_vlm(dir.file("model"), 5, /*with_projectors=*/true);
  VlmConfig config = VlmConfig::load(path);
  const gemma3n::Model lm = gemma3n::Model::load(config.language_model);
  train::LoraOptions options;
  options.rank = 4;
  options.alpha = 8;
  options.target_modules = {"q_proj", "v_proj"};
  Generator gen(6);
  const models::LoraSet fresh = train::create_lora(lm, options, gen);
  models::LoraSet adapters;
  {
    NoGradGuard no_grad;
    for (const auto& [name, a] : fresh.adapters()) {
      models::LoraAdapter random = a;
      random.a = a.a.detach();
      random.b = mul(randn(a.b.shape(), gen), 0.1);
      adapters.add(name, random);
    }
  }
  train::write_peft_adapter(dir.file("model/adapter"), adapters, train::peft_config_for(options, "lm"));
  config.lora = dir.file("model/adapter");
  config.save(path);
  return path;
}

VlmConfig on(const std::string& path, const std::string& device, const std::string& dtype) {
  VlmConfig c = VlmConfig::load(path);
  c.device = device;
  c.dtype = dtype;
  return c;
}

std::vector<Tensor> ramp_frames() {
  std::vector<Tensor> frames;
  for (int64_t k = 0; k < 8; ++k) frames.push_back(testing::ramp_frame(k * 3));
  return frames;
}

TEST(CudaVlm, LoadPlacesEveryPartOnTheDeviceInItsDtype) {
  VG_REQUIRE_GPU();
  VG_REQUIRE_GEMMA_TOKENIZER();
  testing::ScratchFolder dir;
  const std::string path = tiny_model_with_adapter(dir);
  std::unique_ptr<VideoLanguageModel> m = VideoLanguageModel::load(on(path, "cuda", ""));
  EXPECT_TRUE(m->device().is_cuda());
  EXPECT_EQ(m->dtype(), DType::BF16);  // cuda's default
  EXPECT_TRUE(m->language_model().weights().layers[0].q.weight.device().is_cuda());
  EXPECT_TRUE(m->clip().device().is_cuda());
  EXPECT_EQ(m->clip().dtype(), DType::BF16);
  EXPECT_TRUE(m->videomamba().device().is_cuda());
  EXPECT_EQ(m->videomamba().dtype(), DType::BF16);
  for (projector::Etp* p : {&m->image_projector(), &m->video_projector()}) {
    EXPECT_TRUE(p->device().is_cuda());
    EXPECT_EQ(p->dtype(), DType::BF16);
  }
  ASSERT_FALSE(m->lora().empty());
  for (const auto& [name, a] : m->lora().adapters()) {
    EXPECT_TRUE(a.a.device().is_cuda() && a.b.device().is_cuda()) << name;
    EXPECT_EQ(a.b.dtype(), DType::BF16) << name;
  }
  // Training keeps the projectors as f32 master copies on the device.
  VlmLoadOptions training;
  training.f32_projectors = true;
  m = VideoLanguageModel::load(on(path, "cuda:0", "bf16"), training);
  EXPECT_EQ(m->image_projector().dtype(), DType::F32);
  EXPECT_TRUE(m->image_projector().device().is_cuda());
}

TEST(CudaVlm, VisualTokensAndGreedyAnswersMatchTheCpuInF32) {
  VG_REQUIRE_GPU();
  VG_REQUIRE_GEMMA_TOKENIZER();
  testing::ScratchFolder dir;
  const std::string path = tiny_model_with_adapter(dir);
  std::unique_ptr<VideoLanguageModel> cpu = VideoLanguageModel::load(on(path, "cpu", ""));
  std::unique_ptr<VideoLanguageModel> gpu = VideoLanguageModel::load(on(path, "cuda", "f32"));
  ASSERT_EQ(gpu->dtype(), DType::F32);
  const VisualEncoding a = cpu->encoder().encode_frames(ramp_frames());
  const VisualEncoding b = gpu->encoder().encode_frames(ramp_frames());
  EXPECT_TRUE(b.visual_tokens.device().is_cuda());
  EXPECT_TRUE(close_relative(b.clip_features, a.clip_features, 1e-4));
  EXPECT_TRUE(close_relative(b.videomamba_features, a.videomamba_features, 1e-4));
  EXPECT_TRUE(close_relative(b.visual_tokens, a.visual_tokens, 1e-4));

  GenerationOptions g;
  g.max_new_tokens = 8;
  g.stop_ids = std::vector<int32_t>{};  // always 8 tokens
  const std::vector<GenerationResult> want = cpu->answer_tokens({a.visual_tokens}, "", g);
  const std::vector<GenerationResult> got = gpu->answer_tokens({b.visual_tokens}, "", g);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ids, want[0].ids);
  // The same tokens from the CPU's visual tokens, handed over from the host.
  EXPECT_EQ(gpu->answer_tokens({a.visual_tokens}, "", g)[0].ids, want[0].ids);

  // bf16 runs the same path (its tokens may differ from f32's).
  std::unique_ptr<VideoLanguageModel> half = VideoLanguageModel::load(on(path, "cuda", "bf16"));
  const VisualEncoding c = half->encoder().encode_frames(ramp_frames());
  EXPECT_EQ(c.visual_tokens.dtype(), DType::BF16);
  EXPECT_TRUE(close_relative(c.visual_tokens.to(DType::F32), a.visual_tokens, 5e-2));
  EXPECT_EQ(half->answer_tokens({c.visual_tokens}, "", g)[0].ids.size(), 8u);
}

TEST(CudaVlm, FrameSelectionRunsAtViTBWidthAndMatchesTheCpu) {
  VG_REQUIRE_GPU();
  // 16 frames of ViT-B features (width 768: past the GPU attention kernels' head dims). Each
  // frame is pulled towards its own direction by a different amount, so the scores differ.
  Generator gen(9);
  Tensor features = mul(randn({16, 196, 768}, gen), 0.05);
  Tensor bias = mul(randn({16, 1, 768}, gen), 0.02);
  bias = mul(bias, arange(1, 17, 1, DType::F32).reshape({16, 1, 1}));
  features = add(features, bias).contiguous();
  const Tensor on_gpu = features.to(Device::cuda());
  for (int64_t chunk = 0; chunk < 2; ++chunk) {
    const Tensor tokens = features.narrow(0, chunk * 8, 8).reshape({8 * 196, 768});
    const Tensor want = frame_attention_scores(tokens, 8);
    const Tensor got = frame_attention_scores(on_gpu.narrow(0, chunk * 8, 8).reshape({8 * 196, 768}), 8);
    EXPECT_TRUE(close_relative(got, want, 1e-4)) << "chunk " << chunk;
  }
  const std::vector<int64_t> want = select_frames(features);
  EXPECT_EQ(select_frames(on_gpu), want);
  const std::vector<int64_t> half = select_frames(on_gpu.to(DType::BF16));
  ASSERT_EQ(half.size(), 8u);
  EXPECT_TRUE(std::is_sorted(half.begin(), half.begin() + 4) && std::is_sorted(half.begin() + 4, half.end()));
}

void set_grad(const Tensor& param, const Tensor& grad) {
  param.impl()->grad = grad.to(param.dtype()).contiguous().clone().impl_ptr();
}

TEST(CudaVlm, GradientClippingOnTheGpuEqualsTheCpu) {
  VG_REQUIRE_GPU();
  Generator gen(3);
  std::vector<train::NamedParameter> cpu, gpu;
  int i = 0;
  for (const Shape& shape : {Shape{64, 32}, Shape{7}, Shape{3, 5, 9}, Shape{1000}}) {
    const Tensor g = mul(randn(shape, gen), 3.0);
    Tensor pc = zeros(shape).set_requires_grad(true);
    Tensor pg = zeros(shape, DType::F32, Device::cuda()).set_requires_grad(true);
    set_grad(pc, g);
    set_grad(pg, g.to(Device::cuda()));
    cpu.push_back({str("p", i), pc});
    gpu.push_back({str("p", i++), pg});
  }
  const double norm = train::grad_norm(cpu);
  EXPECT_NEAR(train::grad_norm(gpu), norm, 1e-6 * norm);
  // Above the limit nothing changes; below it every gradient is scaled by the same coefficient.
  train::ClipResult r = train::clip_grad_norm(gpu, 10 * norm);
  EXPECT_EQ(r.clip_coef, 1.0);
  for (size_t k = 0; k < cpu.size(); ++k) EXPECT_TRUE(close_relative(gpu[k].tensor.grad(), cpu[k].tensor.grad(), 0));
  const train::ClipResult rc = train::clip_grad_norm(cpu, 1.0);
  r = train::clip_grad_norm(gpu, 1.0);
  EXPECT_NEAR(r.total_norm, rc.total_norm, 1e-6 * rc.total_norm);
  EXPECT_NEAR(r.clip_coef, rc.clip_coef, 1e-6 * rc.clip_coef);
  for (size_t k = 0; k < cpu.size(); ++k) {
    EXPECT_TRUE(gpu[k].tensor.grad().device().is_cuda());
    EXPECT_TRUE(close_relative(gpu[k].tensor.grad(), cpu[k].tensor.grad(), 1e-6)) << gpu[k].name;
  }
  // A NaN anywhere: reported, and every gradient left as it was.
  const Tensor before = gpu[1].tensor.grad().clone();
  set_grad(gpu[0].tensor, full({64, 32}, NAN, DType::F32, Device::cuda()));
  r = train::clip_grad_norm(gpu, 1.0);
  EXPECT_TRUE(std::isnan(r.total_norm));
  EXPECT_TRUE(close_relative(gpu[1].tensor.grad(), before, 0));
}

// ---- training ----

class CudaTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!cuda_is_available()) return;  // write_tiny_qved writes .y4m clips where FFmpeg is missing
    dir_ = new testing::ScratchFolder();
    model_ = testing::write_tiny_vlm(dir_->file("model"), 11);
    data_ = testing::write_tiny_qved(dir_->file("data"), 10);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { VG_REQUIRE_GPU(); }

  // Stage 3 on `device` in `dtype` ("" = the defaults). LoRA dropout is off, so the CPU and the
  // GPU compute the same function.
  static train::TrainConfig stage3(const std::string& name, const std::string& device, const std::string& dtype,
                                   int64_t steps = 2) {
    train::TrainConfig c = testing::stage3_config(model_, data_, dir_->file(name), steps);
    c.lora.dropout = 0;
    c.device = device;
    c.dtype = dtype;
    return c;
  }

  static std::vector<double> losses(const std::string& name) {
    std::vector<double> out;
    for (const nlohmann::json& step : testing::train_log(dir_->file(name))) out.push_back(step["loss"].get<double>());
    return out;
  }

  static testing::ScratchFolder* dir_;
  static std::string model_, data_;
};
testing::ScratchFolder* CudaTraining::dir_ = nullptr;
std::string CudaTraining::model_, CudaTraining::data_;

void expect_losses_close(const std::vector<double>& got, const std::vector<double>& want, double rel,
                         const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], rel * std::abs(want[i])) << what << ", step " << i + 1;
  }
}

TEST_F(CudaTraining, TwoStepsMatchTheCpuAndWriteTheSameFiles) {
  const train::TrainResult cpu = train::train(stage3("cpu", "", ""));
  const train::TrainResult f32 = train::train(stage3("f32", "cuda", "f32"));
  const train::TrainResult bf16 = train::train(stage3("bf16", "cuda", ""));
  EXPECT_EQ(f32.steps, 2);
  EXPECT_EQ(f32.skipped_steps, 0);
  EXPECT_EQ(bf16.skipped_steps, 0);
  expect_losses_close(losses("f32"), losses("cpu"), 1e-4, "cuda f32");
  expect_losses_close(losses("bf16"), losses("cpu"), 5e-2, "cuda bf16");
  ASSERT_TRUE(cpu.val_loss && f32.val_loss && bf16.val_loss);
  EXPECT_NEAR(*f32.val_loss, *cpu.val_loss, 1e-4 * *cpu.val_loss);
  EXPECT_NEAR(*bf16.val_loss, *cpu.val_loss, 5e-2 * *cpu.val_loss);

  // The same files: f32 adapters in PEFT's layout, f32 projectors, a model config that does not
  // name the device the run used (sibling folders: the same relative paths).
  for (const char* run : {"f32", "bf16"}) {
    const fs::path c(dir_->file("cpu")), g(dir_->file(run));
    EXPECT_EQ(io::read_text_file((g / "adapter/adapter_config.json").string()),
              io::read_text_file((c / "adapter/adapter_config.json").string()));
    EXPECT_EQ(io::read_text_file((g / "model.json").string()), io::read_text_file((c / "model.json").string()));
    // Layouts: two AdamW steps move any element by about 2 lr at most, so a bound on the weights
    // says nothing; the gradients are compared through the moments below.
    testing::expect_same_tensor_files((c / "adapter/adapter_model.safetensors").string(),
                                      (g / "adapter/adapter_model.safetensors").string(), 0);
    testing::expect_same_tensor_files((c / "video_projector.safetensors").string(),
                                      (g / "video_projector.safetensors").string(), 0);
    testing::expect_same_tensor_files((c / "image_projector.safetensors").string(),
                                      (g / "image_projector.safetensors").string(), 0);
    for (const char* f : {"trainable.safetensors", "optimizer.safetensors"}) {
      testing::expect_same_tensor_files((c / "checkpoints/step-000002" / f).string(),
                                        (g / "checkpoints/step-000002" / f).string(), 0);
    }
    if (std::string(run) == "f32") {
      testing::expect_same_moments((c / "checkpoints/step-000002/optimizer.safetensors").string(),
                                   (g / "checkpoints/step-000002/optimizer.safetensors").string(), 1e-4);
    }
  }
  io::SafetensorsFile adapter = io::SafetensorsFile::open(dir_->file("bf16") + "/adapter/adapter_model.safetensors");
  for (const io::TensorInfo& t : adapter.tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;
}

TEST_F(CudaTraining, TheFeatureCacheKeepsGpuFeaturesOnDiskAndReusesThem) {
  train::TrainConfig c = stage3("cached", "cuda", "");
  c.feature_cache = dir_->file("features");
  c.save_every = 0;
  train::train(c);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(c.feature_cache)) files.push_back(e.path());
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    io::SafetensorsFile s = io::SafetensorsFile::open(f.string());
    ASSERT_NE(s.find("clip"), nullptr) << f;
    EXPECT_EQ(s.find("clip")->dtype, DType::BF16) << f;  // the towers' dtype, kept on the host
  }
  // A second run reads them back (no new files) and trains the same.
  c.output = dir_->file("cached_again");
  train::train(c);
  size_t count = 0;
  for (const auto& e : fs::directory_iterator(c.feature_cache)) count += e.is_regular_file();
  EXPECT_EQ(count, files.size());
  expect_losses_close(losses("cached_again"), losses("cached"), 1e-6, "from the cache");
}

// A run checkpointed on one device resumes on the other and ends where a run that was never
// interrupted ends.
TEST_F(CudaTraining, ACheckpointResumesOnTheOtherDevice) {
  train::train(stage3("whole", "", "", 4));
  const std::vector<double> whole = losses("whole");
  struct Stop {};
  for (const auto& [first, then] : {std::pair<std::string, std::string>{"", "cuda"}, {"cuda", "cpu"}}) {
    const std::string name = "from_" + (first.empty() ? std::string("cpu") : first);
    EXPECT_THROW(train::train(stage3(name, first, "f32", 4),
                              [](const train::TrainProgress& p) {
                                if (p.phase == train::TrainProgress::Phase::Training && p.done == 3) throw Stop{};
                              }),
                 Stop);
    ASSERT_TRUE(fs::exists(fs::path(dir_->file(name)) / "checkpoints/step-000002"));
    const train::TrainResult resumed = train::train(stage3(name, then, "f32", 4));
    EXPECT_EQ(resumed.resumed_from, 2) << name;
    EXPECT_EQ(resumed.steps, 4) << name;
    expect_losses_close(losses(name), whole, 1e-4, name.c_str());
    // Resumed on the GPU, only steps 3 and 4 differ from the CPU's, which a 4 lr bound on the
    // weights cannot catch: there the files' layouts are compared, and the moments below.
    testing::expect_same_tensor_files(dir_->file("whole") + "/adapter/adapter_model.safetensors",
                                      dir_->file(name) + "/adapter/adapter_model.safetensors",
                                      then == "cuda" ? 0.0 : 2e-3);
    // The gradients of all four steps, through AdamW's first moments. Steps 3 and 4 start from
    // weights that differ by up to a few lr where a gradient was noise, so their gradients differ
    // by more than rounding there: 1e-3 of the largest moment.
    testing::expect_same_moments(dir_->file("whole") + "/checkpoints/step-000004/optimizer.safetensors",
                                 dir_->file(name) + "/checkpoints/step-000004/optimizer.safetensors", 1e-3);
  }
}

}  // namespace
}  // namespace vg
