// Loading Gemma 3n checkpoints: both checkpoint layouts, parameter counts of the real E2B
// geometry, and clear errors for wrong checkpoints and configs.
#include <gtest/gtest.h>

#include <filesystem>

#include "models/gemma3n/decoder_layer.h"
#include "models/gemma3n/model.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::test_data_path;

std::map<std::string, Tensor> tiny_weights() {
  return io::load_safetensors(test_data_path("gemma3n/tiny/model.safetensors"));
}

gemma3n::Config tiny_config() { return gemma3n::Config::load(test_data_path("gemma3n/tiny")); }

std::string temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("vg_gemma3n_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST(Gemma3nLoad, CountsTheE2BParametersOfTheSpec) {
  // The published E2B text config (specs/gemma3n.md §1.1).
  std::string layer_types = "[", widths = "[", sparsity = "[";
  for (int i = 0; i < 30; ++i) {
    layer_types += std::string(i ? "," : "") + ((i + 1) % 5 == 0 ? "\"full_attention\"" : "\"sliding_attention\"");
    widths += std::string(i ? "," : "") + "8192";
    sparsity += std::string(i ? "," : "") + (i < 10 ? "0.95" : "0.0");
  }
  layer_types += "]";
  widths += "]";
  sparsity += "]";
  io::JsonConfig json = io::JsonConfig::parse(
      R"({"model_type": "gemma3n", "text_config": {"model_type": "gemma3n_text", "num_hidden_layers": 30,
          "intermediate_size": )" +
          widths + R"(, "layer_types": )" + layer_types + R"(, "activation_sparsity_pattern": )" + sparsity +
          R"(, "num_kv_shared_layers": 10,
          "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "eos_token_id": [1, 106]}})",
      "e2b/config.json");
  gemma3n::Config c = gemma3n::Config::from_json(json);
  EXPECT_EQ(c.weight_prefix, "model.language_model.");
  EXPECT_EQ(c.first_kv_shared_layer(), 20);
  EXPECT_EQ(c.kv_source(24), 19);
  EXPECT_EQ(c.kv_source(25), 18);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 106}));
  gemma3n::ParameterCounts counts = gemma3n::count_parameters(c);
  EXPECT_EQ(counts.total, 4456156768);
  EXPECT_EQ(counts.effective, 1905495648);
  // transformers' fp32 Normal(0, 1).icdf(0.95), the Gaussian top-k multiplier.
  EXPECT_NEAR(gemma3n::sparsity_std_multiplier(0.95), 1.6448535919189453, 0.0);
}

TEST(Gemma3nLoad, SlicingE4BToTheOfficialE2BLayoutGivesE2B) {
  // The published "Config for official E2B Model": FFN 2048*4 in 30 layers, layers 20-24 skipped.
  std::string layer_types = "[", sparsity = "[";
  for (int i = 0; i < 35; ++i) {
    layer_types += std::string(i ? "," : "") + ((i + 1) % 5 == 0 ? "\"full_attention\"" : "\"sliding_attention\"");
    sparsity += std::string(i ? "," : "") + (i < 10 ? "0.95" : "0.0");
  }
  layer_types += "]";
  sparsity += "]";
  gemma3n::Config e4b = gemma3n::Config::from_json(io::JsonConfig::parse(
      R"({"model_type": "gemma3n_text", "num_hidden_layers": 35, "intermediate_size": 16384,
          "num_kv_shared_layers": 15, "layer_types": )" +
          layer_types + R"(, "activation_sparsity_pattern": )" + sparsity + "}",
      "e4b/config.json"));
  EXPECT_EQ(gemma3n::count_parameters(e4b).total, 6866696688);  // specs/gemma3n.md §2
  EXPECT_EQ(gemma3n::count_parameters(e4b).effective, 3980491248);
  gemma3n::MatformerSlice slice{std::vector<int64_t>(30, gemma3n::parse_width_list("2_048 * 4")[0]),
                                gemma3n::parse_index_list("[20, 21, 22, 23, 24]")};
  gemma3n::SlicedConfig e2b = gemma3n::apply_slice(e4b, slice);
  EXPECT_EQ(e2b.config.num_hidden_layers, 30);
  EXPECT_EQ(e2b.config.num_kv_shared_layers, 10);
  EXPECT_EQ(e2b.config.kv_source(24), 19);
  EXPECT_EQ(e2b.kept_layers[20], 25);
  EXPECT_EQ(gemma3n::count_parameters(e2b.config).total, 4456156768);
  EXPECT_EQ(gemma3n::count_parameters(e2b.config).effective, 1905495648);
}

