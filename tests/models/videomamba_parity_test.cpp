// VideoMamba against the pure-PyTorch float64 reference of tools/reference/make_videomamba_goldens.py
// (specs/vision-encoders.md §D.1): the tiny encoder in both directions and in one, image mode,
// an interpolated temporal embedding, gradients into every parameter, the §D.1 checks
// (causality, both directions reach everything, sum not average), the checkpoint layouts, clear
// errors, and the VideoMamba-M geometry with seeded weights.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "models/videomamba/model.h"
#include "support/golden_case.h"
#include "support/model_fixtures.h"
#include "support/seeded_weights.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::expect_error;
using testing::open_golden;
using testing::test_data_path;
using videomamba::Config;
using videomamba::LoadOptions;
using videomamba::Model;

const std::string kPrefix = "vision_encoder.";

std::map<std::string, Tensor> tiny_tensors() {
  return io::load_safetensors(test_data_path("videomamba/tiny_weights.safetensors"));
}

Model tiny_model(DType dtype, bool bidirectional = true, int64_t num_frames = 0) {
  models::MapSource source(tiny_tensors());
  LoadOptions options;
  options.dtype = dtype;
  options.bidirectional = bidirectional;
  options.num_frames = num_frames;
  return Model::from_source(source, options);
}

using testing::close_relative;
using testing::max_abs_diff;
using testing::relative_error;

// f64 against the f64 reference: rounding only. f32: the spec's fp32 tolerance (atol 1e-5, rtol 1e-4).
testing::Tolerance tolerance(DType dtype) {
  return dtype == DType::F64 ? testing::Tolerance{1e-9, 1e-11} : testing::Tolerance{1e-4, 1e-5};
}

class TinyVideoMamba : public ::testing::TestWithParam<DType> {
 protected:
  io::SafetensorsFile golden_ = open_golden("videomamba/tiny_golden.safetensors");
  Tensor input(const std::string& name) const { return golden_.get(name).to(GetParam()); }
  void expect_close(const Tensor& actual, const std::string& key) const {
    const testing::Tolerance tol = tolerance(GetParam());
    EXPECT_ALL_CLOSE(actual, golden_.get(key), tol.rtol, tol.atol) << key;
  }
};

TEST_P(TinyVideoMamba, TokensResidualsAndOutputMatchTheReference) {
  Model m = tiny_model(GetParam());
  std::vector<Tensor> residuals;
  videomamba::ForwardArgs args;
  args.video = input("input.video");
  args.layer_residuals = &residuals;
  Tensor x_vis = m.forward(args);
  EXPECT_EQ(x_vis.shape(), Shape({2, 9, 32}));
  expect_close(m.embed(args.video), "bi.embed");
  ASSERT_EQ(residuals.size(), 2u);
  for (size_t i = 0; i < residuals.size(); ++i) expect_close(residuals[i], "bi.resid" + std::to_string(i));
  expect_close(x_vis, "bi.x_vis");
  std::printf("[tiny %s] x_vis max abs error %.3g\n", dtype_name(GetParam()),
              max_abs_diff(x_vis, golden_.get("bi.x_vis")));
  // The VLM's view: cls dropped, one row of 4 patches per frame.
  Tensor features = m.features_of(x_vis);
  EXPECT_EQ(features.shape(), Shape({4, 4, 32}));
  EXPECT_ALL_CLOSE(features.select(0, 3), x_vis.select(0, 1).slice(0, 5, 9), 0, 0);
}

TEST_P(TinyVideoMamba, BranchOutputsOfTheFirstMixerMatch) {
  Model m = tiny_model(GetParam());
  const videomamba::LayerWeights& layer = m.weights().layers[0];
  Tensor normed = rms_norm(m.embed(input("input.video")), layer.norm, m.config().norm_eps);
  videomamba::MixerTrace trace;
  videomamba::mixer_forward(m.config(), layer.mixer, normed, nullptr, &trace);
  expect_close(trace.y_forward, "bi.branch_f");
  expect_close(trace.y_backward, "bi.branch_b");
}

