// The CLIP vision tower against transformers' CLIPVisionModel (fp32, eager, TF32 off), goldens
// from tools/reference/make_clip_goldens.py: the specs/vision-encoders.md §D.2 tiny model (2
// layers) and its 3-layer variant, both checkpoint layouts (unprefixed as transformers 5.x saves
// CLIPVisionModel, "vision_model." as hub CLIPModel files), gradients through the tower, and the
// ViT-B/16 geometry with seeded weights, compared in f32 and f64. Also the errors a user can cause.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "models/clip/model.h"
#include "support/model_fixtures.h"
#include "support/seeded_weights.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using clip::Model;
using testing::expect_error;
using testing::open_golden;
using testing::test_data_path;

// max |a - b| <= atol, printing the measured difference (the numbers docs/models.md quotes).
::testing::AssertionResult within(const Tensor& actual, const Tensor& expected, double atol, const std::string& what) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << what << ": shape " << actual.shape() << " vs " << expected.shape();
  }
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double worst = 0, lo = e[0], hi = e[0];
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - e[i]));
    lo = std::min(lo, e[i]);
    hi = std::max(hi, e[i]);
  }
  std::printf("[ clip ] %-48s max |diff| %.3g (values span %.3g)\n", what.c_str(), worst, hi - lo);
  if (worst <= atol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": max difference " << worst << " exceeds " << atol;
}

std::map<std::string, Tensor> tiny_weights(const std::string& name) {
  return io::load_safetensors(test_data_path("clip/" + name + "/model.safetensors"));
}

clip::Config tiny_config(const std::string& name) { return clip::Config::load(test_data_path("clip/" + name)); }

class TinyClip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new Model(Model::load(test_data_path("clip/tiny3"))); }
  static void TearDownTestSuite() { delete model_; }
  static Model* model_;
};
Model* TinyClip::model_ = nullptr;

TEST_F(TinyClip, ReadsTheConfigTransformersWrote) {
  const clip::Config& c = model_->config();
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_hidden_layers, 3);
  EXPECT_EQ(c.head_dim(), 16);
  EXPECT_EQ(c.num_patches(), 4);
  EXPECT_EQ(c.hidden_act, clip::Activation::QuickGelu);
  EXPECT_EQ(model_->weights().prefix, "");  // transformers 5.x saves CLIPVisionModel unprefixed
  EXPECT_TRUE(model_->weights().post_layernorm.defined());
  EXPECT_EQ(c.resolve_hidden_state(-2), 2);
  EXPECT_EQ(c.resolve_hidden_state(-4), 0);
}

TEST_F(TinyClip, EveryHiddenStateMatchesTransformers) {
  io::SafetensorsFile g = open_golden("clip/tiny_golden.safetensors");
  const Tensor pixels = g.get("tiny3.pixels");
  // Neighbouring states differ, so an off-by-one or a stray post_layernorm cannot pass.
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(within(g.get("tiny3.hidden." + std::to_string(i)), g.get("tiny3.hidden." + std::to_string(i + 1)),
                        1e-2,
                        "golden hidden." + std::to_string(i) + " vs " + std::to_string(i + 1) + " (must differ)"));
  }
  for (int64_t index = -4; index <= 3; ++index) {
    const int64_t resolved = index < 0 ? index + 4 : index;
    EXPECT_TRUE(within(model_->hidden_states(pixels, index), g.get("tiny3.hidden." + std::to_string(resolved)), 1e-5,
                       "tiny3 hidden_states[" + std::to_string(index) + "]"));
  }
  std::vector<Tensor> all = model_->all_hidden_states(pixels);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(within(all[i], g.get("tiny3.hidden." + std::to_string(i)), 1e-5, "tiny3 all_hidden_states"));
  }
  EXPECT_TRUE(within(all.back(), g.get("tiny3.last_hidden_state"), 1e-5, "tiny3 last_hidden_state"));
  EXPECT_TRUE(within(model_->pooled(pixels), g.get("tiny3.pooled"), 1e-5, "tiny3 pooler_output"));
  Tensor features = model_->features(pixels);  // layer -2, CLS dropped
  EXPECT_EQ(features.shape(), Shape({2, 4, 32}));
  EXPECT_TRUE(within(features, g.get("tiny3.hidden.2").slice(1, 1, 5), 1e-5, "tiny3 features"));
  expect_error([&] { model_->hidden_states(pixels, 4); }, {"[clip]", "hidden state 4 does not exist", "-4..3"});
  expect_error([&] { model_->hidden_states(pixels, -5); }, {"[clip]", "hidden state -5"});
}