TEST(Gemma3nLoad, InputsEmbedsEntryEqualsTheIdsPath) {
  NoGradGuard no_grad;
  gemma3n::Model m = gemma3n::Model::load(test_data_path("gemma3n/tiny"));
  Tensor ids = Tensor::from_vector<int64_t>({2, 7, 9, 400, 31}, {1, 5});
  gemma3n::ForwardArgs by_ids;
  by_ids.ids = ids;
  gemma3n::ForwardArgs by_embeds;
  by_embeds.embeds = m.embed(ids);
  by_embeds.ple_ids = ids;
  EXPECT_ALL_CLOSE(m.forward(by_embeds), m.forward(by_ids), 0, 0);
  // Without per-layer ids the token part of the per-layer input is left out, as in transformers.
  gemma3n::ForwardArgs no_ple;
  no_ple.embeds = m.embed(ids);
  EXPECT_FALSE(testing::all_close(m.forward(no_ple), m.forward(by_ids), 1e-3, 1e-3));
}

TEST(Gemma3nLoad, ReadsTheMultimodalCheckpointLayout) {
  // The same weights under model.language_model.* with the text config nested, as the released
  // Gemma3nForConditionalGeneration checkpoints store them.
  const std::string dir = temp_dir("multimodal");
  std::map<std::string, Tensor> renamed;
  for (auto& [name, t] : tiny_weights()) {
    if (name.rfind("model.", 0) == 0) renamed["model.language_model." + name.substr(6)] = t;
  }
  renamed["model.vision_tower.timm_model.conv_stem.weight"] = zeros({2, 2});  // other towers are ignored
  io::save_safetensors(dir + "/model.safetensors", renamed);
  const std::string text_config = io::read_text_file(test_data_path("gemma3n/tiny/config.json"));
  io::write_file_atomically(dir + "/config.json", R"({"model_type": "gemma3n", "text_config": )" + text_config + "}");
  gemma3n::Model a = gemma3n::Model::load(dir);
  gemma3n::Model b = gemma3n::Model::load(test_data_path("gemma3n/tiny"));
  gemma3n::ForwardArgs args;
  args.ids = Tensor::from_vector<int64_t>({2, 7, 9, 400}, {1, 4});
  NoGradGuard no_grad;
  EXPECT_ALL_CLOSE(a.logits(a.forward(args)), b.logits(b.forward(args)), 0, 0);
}

TEST(Gemma3nLoad, NamesMissingAndMisshapedTensors) {
  const gemma3n::Config c = tiny_config();
  std::map<std::string, Tensor> w = tiny_weights();
  w.erase("model.layers.3.mlp.up_proj.weight");
  expect_error([&] { gemma3n::Model::from_source(c, models::MapSource(w)); },
               {"[gemma3n]", "has no tensor 'model.layers.3.mlp.up_proj.weight'"});
  w = tiny_weights();
  w["model.layers.2.self_attn.q_proj.weight"] = zeros({64, 65});
  expect_error([&] { gemma3n::Model::from_source(c, models::MapSource(w)); },
               {"[gemma3n]", "'model.layers.2.self_attn.q_proj.weight'", "[64,65]", "expected [64,64]"});
  w = tiny_weights();
  w["model.norm.weight"] = zeros({64}, DType::I64);
  expect_error([&] { gemma3n::Model::from_source(c, models::MapSource(w)); }, {"[gemma3n]", "floating"});
}

TEST(Gemma3nLoad, RejectsConfigsOfOtherModels) {
  expect_error([] { gemma3n::Config::from_json(io::JsonConfig::parse(R"({"model_type": "llama"})", "c.json")); },
               {"[gemma3n]", "'llama'"});
  expect_error(
      [] {
        gemma3n::Config::from_json(io::JsonConfig::parse(
            R"({"model_type": "gemma3n_text", "num_hidden_layers": 4, "intermediate_size": 8,
                "activation_sparsity_pattern": [0, 0, 0, 0], "num_kv_shared_layers": 1,
                "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention", "full_attention"]})",
            "c.json"));
      },
      {"[gemma3n]", "layer 3 shares K/V"});
  expect_error(
      [] {
        gemma3n::Config::from_json(io::JsonConfig::parse(
            R"({"model_type": "gemma3n_text", "num_hidden_layers": 2, "intermediate_size": [8, 8, 8],
                "activation_sparsity_pattern": [0, 0], "num_kv_shared_layers": 0})",
            "c.json"));
      },
      {"[gemma3n]", "intermediate_size has 3 entries for 2 layers"});
  expect_error(
      [] {
        gemma3n::Config::from_json(io::JsonConfig::parse(
            R"({"model_type": "gemma3n_text", "num_hidden_layers": 12, "hidden_activation": "relu"})", "c.json"));
      },
      {"[gemma3n]", "relu"});
  expect_error([] { gemma3n::Model::load("/no/such/checkpoint"); }, {"does not exist"});
}

}  // namespace
}  // namespace vg