TEST_P(TinyVideoMamba, EveryParameterGetsTheReferenceGradient) {
  Model m = tiny_model(GetParam());
  std::vector<Tensor*> params = m.weights().parameters();
  EXPECT_EQ(params.size(), 5u + 2 * (3 + 2 * 7) + 1);
  for (Tensor* p : params) p->set_requires_grad(true);
  Tensor x_vis = m.forward(input("input.video"));
  x_vis.backward(input("bi.gout"));
  const double tol = GetParam() == DType::F64 ? 1e-9 : 1e-4;
  double worst = 0;
  for (Tensor* p : params) {
    SCOPED_TRACE(p->name());
    ASSERT_TRUE(p->grad().defined());
    Tensor expected = golden_.get("bi.grad." + p->name());
    EXPECT_TRUE(close_relative(p->grad(), expected, tol));
    worst = std::max(worst, relative_error(p->grad(), expected));
  }
  std::printf("[tiny %s] %zu parameter gradients, worst relative error %.3g\n", dtype_name(GetParam()), params.size(),
              worst);
}

TEST_P(TinyVideoMamba, OneDirectionMatchesStockMamba) {
  Model m = tiny_model(GetParam(), /*bidirectional=*/false);
  EXPECT_FALSE(m.config().bidirectional);
  EXPECT_FALSE(m.weights().layers[0].mixer.backward_dir.A_log.defined());
  std::vector<Tensor*> params = m.weights().parameters();
  for (Tensor* p : params) p->set_requires_grad(true);
  std::vector<Tensor> residuals;
  videomamba::ForwardArgs args;
  args.video = input("input.video");
  args.layer_residuals = &residuals;
  Tensor x_vis = m.forward(args);
  for (size_t i = 0; i < residuals.size(); ++i) expect_close(residuals[i], "uni.resid" + std::to_string(i));
  expect_close(x_vis, "uni.x_vis");
  x_vis.backward(input("uni.gout"));
  int checked = 0;
  for (Tensor* p : params) {
    if (!golden_.contains("uni.grad." + p->name())) continue;
    SCOPED_TRACE(p->name());
    EXPECT_TRUE(
        close_relative(p->grad(), golden_.get("uni.grad." + p->name()), GetParam() == DType::F64 ? 1e-9 : 1e-4));
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

TEST_P(TinyVideoMamba, ImageModeHasNoTemporalEmbedding) {
  Model m = tiny_model(GetParam());
  Tensor x_vis = m.forward(input("image.video"));
  EXPECT_EQ(x_vis.shape(), Shape({2, 5, 32}));
  expect_close(m.embed(input("image.video")), "image.embed");
  expect_close(x_vis, "image.x_vis");
  EXPECT_EQ(m.features(input("image.video")).shape(), Shape({2, 4, 32}));
}

TEST_P(TinyVideoMamba, TemporalEmbeddingInterpolatedLikeUpstream) {
  Model m = tiny_model(GetParam(), true, /*num_frames=*/4);
  EXPECT_EQ(m.config().num_frames, 4);
  expect_close(m.weights().temporal_pos_embed, "interp.tpe");
  expect_close(m.forward(input("interp.video")), "interp.x_vis");
}

INSTANTIATE_TEST_SUITE_P(DTypes, TinyVideoMamba, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

// ---- the §D.1 checks ----

// The video with 1 added to the pixels of patch n (row-major in the 2x2 grid) of frame t, batch 0.
Tensor perturb_patch(const Tensor& video, int64_t t, int64_t n) {
  const Shape s = video.shape();  // [B, T, 3, 32, 32]
  std::vector<double> v = video.to_vector<double>();
  const int64_t H = s[3], W = s[4], p = 16;
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = (n / 2) * p; y < (n / 2 + 1) * p; ++y) {
      for (int64_t x = (n % 2) * p; x < (n % 2 + 1) * p; ++x)
        v[static_cast<size_t>(((t * 3 + c) * H + y) * W + x)] += 1;
    }
  }
  return Tensor::from_vector(v, s).to(video.dtype());
}

// Per position of batch 0: max |a - b| over the channels. [2, L, C] -> L values.
std::vector<double> position_changes(const Tensor& a, const Tensor& b) {
  std::vector<double> out;
  for (int64_t l = 0; l < a.size(1); ++l)
    out.push_back(max_abs_diff(a.select(0, 0).select(0, l), b.select(0, 0).select(0, l)));
  return out;
}

TEST(VideoMambaChecks, OneDirectionIsCausalInSpatialFirstOrder) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  Model m = tiny_model(DType::F64, /*bidirectional=*/false);
  Tensor video = g.get("input.video").to(DType::F64);
  Tensor base = m.forward(video);
  for (int64_t t = 0; t < 2; ++t) {
    for (int64_t n = 0; n < 4; ++n) {
      SCOPED_TRACE("frame " + std::to_string(t) + ", patch " + std::to_string(n));
      Tensor out = m.forward(perturb_patch(video, t, n));
      const int64_t position = 1 + 4 * t + n;
      std::vector<double> change = position_changes(out, base);
      for (int64_t l = 0; l < 9; ++l) {
        if (l < position) {
          EXPECT_LE(change[static_cast<size_t>(l)], 1e-13) << "position " << l << " saw a later patch";
        } else {
          EXPECT_GT(change[static_cast<size_t>(l)], 1e-6) << "position " << l << " did not see patch " << position;
        }
      }
      EXPECT_LE(max_abs_diff(out.select(0, 1), base.select(0, 1)), 0.0) << "the other video changed";
    }
  }
}