TEST_F(TinyClip, GradientsFlowThroughTheTower) {
  io::SafetensorsFile g = open_golden("clip/tiny_golden.safetensors");
  Tensor pixels = g.get("tiny3.pixels").clone().set_requires_grad(true);
  Tensor& patch = model_->weights().patch_embedding;
  Tensor& q0 = model_->weights().layers[0].q.weight;
  patch.set_requires_grad(true);
  q0.set_requires_grad(true);
  sum(mul(model_->features(pixels), g.get("tiny3.gout"))).backward();
  EXPECT_TRUE(within(pixels.grad(), g.get("tiny3.grad.pixels"), 1e-5, "tiny3 d/d pixels"));
  EXPECT_TRUE(within(patch.grad(), g.get("tiny3.grad.patch_embedding"), 1e-4, "tiny3 d/d patch_embedding"));
  EXPECT_TRUE(within(q0.grad(), g.get("tiny3.grad.q_proj0"), 1e-5, "tiny3 d/d layers.0.q_proj"));
  for (Tensor* t : {&patch, &q0}) {
    t->zero_grad();
    t->set_requires_grad(false);
  }
}

TEST(Clip, TwoLayerModelAndItsGeluVariantMatchTransformers) {
  io::SafetensorsFile g = open_golden("clip/tiny_golden.safetensors");
  const Tensor pixels = g.get("tiny2.pixels");
  Model m = Model::load(test_data_path("clip/tiny2"));
  // With 2 layers, [-2] is the output of layer 0.
  EXPECT_TRUE(within(m.features(pixels), g.get("tiny2.hidden.1").slice(1, 1, 5), 1e-5, "tiny2 features"));
  EXPECT_TRUE(within(m.features(pixels, -1, false), g.get("tiny2.last_hidden_state"), 1e-5, "tiny2 last state"));
  EXPECT_TRUE(within(m.hidden_states(pixels, 0), g.get("tiny2.hidden.0"), 1e-5, "tiny2 embeddings"));
  EXPECT_TRUE(within(m.pooled(pixels), g.get("tiny2.pooled"), 1e-5, "tiny2 pooler_output"));

  clip::Config c = tiny_config("tiny2");
  c.hidden_act = clip::Activation::Gelu;
  models::MapSource source(tiny_weights("tiny2"));
  Model gelu = Model::from_source(c, source);
  std::vector<Tensor> states = gelu.all_hidden_states(pixels);
  for (size_t i = 0; i < states.size(); ++i) {
    EXPECT_TRUE(within(states[i], g.get("gelu.hidden." + std::to_string(i)), 1e-5, "gelu hidden_states"));
  }
}

TEST(Clip, ReadsTheVisionModelPrefixedLayoutOfAClipModelCheckpoint) {
  io::SafetensorsFile g = open_golden("clip/tiny_golden.safetensors");
  // A CLIPModel checkpoint: the tower under "vision_model.", plus the parts the tower ignores.
  std::map<std::string, Tensor> prefixed;
  for (auto& [name, t] : tiny_weights("tiny3")) prefixed["vision_model." + name] = t;
  prefixed["vision_model.embeddings.position_ids"] = arange(5).reshape({1, 5});  // old files: i64
  prefixed["text_model.embeddings.token_embedding.weight"] = zeros({10, 16});
  prefixed["visual_projection.weight"] = zeros({8, 32});
  prefixed["text_projection.weight"] = zeros({8, 16});
  prefixed["logit_scale"] = zeros({1});
  io::JsonConfig json = io::JsonConfig::parse(
      R"({"model_type": "clip", "projection_dim": 8, "text_config": {"hidden_size": 16},
          "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
          "num_attention_heads": 2, "image_size": 32, "patch_size": 16}})",
      "clip/config.json");
  models::MapSource source(prefixed);
  Model m = Model::from_source(clip::Config::from_json(json), source);
  EXPECT_EQ(m.weights().prefix, "vision_model.");
  EXPECT_EQ(m.weights().layers[1].fc1.name, "vision_model.encoder.layers.1.mlp.fc1.weight");
  const Tensor pixels = g.get("tiny3.pixels");
  EXPECT_TRUE(within(m.features(pixels), g.get("tiny3.hidden.2").slice(1, 1, 5), 1e-5, "prefixed layout features"));
  EXPECT_TRUE(within(m.pooled(pixels), g.get("tiny3.pooled"), 1e-5, "prefixed layout pooler_output"));

  // post_layernorm is optional: features work without it, the pooled output says what is missing.
  prefixed.erase("vision_model.post_layernorm.weight");
  prefixed.erase("vision_model.post_layernorm.bias");
  models::MapSource without_post(prefixed);
  Model no_post = Model::from_source(clip::Config::from_json(json), without_post);
  EXPECT_TRUE(within(no_post.features(pixels), g.get("tiny3.hidden.2").slice(1, 1, 5), 1e-5, "no post_layernorm"));
  expect_error([&] { no_post.pooled(pixels); }, {"[clip]", "post_layernorm"});
}

