// Merging LoRA into the base weights: the merged model computes what the model with its adapter
// computes; `videogemma merge`'s folder loads in our loader and in transformers with the same
// logits (transformers' recorded in tests/data/train/peft_golden.safetensors from the folder this
// test writes, see tools/reference/make_train_goldens.py --merged); PEFT's merge_and_unload gives
// the same weights.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/mapped_file.h"
#include "support/cli_runner.h"
#include "train/merge.h"
#include "train/train_fixtures.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using fixtures::TempDir;
using testing::expect_error;
using testing::test_data_path;

TEST(Merge, WeightIsBasePlusScaledProduct) {
  models::LoraAdapter a;
  a.a = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});  // [r 2, in 3]
  a.b = Tensor::from_vector(std::vector<float>{1, 0, 0, 1}, {2, 2});        // [out 2, r 2]
  a.scale = 0.5;
  const Tensor w = ones({2, 3});
  EXPECT_EQ(merge_weight(w, a, DType::F32).to_vector<float>(), std::vector<float>({1.5, 2, 2.5, 3, 3.5, 4}));
  // bf16: one rounding of the f32 sum (PEFT adds an f32 delta into the bf16 weight).
  const Tensor w16 = full({2, 3}, 1.0 / 3.0, DType::BF16);
  const Tensor expected = add(w16.to(DType::F32), mul(matmul(a.b, a.a), 0.5)).to(DType::BF16);
  EXPECT_EQ(testing::max_abs_diff(merge_weight(w16, a, DType::BF16).to(DType::F32), expected.to(DType::F32)), 0.0);
  expect_error([&] { merge_weight(ones({3, 3}), a, DType::F32); }, {"[lora]", "cannot merge"});
}

TEST(Merge, MergedModelComputesWhatTheAdapterDid) {
  io::SafetensorsFile g = testing::open_golden("train/peft_golden.safetensors");
  const Tensor ids = g.get("ids");
  gemma3n::Model model = gemma3n::Model::load(test_data_path("gemma3n/tiny"));
  models::LoraSet lora = load_peft_adapter(test_data_path("train/peft_ours"), model);
  const Tensor with_adapter = fixtures::logits_of(model, ids, &lora);
  merge_into_model(model, lora);
  const Tensor merged = fixtures::logits_of(model, ids, nullptr);
  EXPECT_LE(testing::max_abs_diff(merged, with_adapter), 1e-4);
  // PEFT's merge_and_unload of the same adapter gives the same weights.
  for (const char* name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.9.mlp.down_proj.weight"}) {
    const models::Linear* layer = nullptr;
    for (const models::Linear* l : model_linear_layers(model)) layer = l->name == name ? l : layer;
    ASSERT_NE(layer, nullptr);
    EXPECT_LE(testing::relative_error(layer->weight, g.get(std::string("peft_merged.") + name)), 1e-6) << name;
  }
}

class MergeCheckpoint : public ::testing::Test {
 protected:
  TempDir tmp_{"merge"};
};

TEST_F(MergeCheckpoint, FolderLoadsWithTheLogitsOfBaseAndAdapter) {
  const std::string out = tmp_.path("merged");
  MergeSummary s = merge_checkpoint(test_data_path("gemma3n/tiny"), test_data_path("train/peft_ours"), out);
  EXPECT_EQ(s.merged_weights, 62);
  EXPECT_EQ(s.files, 1);
  EXPECT_TRUE(io::file_exists(out + "/model.safetensors"));
  EXPECT_EQ(io::read_text_file(out + "/config.json"), io::read_text_file(test_data_path("gemma3n/tiny/config.json")));
  EXPECT_TRUE(io::file_exists(out + "/generation_config.json"));

  io::SafetensorsFile g = testing::open_golden("train/peft_golden.safetensors");
  const Tensor ids = g.get("ids");
  gemma3n::Model merged = gemma3n::Model::load(out);
  const Tensor ours = fixtures::logits_of(merged, ids, nullptr);
  // transformers loading this folder (the device run merged the same way) and PEFT's own model.
  EXPECT_LE(testing::max_abs_diff(ours, g.get("merged.logits")), 1e-4);
  EXPECT_LE(testing::max_abs_diff(ours, g.get("ours.logits")), 1e-4);
  // Weights the adapter does not touch are copied bit for bit.
  io::Checkpoint base = io::Checkpoint::open(test_data_path("gemma3n/tiny"));
  io::Checkpoint written = io::Checkpoint::open(out);
  EXPECT_EQ(written.names(), base.names());
  EXPECT_EQ(testing::max_abs_diff(written.get("model.layers.3.laurel.linear_left.weight"),
                                  base.get("model.layers.3.laurel.linear_left.weight")),
            0.0);
  EXPECT_GT(testing::max_abs_diff(written.get("model.layers.3.mlp.up_proj.weight"),
                                  base.get("model.layers.3.mlp.up_proj.weight")),
            0.0);
}