TEST(VideoMambaChecks, BothDirectionsReachEveryPosition) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  Model m = tiny_model(DType::F64);
  Tensor video = g.get("input.video").to(DType::F64);
  Tensor base = m.forward(video);
  for (auto [t, n] : {std::pair<int64_t, int64_t>{0, 0}, {1, 3}, {1, 0}}) {
    std::vector<double> change = position_changes(m.forward(perturb_patch(video, t, n)), base);
    for (int64_t l = 0; l < 9; ++l) EXPECT_GT(change[static_cast<size_t>(l)], 1e-6) << "position " << l;
  }
}

TEST(VideoMambaChecks, DirectionsAreSummedNotAveraged) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  Tensor x_vis = tiny_model(DType::F64).forward(g.get("input.video").to(DType::F64));
  EXPECT_LE(max_abs_diff(x_vis, g.get("bi.x_vis")), 1e-9);
  EXPECT_GT(max_abs_diff(x_vis, g.get("bi.x_vis_avg")), 0.1);  // what a port that halves the sum gives
}

// ---- checkpoint layouts and errors ----

// The tiny encoder as the video_sm classifier stores it: no prefix, norm_f, a 2D patch weight,
// a classification head, no text side.
std::map<std::string, Tensor> classifier_layout(const std::map<std::string, Tensor>& umt) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : umt) {
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string rest = name.substr(kPrefix.size());
    if (rest.rfind("pool_norm", 0) == 0 || rest.rfind("clip_decoder", 0) == 0) continue;
    if (rest == "norm.weight") rest = "norm_f.weight";
    out[rest] = rest == "patch_embed.proj.weight" ? t.select(2, 0).contiguous() : t;
  }
  out["head.weight"] = zeros({10, 32});
  out["head.bias"] = zeros({10});
  return out;
}