TEST(ClipConfig, TakesClipVisionConfigDefaultsForAbsentKeys) {
  // What re-saved openai/clip-vit-base-patch16 configs hold (specs/vision-encoders.md §B.1).
  clip::Config b16 = clip::Config::from_json(io::JsonConfig::parse(
      R"({"model_type": "clip", "projection_dim": 512, "text_config": {"dropout": 0.0},
          "vision_config": {"dropout": 0.0, "patch_size": 16}})",
      "b16/config.json"));
  EXPECT_EQ(b16.hidden_size, 768);
  EXPECT_EQ(b16.intermediate_size, 3072);
  EXPECT_EQ(b16.num_hidden_layers, 12);
  EXPECT_EQ(b16.num_attention_heads, 12);
  EXPECT_EQ(b16.head_dim(), 64);
  EXPECT_EQ(b16.image_size, 224);
  EXPECT_EQ(b16.patch_size, 16);
  EXPECT_EQ(b16.num_patches(), 196);
  EXPECT_EQ(b16.hidden_act, clip::Activation::QuickGelu);
  EXPECT_DOUBLE_EQ(b16.layer_norm_eps, 1e-5);
  EXPECT_EQ(b16.resolve_hidden_state(-2), 11);
  EXPECT_EQ(clip::count_parameters(b16), 85799424);  // sum of numel over CLIPVisionModel's parameters
  // A vision config with nothing set is ViT-B/32; so is a CLIPModel config without vision_config.
  for (const char* text : {R"({"model_type": "clip_vision_model"})", R"({"model_type": "clip"})"}) {
    clip::Config c = clip::Config::from_json(io::JsonConfig::parse(text, "default/config.json"));
    EXPECT_EQ(c.patch_size, 32);
    EXPECT_EQ(c.num_patches(), 49);
  }
}

TEST(ClipConfig, RejectsOtherModelsActivationsAndGeometries) {
  auto parse = [](const std::string& text) {
    return clip::Config::from_json(io::JsonConfig::parse(text, "bad/config.json"));
  };
  expect_error([&] { parse(R"({"model_type": "gemma3n_text"})"); },
               {"[clip]", "bad/config.json", "'gemma3n_text'", "not a CLIP vision tower"});
  expect_error([&] { parse(R"({"model_type": "clip", "vision_config": {"model_type": "siglip_vision_model"}})"); },
               {"[clip]", "'siglip_vision_model'"});
  expect_error([&] { parse(R"({"model_type": "clip_vision_model", "hidden_act": "gelu_new"})"); },
               {"[clip]", "hidden_act 'gelu_new'", "quick_gelu or gelu"});
  expect_error([&] { parse(R"({"model_type": "clip_vision_model", "hidden_size": 30, "num_attention_heads": 4})"); },
               {"[clip]", "hidden_size 30", "num_attention_heads 4"});
  expect_error([&] { parse(R"({"model_type": "clip_vision_model", "image_size": 8, "patch_size": 16})"); },
               {"[clip]", "image_size 8"});
  // A checkpoint folder of another model.
  expect_error([&] { Model::load(test_data_path("gemma3n/tiny")); }, {"[clip]", "'gemma3n", "not a CLIP"});
}

