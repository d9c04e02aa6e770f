// The BERT encoder (src/models/bert/) against transformers' BertModel: every hidden state
// (output_hidden_states) of three padded sentences through the tiny random-weight model of
// tools/reference/make_bertscore_goldens.py (tests/data/eval/bert_tiny/, reference in float64),
// computed in f32 and f64; the "bert." prefix and gamma/beta names of older checkpoints; loading
// only the first layers; and the errors a user can cause.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "io/mapped_file.h"
#include "models/bert/bert_model.h"
#include "models/common/checkpoint_writer.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::test_data_path;

const std::string kTiny = test_data_path("eval/bert_tiny");

std::string temp_folder(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("vg_bert_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// max |a - b| over the real tokens of every hidden state (padding positions are not compared).
double max_difference(const std::vector<Tensor>& states, const Tensor& expected, const Tensor& mask) {
  const std::vector<int64_t> m = mask.to_vector<int64_t>();
  double worst = 0;
  for (size_t l = 0; l < states.size(); ++l) {
    const std::vector<double> a = states[l].to_vector<double>();
    const std::vector<double> e = expected.select(0, static_cast<int64_t>(l)).to_vector<double>();
    const size_t D = a.size() / m.size();
    for (size_t i = 0; i < a.size(); ++i)
      if (m[i / D] != 0) worst = std::max(worst, std::abs(a[i] - e[i]));
  }
  return worst;
}

TEST(Bert, ReadsTheConfigTransformersWrote) {
  const bert::Config c = bert::Config::load(kTiny);
  EXPECT_EQ(c.vocab_size, 320);
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_hidden_layers, 3);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_EQ(c.intermediate_size, 64);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.hidden_act, bert::Activation::Gelu);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
}

TEST(Bert, EveryHiddenStateMatchesTransformers) {
  const auto golden = io::load_safetensors(test_data_path("eval/bert_tiny_hidden.safetensors"));
  const Tensor& ids = golden.at("input_ids");
  const Tensor& mask = golden.at("attention_mask");
  const Tensor& expected = golden.at("hidden_states");  // [L + 1, B, T, D], float64
  ASSERT_EQ(expected.size(0), 4);
  for (const DType dtype : {DType::F32, DType::F64}) {
    const bert::Model model = bert::Model::load(kTiny, {dtype, -1});
    const std::vector<Tensor> states = model.hidden_states(ids, mask);
    ASSERT_EQ(states.size(), 4u);
    for (const Tensor& s : states) EXPECT_EQ(s.shape(), expected.select(0, 0).shape());
    const double worst = max_difference(states, expected, mask);
    std::printf("[ bert ] %s hidden states vs transformers (float64): max |diff| %.3g\n", dtype_name(dtype), worst);
    EXPECT_LT(worst, dtype == DType::F32 ? 5e-6 : 1e-10);
  }
}

TEST(Bert, PaddingDoesNotChangeTheRealTokens) {
  const auto golden = io::load_safetensors(test_data_path("eval/bert_tiny_hidden.safetensors"));
  const Tensor& ids = golden.at("input_ids");
  const Tensor& mask = golden.at("attention_mask");
  const bert::Model model = bert::Model::load(kTiny);
  const std::vector<Tensor> batched = model.hidden_states(ids, mask);
  // The first sentence alone, without padding.
  const std::vector<int64_t> m = mask.select(0, 0).to_vector<int64_t>();
  const int64_t T = std::count(m.begin(), m.end(), 1);
  const std::vector<Tensor> alone = model.hidden_states(ids.slice(0, 0, 1).slice(1, 0, T).contiguous());
  for (size_t l = 0; l < alone.size(); ++l) {
    EXPECT_ALL_CLOSE(alone[l], batched[l].slice(0, 0, 1).slice(1, 0, T), 1e-5, 1e-5);
  }
}

TEST(Bert, PrefixedCheckpointWithGammaBetaNames) {
  // BertForPreTraining files keep the encoder under "bert." next to the heads; old TensorFlow
  // conversions call LayerNorm parameters gamma and beta.
  std::map<std::string, Tensor> renamed;
  for (auto& [name, t] : io::load_safetensors(kTiny + "/model.safetensors")) {
    std::string n = "bert." + name;
    if (n.ends_with("LayerNorm.weight")) n.replace(n.size() - 6, 6, "gamma");
    if (n.ends_with("LayerNorm.bias")) n.replace(n.size() - 4, 4, "beta");
    renamed[n] = t;
  }
  renamed["cls.predictions.bias"] = zeros({320});
  const std::string folder = temp_folder("prefixed");
  models::write_checkpoint_folder(folder, io::read_text_file(kTiny + "/config.json"), renamed);
  const bert::Model prefixed = bert::Model::load(folder);
  EXPECT_EQ(prefixed.weights().prefix, "bert.");
  const bert::Model plain = bert::Model::load(kTiny);
  EXPECT_EQ(plain.weights().prefix, "");
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{2, 40, 41, 42, 3}, {1, 5});
  const auto a = prefixed.hidden_states(ids), b = plain.hidden_states(ids);
  for (size_t l = 0; l < a.size(); ++l) EXPECT_EQ(testing::max_abs_diff(a[l], b[l]), 0.0);
  fs::remove_all(folder);
}