TEST(VideoMambaLoad, InfersTheGeometryFromTensorShapes) {
  models::MapSource source(tiny_tensors());
  Config c = Config::infer(source);
  EXPECT_EQ(c.weight_prefix.value_or("?"), kPrefix);
  EXPECT_EQ(c.embed_dim, 32);
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.d_state, 4);
  EXPECT_EQ(c.d_conv, 4);
  EXPECT_EQ(c.expand, 2);
  EXPECT_EQ(c.dt_rank, 2);
  EXPECT_EQ(c.img_size, 32);
  EXPECT_EQ(c.patch_size, 16);
  EXPECT_EQ(c.tubelet, 1);
  EXPECT_EQ(c.num_frames, 2);
  EXPECT_TRUE(c.bidirectional);
  EXPECT_EQ(c.sequence_length(2), 9);
  // The same from a file: Model::load reads any checkpoint io::Checkpoint opens.
  Model m = Model::load(test_data_path("videomamba/tiny_weights.safetensors"));
  EXPECT_EQ(m.config().depth, 2);
  EXPECT_EQ(m.dtype(), DType::F32);
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  EXPECT_ALL_CLOSE(m.forward(g.get("input.video")), g.get("bi.x_vis"), 1e-4, 1e-5);
}

TEST(VideoMambaLoad, ClassifierAndHuggingFaceLayoutsLoadTheSameEncoder) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  Tensor video = g.get("input.video").to(DType::F64);
  const std::map<std::string, Tensor> umt = tiny_tensors();
  LoadOptions f64;
  f64.dtype = DType::F64;

  models::MapSource classifier(classifier_layout(umt));
  EXPECT_EQ(Config::infer(classifier).weight_prefix.value_or("?"), "");
  Model a = Model::from_source(classifier, f64);
  EXPECT_EQ(a.weights().patch_weight.shape(), Shape({32, 3, 1, 16, 16}));  // inflated
  EXPECT_LE(max_abs_diff(a.forward(video), g.get("bi.x_vis")), 1e-9);

  // Mobile-VideoGPT's HF checkpoints hold the tower next to CLIP and the language model.
  std::map<std::string, Tensor> hf;
  for (const auto& [name, t] : umt) hf["model.vision_tower." + name] = t;
  hf["model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"] = zeros({8, 3, 16, 16});
  hf["model.layers.0.self_attn.q_proj.weight"] = zeros({8, 8});
  models::MapSource hf_source(std::move(hf));
  Model b = Model::from_source(hf_source, f64);
  EXPECT_EQ(b.config().weight_prefix.value_or("?"), "model.vision_tower.vision_encoder.");
  EXPECT_LE(max_abs_diff(b.forward(video), g.get("bi.x_vis")), 1e-9);

  // Image-made classifier weights have no temporal embedding: upstream starts it at zero.
  std::map<std::string, Tensor> image_only = classifier_layout(umt);
  image_only.erase("temporal_pos_embedding");
  models::MapSource image_source(std::move(image_only));
  Model c = Model::from_source(image_source, f64);
  EXPECT_EQ(c.weights().temporal_pos_embed.shape(), Shape({1, 8, 32}));
  EXPECT_EQ(max_abs_diff(c.weights().temporal_pos_embed, zeros({1, 8, 32}, DType::F64)), 0.0);
  EXPECT_LE(max_abs_diff(c.forward(g.get("image.video").to(DType::F64)), g.get("image.x_vis")), 1e-9);
}

TEST(VideoMambaLoad, OneDirectionNeedsNoBackwardTensors) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  std::map<std::string, Tensor> forward_only;
  for (const auto& [name, t] : tiny_tensors()) {
    if (name.find("_b.") == std::string::npos && name.find("A_b_log") == std::string::npos &&
        name.find(".D_b") == std::string::npos) {
      forward_only[name] = t;
    }
  }
  models::MapSource source(std::move(forward_only));
  EXPECT_FALSE(Config::infer(source).bidirectional);
  LoadOptions f64;
  f64.dtype = DType::F64;
  Model m = Model::from_source(source, f64);
  EXPECT_LE(max_abs_diff(m.forward(g.get("input.video").to(DType::F64)), g.get("uni.x_vis")), 1e-9);
  // Asking for both directions of such a checkpoint names the missing tensor.
  Config both = Config::infer(source);
  both.bidirectional = true;
  expect_error([&] { Model::from_source(both, source, f64); },
               {"[videomamba]", "vision_encoder.layers.0.mixer.conv1d_b.weight"});
}