TEST(ClipLoad, NamesMissingAndMisshapedTensors) {
  const clip::Config c = tiny_config("tiny3");
  {
    std::map<std::string, Tensor> w = tiny_weights("tiny3");
    w.erase("encoder.layers.1.mlp.fc1.bias");
    models::MapSource source(w);
    expect_error([&] { Model::from_source(c, source); }, {"[clip]", "no tensor 'encoder.layers.1.mlp.fc1.bias'"});
  }
  {
    std::map<std::string, Tensor> w = tiny_weights("tiny3");
    w["encoder.layers.0.self_attn.q_proj.weight"] = zeros({32, 16});
    models::MapSource source(w);
    expect_error([&] { Model::from_source(c, source); },
                 {"[clip]", "'encoder.layers.0.self_attn.q_proj.weight'", "has shape [32,16], expected [32,32]"});
  }
  {
    // A checkpoint made for 16x16 images (5 positions) read with a config for 32x32 images.
    clip::Config bigger = c;
    bigger.image_size = 64;
    models::MapSource source(tiny_weights("tiny3"));
    expect_error([&] { Model::from_source(bigger, source); },
                 {"[clip]", "'embeddings.position_embedding.weight'", "expected [17,32]"});
  }
  {
    models::MapSource source({{"text_model.embeddings.token_embedding.weight", zeros({10, 16})}});
    expect_error([&] { Model::from_source(c, source); },
                 {"[clip]", "no CLIP vision tower", "'vision_model.embeddings.patch_embedding.weight'"});
  }
}

TEST_F(TinyClip, RejectsPixelsOfTheWrongSize) {
  expect_error(
      [&] {
        model_->features(zeros({2, 3, 64, 64}));
      },
      {"[clip]", "pixel values must be [B, 3, 32, 32]", "got f32[2,3,64,64]"});
  expect_error([&] { model_->features(zeros({2, 1, 32, 32})); }, {"[clip]", "[B, 3, 32, 32]"});
  expect_error([&] { model_->features(zeros({3, 32, 32})); }, {"[clip]", "[B, 3, 32, 32]"});
  expect_error([&] { model_->features(zeros({2, 3, 32, 32}, DType::U8)); }, {"[clip]", "floating"});
  // Other floating dtypes are converted, as transformers does.
  io::SafetensorsFile g = open_golden("clip/tiny_golden.safetensors");
  EXPECT_TRUE(within(model_->hidden_states(g.get("tiny3.pixels").to(DType::F64), 1), g.get("tiny3.hidden.1"), 1e-5,
                     "tiny3 f64 pixels into an f32 model"));
}

// openai/clip-vit-base-patch16's geometry with weights both sides generate from a seed.
TEST(ClipVitB16, SeededModelMatchesTransformers) {
  io::SafetensorsFile g = open_golden("clip/vitb16_golden.safetensors");
  const uint64_t seed = static_cast<uint64_t>(g.get("base_seed").to_vector<int64_t>()[0]);
  const clip::Config c = clip::Config::load(test_data_path("clip/vitb16"));
  ASSERT_EQ(c.num_patches(), 196);
  EXPECT_EQ(clip::count_parameters(c), g.get("param_count").to_vector<int64_t>()[0]);
  // The parameters of transformers 5.x's CLIPVisionModel, by name (as make_clip_goldens.py checks).
  std::map<std::string, Tensor> weights = testing::seeded_clip_weights(c, seed);
  models::MapSource source(std::move(weights));
  const Tensor pixels = testing::seeded_tensor("pixel_values", {2, 3, c.image_size, c.image_size}, "embedding", seed);
  std::printf("[ clip ] transformers fp32 vs float64: max |diff| %.3g\n", g.get("fp32_drift").item());

  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const bool f32 = dtype == DType::F32;
    clip::LoadOptions options;
    options.dtype = dtype;
    Model m = Model::from_source(c, source, options);
    NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    Tensor features = m.features(pixels);  // hidden_states[-2][:, 1:]
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ clip ] ViT-B/16 features of 2 frames in %s: %.2f s\n", dtype_name(dtype), seconds);
    ASSERT_EQ(features.shape(), Shape({2, 196, 768}));
    // The golden keeps every 4th patch token in full, and every token's norm. In f64 not to f64
    // rounding: transformers' eager attention takes the softmax in float32 even in a float64 model.
    const Tensor sampled = features.slice(1, 0, 196, 4);
    const std::string tag = dtype_name(dtype);
    EXPECT_TRUE(within(sampled, g.get("features"), f32 ? 1e-4 : 1e-5, "ViT-B/16 " + tag + " vs transformers f64"));
    if (f32) {
      EXPECT_TRUE(within(sampled, g.get("features_f32"), 1e-4, "ViT-B/16 f32 vs transformers fp32"));
    }
    const Tensor norms = sqrt(sum(square(features.to(DType::F64)), -1));  // [2, 196]
    EXPECT_TRUE(within(norms, g.get("token_norms"), f32 ? 1e-4 : 1e-5, "ViT-B/16 " + tag + " token norms"));
  }
}

}  // namespace
}  // namespace vg
