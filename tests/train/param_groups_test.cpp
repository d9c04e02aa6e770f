// Weight-decay groups against transformers' Trainer.get_decay_parameter_names (recorded in
// tests/data/train/reference.json) on the tiny Gemma 3n, the same wrapped by PEFT, and a
// projector/CLIP-like module; and the design's LoRA/projector groups.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "io/mapped_file.h"
#include "ops/ops.h"
#include "support/tensor_testing.h"
#include "train/param_groups.h"

namespace vg::train {
namespace {

TEST(ParamGroups, DecayRuleEqualsTransformersByName) {
  const nlohmann::json rows =
      nlohmann::json::parse(io::read_text_file(testing::test_data_path("train/reference.json"))).at("decay_names");
  for (const char* tag : {"tiny", "tiny_peft", "projector_clip"}) {
    SCOPED_TRACE(tag);
    const nlohmann::json& row = rows.at(tag);
    const std::set<std::string> decay = row.at("decay");
    // transformers also exempts nn.LayerNorm modules by type, which names cannot show: CLIP's
    // misspelt "pre_layrnorm" and its "layer_norm1" / "layer_norm2" weights escape the name rule
    // (their biases are caught by "bias").
    std::set<std::string> by_type, escaped;
    if (row.contains("layernorm_typed")) by_type = row.at("layernorm_typed").get<std::set<std::string>>();
    int checked = 0;
    for (const auto& entry : row.at("names")) {
      const std::string name = entry.get<std::string>();
      if (by_type.count(name) != 0 && takes_weight_decay(name)) {
        escaped.insert(name);
        continue;
      }
      EXPECT_EQ(takes_weight_decay(name), decay.count(name) != 0) << name;
      ++checked;
    }
    if (!by_type.empty()) {
      EXPECT_EQ(escaped,
                (std::set<std::string>{"vision_tower.layer_norm1.weight", "vision_tower.pre_layrnorm.weight"}));
    }
    EXPECT_GT(checked, 20);
  }
}

TEST(ParamGroups, FamiliesSplitIntoDecayAndNoDecayGroups) {
  auto param = [](const char* name) { return NamedParameter{name, ones({2}).set_requires_grad(true)}; };
  const std::vector<NamedParameter> lora = {param("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"),
                                            param("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")};
  const std::vector<NamedParameter> projector = {param("mm_projector.mlp.0.weight"), param("mm_projector.mlp.0.bias"),
                                                 param("vision_tower.pre_layrnorm.weight")};
  GroupOptions options;
  options.weight_decay = 0.01;
  options.no_decay_names = {"vision_tower.pre_layrnorm.weight"};
  const std::vector<ParamGroup> groups = lora_and_projector_groups(lora, 2e-4, projector, 1e-4, options);
  ASSERT_EQ(groups.size(), 3u);  // LoRA has nothing without decay: that group is left out
  EXPECT_EQ(groups[0].label, "lora");
  EXPECT_EQ(groups[0].params.size(), 2u);
  EXPECT_EQ(groups[0].lr, 2e-4);
  EXPECT_EQ(groups[0].weight_decay, 0.01);
  EXPECT_EQ(groups[1].label, "projector");
  EXPECT_EQ(groups[1].params.size(), 1u);
  EXPECT_EQ(groups[2].label, "projector, no decay");
  EXPECT_EQ(groups[2].lr, 1e-4);
  EXPECT_EQ(groups[2].weight_decay, 0.0);
  EXPECT_EQ(groups[2].params.size(), 2u);
  testing::expect_error([&] { lora_and_projector_groups(lora, 2e-4, lora, 1e-4); },
                        {"[train]", "more than one family"});
}

}  // namespace
}  // namespace vg::train