TEST(VideoMambaLoad, ClearErrorsForBadCheckpoints) {
  {
    std::map<std::string, Tensor> t = tiny_tensors();
    t.erase("vision_encoder.layers.1.mixer.A_b_log");
    models::MapSource source(std::move(t));
    expect_error([&] { Model::from_source(source); }, {"[videomamba]", "vision_encoder.layers.1.mixer.A_b_log"});
  }
  {
    std::map<std::string, Tensor> t = tiny_tensors();
    t["vision_encoder.layers.1.mixer.x_proj.weight"] = zeros({11, 64});
    models::MapSource source(std::move(t));
    expect_error([&] { Model::from_source(source); },
                 {"[videomamba]", "vision_encoder.layers.1.mixer.x_proj.weight", "[11,64]", "[10,64]"});
  }
  {
    std::map<std::string, Tensor> t = tiny_tensors();
    t.erase("vision_encoder.norm.weight");
    models::MapSource source(std::move(t));
    expect_error([&] { Model::from_source(source); }, {"[videomamba]", "norm.weight", "norm_f.weight"});
  }
  {
    models::MapSource source({{"model.embed_tokens.weight", zeros({4, 4})}});
    expect_error([&] { Model::from_source(source); }, {"[videomamba]", "no VideoMamba encoder"});
  }
  {
    Config c = Config::infer(models::MapSource(tiny_tensors()));
    c.img_size = 48;  // pos_embed has 4 patch rows, 48 px would need 9
    models::MapSource source(tiny_tensors());
    expect_error([&] { Model::from_source(c, source); }, {"[videomamba]", "pos_embed", "img_size 48"});
  }
}

TEST(VideoMambaLoad, ClearErrorsForBadInputs) {
  Model m = tiny_model(DType::F32);
  expect_error([&] { m.forward(zeros({1, 2, 3, 48, 48})); }, {"[videomamba]", "48x48", "32x32"});
  expect_error([&] { m.forward(zeros({1, 3, 3, 32, 32})); }, {"[videomamba]", "3 frames", "covers 2"});
  expect_error([&] { m.forward(zeros({2, 3, 32, 32})); }, {"[videomamba]", "[B, T, 3, 32, 32]"});
  expect_error([&] { m.forward(zeros({1, 2, 32, 32, 3})); }, {"[videomamba]", "channels"});
  expect_error([&] { m.forward(zeros({1, 2, 3, 32, 32}, DType::F64)); }, {"[videomamba]", "computes in"});
  expect_error([&] { m.forward(Tensor()); }, {"[videomamba]", "needs a video"});
}