TEST(Bert, LoadsOnlyTheLayersAskedFor) {
  const bert::Model full = bert::Model::load(kTiny);
  const bert::Model two = bert::Model::load(kTiny, {DType::F32, 2});
  EXPECT_EQ(two.num_loaded_layers(), 2);
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{2, 7, 8, 9, 3}, {1, 5});
  const auto a = full.hidden_states(ids), b = two.hidden_states(ids);
  ASSERT_EQ(b.size(), 3u);
  for (size_t l = 0; l < b.size(); ++l) EXPECT_EQ(testing::max_abs_diff(a[l], b[l]), 0.0);
  EXPECT_EQ(full.hidden_states(ids, Tensor(), 0).size(), 1u);  // the embeddings only
  expect_error([&] { two.hidden_states(ids, Tensor(), 3); }, {"[bert]", "hidden state 3", "2 of 3"});
  expect_error([&] { bert::Model::load(kTiny, {DType::F32, 4}); }, {"[bert]", "4 layers", "has 3"});
}

TEST(Bert, BadInputsAreClearErrors) {
  const bert::Model model = bert::Model::load(kTiny);
  const Tensor long_ids = zeros({1, 513}, DType::I64);
  expect_error([&] { model.hidden_states(long_ids); }, {"[bert]", "513 tokens", "512 positions"});
  expect_error([&] { model.hidden_states(zeros({1, 4}, DType::F32)); }, {"[bert]", "i64 or i32"});
  const Tensor ids = zeros({2, 4}, DType::I64);
  expect_error([&] { model.hidden_states(ids, ones({2, 5}, DType::I64)); }, {"[bert]", "attention_mask"});
  expect_error(
      [&] {
        model.hidden_states(Tensor::from_vector(std::vector<int64_t>{2, 320}, {1, 2}));
      },
      {"320"});  // outside the vocabulary: the embedding lookup refuses it
}

TEST(Bert, BadFoldersAreClearErrors) {
  expect_error([] { bert::Model::load("/nonexistent/bert"); }, {"[bert]", "/nonexistent/bert", "no such folder"});
  const std::string empty = temp_folder("empty");
  expect_error([&] { bert::Model::load(empty); }, {"[bert]", "config.json", "no such file"});

  const std::string no_weights = temp_folder("no_weights");
  fs::copy_file(kTiny + "/config.json", no_weights + "/config.json");
  expect_error([&] { bert::Model::load(no_weights); }, {"[bert]", no_weights, "cannot read the weights"});

  const std::string roberta = temp_folder("roberta");
  std::ofstream(roberta + "/config.json") << R"({"model_type": "roberta", "hidden_size": 32})";
  expect_error([&] { bert::Model::load(roberta); }, {"[bert]", "config.json", "'roberta'", "only BERT"});

  const std::string broken = temp_folder("broken");
  std::ofstream(broken + "/config.json") << R"({"model_type": "bert", "hidden_size": )";
  expect_error([&] { bert::Model::load(broken); }, {"[bert]", "config.json"});

  const std::string odd = temp_folder("odd_heads");
  std::ofstream(odd + "/config.json") << R"({"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4})";
  expect_error([&] { bert::Model::load(odd); }, {"[bert]", "config.json", "multiple of num_attention_heads"});

  // A config that does not match the weights: the tensor, both shapes and the file are named.
  const std::string mismatch = temp_folder("mismatch");
  std::string config = io::read_text_file(kTiny + "/config.json");
  config.replace(config.find("\"vocab_size\": 320"), 17, "\"vocab_size\": 321");
  std::ofstream(mismatch + "/config.json") << config;
  fs::copy_file(kTiny + "/model.safetensors", mismatch + "/model.safetensors");
  expect_error([&] { bert::Model::load(mismatch); }, {"[bert]", "word_embeddings", "[320,32]", "[321,32]"});
  for (const std::string& f : {empty, no_weights, roberta, broken, odd, mismatch}) fs::remove_all(f);
}

}  // namespace
}  // namespace vg