TEST_F(MergeCheckpoint, ShardsLikeTransformersAndConvertsTheDtype) {
  MergeOptions options;
  options.max_shard_bytes = 600'000;  // the tiny model's 2 MB in four or so files
  options.dtype = DType::BF16;
  const std::string out = tmp_.path("sharded");
  MergeSummary s = merge_checkpoint(test_data_path("gemma3n/tiny"), test_data_path("train/peft_ours"), out, options);
  EXPECT_GT(s.files, 1);
  EXPECT_TRUE(io::file_exists(out + "/model-00001-of-0000" + std::to_string(s.files) + ".safetensors"));
  const nlohmann::json index = nlohmann::json::parse(io::read_text_file(out + "/model.safetensors.index.json"));
  EXPECT_EQ(index.at("metadata").at("total_size").get<int64_t>(), s.bytes);
  EXPECT_EQ(index.at("weight_map").size(), static_cast<size_t>(s.tensors));
  EXPECT_EQ(nlohmann::json::parse(io::read_text_file(out + "/config.json")).at("dtype"), "bfloat16");

  io::Checkpoint written = io::Checkpoint::open(out);
  EXPECT_EQ(written.num_files(), static_cast<size_t>(s.files));
  const std::string q = "model.layers.2.self_attn.q_proj.weight";
  EXPECT_EQ(written.info(q).dtype, DType::BF16);
  // The bf16 weight is the f32 merge rounded once.
  const std::string f32_out = tmp_.path("f32");
  merge_checkpoint(test_data_path("gemma3n/tiny"), test_data_path("train/peft_ours"), f32_out);
  const Tensor f32 = io::Checkpoint::open(f32_out).get(q);
  EXPECT_EQ(testing::max_abs_diff(written.get(q).to(DType::F32), f32.to(DType::BF16).to(DType::F32)), 0.0);
  // The model runs from the shards, and transformers, loading the folder the device run wrote the
  // same way (videogemma merge --dtype bf16 --max-shard-size 0.0006), computes the same logits.
  gemma3n::Model model = gemma3n::Model::load(out);
  io::SafetensorsFile g = testing::open_golden("train/peft_golden.safetensors");
  EXPECT_LE(testing::max_abs_diff(fixtures::logits_of(model, g.get("ids"), nullptr), g.get("merged_sharded_bf16.logits")),
            1e-4);
}

TEST_F(MergeCheckpoint, RefusesBadInputsWithoutLeavingAFolder) {
  fs::create_directories(tmp_.path("full"));
  { std::ofstream(tmp_.path("full/x")) << "x"; }
  expect_error([&] {
    merge_checkpoint(test_data_path("gemma3n/tiny"), test_data_path("train/peft_ours"), tmp_.path("full"));
  }, {"[lora]", "already exists and is not empty"});
  expect_error([&] { merge_checkpoint(tmp_.path("nope"), test_data_path("train/peft_ours"), tmp_.path("o")); },
               {"[lora]", "is not a folder"});
  expect_error([&] { merge_checkpoint(test_data_path("gemma3n/tiny"), tmp_.path("nope"), tmp_.path("o")); },
               {"[lora]", "does not exist"});
  // An adapter for another model: the checkpoint lacks its layers or has other shapes.
  fs::create_directories(tmp_.path("other"));
  fs::copy_file(test_data_path("gemma3n/tiny/config.json"), tmp_.path("other/config.json"));
  io::save_safetensors(tmp_.path("other/model.safetensors"), {{"model.layers.0.self_attn.q_proj.weight", zeros({32, 64})}});
  expect_error([&] { merge_checkpoint(tmp_.path("other"), test_data_path("train/peft_ours"), tmp_.path("o")); },
               {"[lora]", "the checkpoint", "does not have"});
  EXPECT_FALSE(fs::exists(tmp_.path("o")));
  for (const auto& e : fs::directory_iterator(tmp_.path())) {
    EXPECT_NE(e.path().filename().string()[0], '.') << "temporary folder left: " << e.path();
  }
}

// The command as a user runs it (skipped when this build has no videogemma binary).
TEST_F(MergeCheckpoint, CommandWritesTheFolder) {
  if (!fs::exists(std::string(VG_BINARY_DIR) + "/videogemma")) GTEST_SKIP() << "no videogemma binary";
  const std::string out = tmp_.path("cli");
  testing::CliRun run = testing::run_cli("merge --model " + test_data_path("gemma3n/tiny") + " --adapter " +
                                         test_data_path("train/peft_ours") + " --out " + out + " --json");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(testing::last_json(run).at("merged_weights"), 62);
  EXPECT_TRUE(io::file_exists(out + "/model.safetensors"));
  run = testing::run_cli("merge --model " + test_data_path("gemma3n/tiny") + " --adapter " + tmp_.path("none") +
                         " --out " + tmp_.path("cli2"));
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("error: [lora]"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace vg::train