TEST(VideoMambaConfig, PresetsAndMobileVideoGptConfig) {
  // Parameter counts of the released sizes (spec §A.1: 6.96 M, 25.4 M, 73.6 M).
  EXPECT_EQ(videomamba::count_parameters(Config::tiny()), 6956544);
  EXPECT_EQ(videomamba::count_parameters(Config::small()), 25414656);
  EXPECT_EQ(videomamba::count_parameters(Config::middle()), 73645056);
  EXPECT_EQ(Config::preset("videomamba_small").dt_rank, 24);
  expect_error([] { Config::preset("videomamba_huge"); }, {"[videomamba]", "videomamba_huge"});

  // mobilevideogpt/model/videomamba/config.json, as Mobile-VideoGPT ships it (abridged).
  Config c = Config::from_json(io::JsonConfig::parse(R"({"vision_encoder": {
      "name": "videomamba_middle", "img_size": 224, "patch_size": 16, "depth": 32, "embed_dim": 576,
      "drop_path_rate": 0.25, "ssm_cfg": null, "norm_epsilon": 1e-5, "fused_add_norm": true, "rms_norm": true,
      "residual_in_fp32": true, "bimamba": true, "pool_type": "cls+avg", "kernel_size": 1, "num_frames": 8,
      "ckpt_num_frame": 8, "clip_decoder_embed_dim": 576, "clip_output_dim": 512,
      "pretrained": "hf://OpenGVLab/VideoMamba/videomamba_m16_25M_f8_res224.pth"}})",
                                                     "config.json"));
  EXPECT_EQ(c.embed_dim, 576);
  EXPECT_EQ(c.depth, 32);
  EXPECT_EQ(c.d_inner(), 1152);
  EXPECT_EQ(c.dt_rank, 36);
  EXPECT_EQ(c.d_state, 16);
  EXPECT_EQ(c.x_proj_rows(), 68);
  EXPECT_EQ(c.sequence_length(8), 1569);
  EXPECT_TRUE(c.bidirectional);
  EXPECT_FALSE(c.weight_prefix.has_value());

  Config s = Config::from_json(io::JsonConfig::parse(
      R"({"embed_dim": 32, "depth": 2, "img_size": 32, "num_frames": 2, "bimamba": false,
          "ssm_cfg": {"d_state": 4, "dt_rank": "auto"}})",
      "tiny.json"));
  EXPECT_EQ(s.d_state, 4);
  EXPECT_EQ(s.dt_rank, 2);
  EXPECT_FALSE(s.bidirectional);
  expect_error([] { Config::from_json(io::JsonConfig::parse(R"({"rms_norm": false})", "ln.json")); },
               {"[videomamba]", "rms_norm"});
  expect_error([] { Config::from_json(io::JsonConfig::parse(R"({"num_frames": 7, "kernel_size": 2})", "k.json")); },
               {"[videomamba]", "num_frames 7"});
}

// ---- training ----

TEST(VideoMambaTraining, GradientCheckpointingGivesTheSameGradients) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  Model m = tiny_model(DType::F64);
  std::vector<Tensor*> params = m.weights().parameters();
  for (Tensor* p : params) p->set_requires_grad(true);
  videomamba::ForwardArgs args;
  args.video = g.get("input.video").to(DType::F64);
  args.checkpoint_layers = true;
  Tensor x_vis = m.forward(args);
  EXPECT_LE(max_abs_diff(x_vis, g.get("bi.x_vis")), 1e-9);
  x_vis.backward(g.get("bi.gout"));
  for (Tensor* p : params) {
    SCOPED_TRACE(p->name());
    ASSERT_TRUE(p->grad().defined());
    EXPECT_TRUE(close_relative(p->grad(), g.get("bi.grad." + p->name()), 1e-9));
  }
}

TEST(VideoMambaTraining, LoraAdapterOnTheMixerReceivesGradients) {
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  Model m = tiny_model(DType::F64);
  const std::string name = "vision_encoder.layers.1.mixer.x_proj_b.weight";
  models::LoraAdapter adapter{testing::random_tensor({4, 64}, 1), zeros({10, 4}, DType::F64), 2.0};
  adapter.a.set_requires_grad(true);
  adapter.b.set_requires_grad(true);
  models::LoraSet lora;
  lora.add(name, adapter);
  m.set_lora(&lora);
  Tensor x_vis = m.forward(g.get("input.video").to(DType::F64));
  EXPECT_LE(max_abs_diff(x_vis, g.get("bi.x_vis")), 1e-9);  // B = 0: the base model
  x_vis.backward(g.get("bi.gout"));
  ASSERT_TRUE(adapter.b.grad().defined());
  EXPECT_GT(max_abs_diff(adapter.b.grad(), zeros({10, 4}, DType::F64)), 1e-6);
  m.set_lora(nullptr);
}

// ---- VideoMamba-M geometry, seeded weights ----

TEST(VideoMambaMiddle, SeededMiddleGeometryMatchesTheFloat64Reference) {
  io::SafetensorsFile g = open_golden("videomamba/middle_golden.safetensors");
  const auto seed = static_cast<uint64_t>(g.get("base_seed").to_vector<int64_t>()[0]);
  Config c = Config::middle();
  const int64_t C = c.embed_dim;
  std::map<std::string, Tensor> weights = testing::seeded_videomamba_weights(c, seed, kPrefix);
  models::MapSource source(std::move(weights));
  Config inferred = Config::infer(source);
  EXPECT_EQ(videomamba::count_parameters(inferred), videomamba::count_parameters(c));
  Model m = Model::from_source(source);

  Tensor video = testing::seeded_tensor("video", {1, 8, 3, 224, 224}, "embedding", seed);
  std::vector<Tensor> residuals;
  videomamba::ForwardArgs args;
  args.video = video;
  args.layer_residuals = &residuals;
  Tensor x_vis;
  {
    NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    x_vis = m.forward(args);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[middle f32] forward of 8x224x224 (L=1569, depth 32, both directions): %.2f s\n", seconds);
  }
  ASSERT_EQ(x_vis.shape(), Shape({1, 1569, 576}));
  Tensor rows = g.get("rows");
  Tensor x0 = x_vis.select(0, 0).to(DType::F64);  // [L, C]
  const double tol = 1e-4;
  EXPECT_TRUE(close_relative(index_select(x0, 0, rows), g.get("x_vis_rows"), tol)) << "x_vis rows";
  EXPECT_TRUE(close_relative(sqrt(sum(square(x0), -1)), g.get("row_norms"), tol)) << "row norms";
  Tensor probe = testing::seeded_tensor("probe", {4, C}, "matrix", seed).to(DType::F64);
  EXPECT_TRUE(close_relative(matmul(x0, probe.transpose(0, 1)), g.get("probe"), tol)) << "projection of all x_vis";
  EXPECT_TRUE(
      close_relative(index_select(m.embed(video).select(0, 0).to(DType::F64), 0, rows), g.get("embed_rows"), 1e-5));
  Tensor resid_rows = g.get("resid_rows");  // [depth, 2, C] at positions 0 and L - 1
  double worst_block = 0;
  for (int64_t i = 0; i < c.depth; ++i) {
    Tensor r = residuals[static_cast<size_t>(i)].select(0, 0);
    Tensor ours = stack({r.select(0, 0), r.select(0, 1568)}, 0);
    EXPECT_TRUE(close_relative(ours, resid_rows.select(0, i), tol)) << "residual after block " << i;
    worst_block = std::max(worst_block, relative_error(ours, resid_rows.select(0, i)));
  }
  std::printf(
      "[middle f32] relative errors (max |diff| / max |ref|): x_vis rows %.3g, row norms %.3g, projection "
      "of all of x_vis %.3g, residual rows (worst block) %.3g\n",
      relative_error(index_select(x0, 0, rows), g.get("x_vis_rows")),
      relative_error(sqrt(sum(square(x0), -1)), g.get("row_norms")),
      relative_error(matmul(x0, probe.transpose(0, 1)), g.get("probe")), worst_block);
}

}  // namespace
}  // namespace vg

namespace vg {
namespace {

TEST(VideoMambaRelease, LoadsTheOfficialPthLayoutLikeSafetensors) {
  // tools/reference/make_videomamba_goldens.py pth_release(): torch.save({"model": state_dict,
  // "epoch": 3, "args": argparse.Namespace(...)}) of the tiny weights.
  videomamba::Model from_pth = videomamba::Model::load(testing::test_data_path("videomamba/tiny_release.pth"));
  videomamba::Model from_st = videomamba::Model::load(testing::test_data_path("videomamba/tiny_weights.safetensors"));
  EXPECT_EQ(from_pth.config().embed_dim, from_st.config().embed_dim);
  EXPECT_TRUE(from_pth.config().bidirectional);
  NoGradGuard no_grad;
  Tensor video = testing::random_tensor({1, 2, 3, 32, 32}, 5, DType::F32);
  EXPECT_ALL_CLOSE(from_pth.forward(video), from_st.forward(video), 0, 0);
}

}  // namespace
}  // namespace vg
