// PEFT adapter folders: ours load in PEFT with the same logits (goldens recorded by PEFT on the
// GPU machine, tools/reference/make_train_goldens.py), PEFT's own folder loads in ours with the
// same tensors and logits, our config file has PEFT's keys and format, and bad folders fail
// with "[lora] ..." errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "train/train_fixtures.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using fixtures::TempDir;
using fixtures::tiny_model;
using testing::expect_error;
using testing::test_data_path;

std::string file_bytes(const std::string& path) { return io::read_text_file(path); }

// max |a - b|, for logits compared in absolute terms.
double max_diff(const Tensor& a, const Tensor& b) { return testing::max_abs_diff(a, b); }

void copy_folder(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) fs::copy_file(e.path(), fs::path(to) / e.path().filename());
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The committed fixtures are what our writer produces from their seeds. With
// VG_UPDATE_TRAIN_FIXTURES=1 this test rewrites them (then rerun the PEFT goldens).
TEST(PeftAdapter, CommittedFixturesAreWhatTheWriterProduces) {
  const bool update = std::getenv("VG_UPDATE_TRAIN_FIXTURES") != nullptr;
  struct Case {
    const char* folder;
    fixtures::FixtureAdapter adapter;
  };
  Case cases[] = {{"train/peft_ours", fixtures::default_adapter()},
                  {"train/peft_ours_rslora", fixtures::rslora_adapter()}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.folder);
    TempDir tmp("fixture");
    const std::string fresh = tmp.path("adapter");
    write_peft_adapter(fresh, c.adapter.set, c.adapter.config);
    const std::string committed = test_data_path(c.folder);
    if (update) {
      fs::remove_all(committed);
      copy_folder(fresh, committed);
    }
    for (const char* file : {"adapter_config.json", "adapter_model.safetensors"}) {
      EXPECT_EQ(file_bytes(fs::path(fresh) / file), file_bytes(fs::path(committed) / file)) << file;
    }
  }
}

TEST(PeftAdapter, WritesPeftKeysShapesAndMetadata) {
  const fixtures::FixtureAdapter f = fixtures::default_adapter();
  io::SafetensorsFile st = io::SafetensorsFile::open(test_data_path("train/peft_ours/adapter_model.safetensors"));
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_EQ(st.tensors().size(), 2 * f.set.adapters().size());
  const Tensor a = st.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  const Tensor b = st.get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
  EXPECT_EQ(a.shape(), Shape({4, 64}));
  EXPECT_EQ(b.shape(), Shape({64, 4}));
  // KV-consumer layers (6..9 of the tiny model) have no k/v projections, so no adapters.
  EXPECT_TRUE(st.contains("base_model.model.model.layers.5.self_attn.k_proj.lora_A.weight"));
  EXPECT_FALSE(st.contains("base_model.model.model.layers.6.self_attn.k_proj.lora_A.weight"));
  EXPECT_TRUE(st.contains("base_model.model.model.layers.6.self_attn.q_proj.lora_B.weight"));
}

// Our adapter_config.json has exactly the keys PEFT's own save_pretrained wrote for the same
// kind of adapter, with the same values where the adapters agree, in PEFT's format.
TEST(PeftAdapter, ConfigHasPeftsKeysValuesAndFormat) {
  using nlohmann::json;
  const json theirs = json::parse(file_bytes(test_data_path("train/peft_theirs/adapter_config.json")));
  const json ours = json::parse(file_bytes(test_data_path("train/peft_ours/adapter_config.json")));
  std::vector<std::string> their_keys, our_keys;
  for (const auto& [k, v] : theirs.items()) their_keys.push_back(k);
  for (const auto& [k, v] : ours.items()) our_keys.push_back(k);
  // peft_version names the PEFT release that wrote the file; we are not PEFT and leave it out.
  std::erase(their_keys, "peft_version");
  EXPECT_EQ(our_keys, their_keys);
  for (const auto& [k, v] : theirs.items()) {
    if (k == "target_modules" || k == "base_model_name_or_path" || k == "peft_version") continue;
    EXPECT_EQ(ours.value(k, json()), v) << k;
  }
  std::vector<std::string> their_targets = theirs.at("target_modules").get<std::vector<std::string>>();
  std::sort(their_targets.begin(), their_targets.end());
  std::vector<std::string> our_targets = ours.at("target_modules").get<std::vector<std::string>>();
  std::sort(our_targets.begin(), our_targets.end());
  EXPECT_EQ(our_targets, their_targets);

  // Byte for byte, given PEFT's (set-ordered) target order and base path, less its peft_version line.
  PeftAdapter their_adapter = read_peft_adapter(test_data_path("train/peft_theirs"));
  std::string their_text = file_bytes(test_data_path("train/peft_theirs/adapter_config.json"));
  const std::string version_line = "  \"peft_version\": " + theirs.at("peft_version").dump() + ",\n";
  ASSERT_NE(their_text.find(version_line), std::string::npos);
  their_text.erase(their_text.find(version_line), version_line.size());
  EXPECT_EQ(peft_config_json(their_adapter.config), their_text);
}

TEST(PeftAdapter, PeftLogitsWithOurAdapterEqualOurs) {
  io::SafetensorsFile g = testing::open_golden("train/peft_golden.safetensors");
  const Tensor ids = g.get("ids");
  gemma3n::Model& model = tiny_model();
  // Without an adapter both agree as the Gemma 3n parity tests say; the adapters must keep that.
  const double base = max_diff(fixtures::logits_of(model, ids, nullptr), g.get("base.logits"));
  for (const char* name : {"ours", "ours_rslora"}) {
    SCOPED_TRACE(name);
    const std::string folder = std::string("train/peft_") + name;
    models::LoraSet lora = load_peft_adapter(test_data_path(folder), model);
    const Tensor logits = fixtures::logits_of(model, ids, &lora);
    const Tensor expected = g.get(std::string(name) + ".logits");
    EXPECT_LE(max_diff(logits, expected), 1e-4) << "(without adapter the difference is " << base << ")";
    // The adapter really changes the output.
    EXPECT_GT(max_diff(expected, g.get("base.logits")), 1e-2);
  }
}

TEST(PeftAdapter, PeftsOwnAdapterLoadsWithIdenticalTensorsAndLogits) {
  const std::string dir = test_data_path("train/peft_theirs");
  PeftAdapter adapter = read_peft_adapter(dir);
  io::SafetensorsFile st = io::SafetensorsFile::open(dir + "/adapter_model.safetensors");
  EXPECT_EQ(st.tensors().size(), 2 * adapter.adapters.size());
  EXPECT_EQ(adapter.adapters.size(), fixtures::default_adapter().set.adapters().size());  // the same module set
  for (const auto& [weight, a] : adapter.adapters) {
    EXPECT_TRUE(max_diff(a.a, st.get(peft_lora_key(weight, false))) == 0) << weight;
    EXPECT_TRUE(max_diff(a.b, st.get(peft_lora_key(weight, true))) == 0) << weight;
    EXPECT_DOUBLE_EQ(a.scale, 2.0);
  }
  io::SafetensorsFile g = testing::open_golden("train/peft_golden.safetensors");
  models::LoraSet lora = load_peft_adapter(dir, tiny_model());
  EXPECT_LE(max_diff(fixtures::logits_of(tiny_model(), g.get("ids"), &lora), g.get("theirs.logits")), 1e-4);
}

TEST(PeftAdapter, RoundTripKeepsTensorsAndScales) {
  const fixtures::FixtureAdapter f = fixtures::rslora_adapter();
  TempDir tmp("roundtrip");
  write_peft_adapter(tmp.path("a"), f.set, f.config);
  PeftAdapter back = read_peft_adapter(tmp.path("a"));
  ASSERT_EQ(back.adapters.size(), f.set.adapters().size());
  for (const auto& [name, a] : f.set.adapters()) {
    const models::LoraAdapter& b = back.adapters.at(name);
    EXPECT_TRUE(max_diff(a.a, b.a) == 0 && max_diff(a.b, b.b) == 0) << name;
    EXPECT_DOUBLE_EQ(a.scale, b.scale) << name;
  }
  // rsLoRA: alpha / sqrt(r); the o_proj alpha comes from alpha_pattern.
  EXPECT_DOUBLE_EQ(back.adapters.at("model.layers.0.self_attn.q_proj.weight").scale, 8.0 / 2.0);
  EXPECT_DOUBLE_EQ(back.adapters.at("model.layers.0.self_attn.o_proj.weight").scale, 16.0 / 2.0);
  EXPECT_TRUE(back.config.use_rslora);
}

TEST(PeftAdapter, RewritingAFolderReplacesItWhole) {
  TempDir tmp("rewrite");
  const std::string dir = tmp.path("adapter");
  const fixtures::FixtureAdapter first = fixtures::default_adapter();
  const fixtures::FixtureAdapter second = fixtures::rslora_adapter();
  write_peft_adapter(dir, first.set, first.config);
  write_peft_adapter(dir, second.set, second.config);
  EXPECT_EQ(read_peft_adapter(dir).adapters.size(), second.set.adapters().size());
  // A write that fails its checks leaves the old adapter as it was.
  PeftLoraConfig wrong = first.config;
  wrong.r = 8;
  expect_error([&] { write_peft_adapter(dir, first.set, wrong); }, {"[lora]", "rank 4", "r = 8"});
  EXPECT_EQ(read_peft_adapter(dir).adapters.size(), second.set.adapters().size());
  // No temporary folders are left beside it.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) entries += e.path().filename().string()[0] == '.' ? 1 : 0;
  EXPECT_EQ(entries, 0u);
}

// A folder whose config was removed (a write that stopped half way) is not read as an adapter.
TEST(PeftAdapter, HalfWrittenFolderIsRejected) {
  TempDir tmp("half");
  copy_folder(test_data_path("train/peft_ours"), tmp.path("a"));
  fs::remove(tmp.path("a/adapter_config.json"));
  expect_error([&] { read_peft_adapter(tmp.path("a")); }, {"[lora]", "adapter_config.json is missing"});
}

class BadAdapter : public ::testing::Test {
 protected:
  void SetUp() override { copy_folder(test_data_path("train/peft_ours"), dir()); }
  std::string dir() const { return tmp_.path("a"); }
  std::string config() const { return dir() + "/adapter_config.json"; }
  std::string weights() const { return dir() + "/adapter_model.safetensors"; }
  void edit_config(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json c = nlohmann::json::parse(file_bytes(config()));
    edit(c);
    write_text(config(), c.dump(2));
  }
  void edit_weights(const std::function<void(std::map<std::string, Tensor>&)>& edit) {
    std::map<std::string, Tensor> t;
    {
      io::SafetensorsFile f = io::SafetensorsFile::open(weights());
      for (const auto& info : f.tensors()) t[info.name] = f.get(info.name).clone();
    }
    edit(t);
    io::save_safetensors(weights(), t, {{"format", "pt"}});
  }
  TempDir tmp_{"bad"};
};

TEST_F(BadAdapter, MissingFolderOrFiles) {
  expect_error([&] { read_peft_adapter(dir() + "/nope"); }, {"[lora]", "does not exist"});
  expect_error([&] { read_peft_adapter(config()); }, {"[lora]", "is not a folder"});
  fs::remove(weights());
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "adapter_model.safetensors is missing"});
}

TEST_F(BadAdapter, CorruptFiles) {
  write_text(config(), "{\"peft_type\": \"LORA\", \"r\": ");
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "adapter_config.json", "not valid JSON"});
  copy_folder(test_data_path("train/peft_ours"), tmp_.path("b"));
  const std::string st = tmp_.path("b/adapter_model.safetensors");
  const std::string bytes = file_bytes(st);
  write_text(st, bytes.substr(0, bytes.size() / 2));  // truncated
  expect_error([&] { read_peft_adapter(tmp_.path("b")); }, {"[lora]", "cannot be read", "adapter_model.safetensors"});
}

TEST_F(BadAdapter, OtherAdapterTypesAndUnsupportedOptions) {
  edit_config([](nlohmann::json& c) { c["peft_type"] = "IA3"; });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "peft_type is \"IA3\"", "only LORA"});
  edit_config([](nlohmann::json& c) {
    c["peft_type"] = "LORA";
    c["use_dora"] = true;
  });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "DoRA"});
  edit_config([](nlohmann::json& c) {
    c["use_dora"] = false;
    c["modules_to_save"] = {"lm_head"};
  });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "modules_to_save"});
  edit_config([](nlohmann::json& c) {
    c["modules_to_save"] = nullptr;
    c["bias"] = "all";
  });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "bias", "\"none\""});
  edit_config([](nlohmann::json& c) { c.erase("peft_type"); });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "no peft_type"});
}

TEST_F(BadAdapter, WrongRankOrShapes) {
  edit_config([](nlohmann::json& c) { c["r"] = 8; });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "has rank 4", "r = 8"});
  edit_config([](nlohmann::json& c) { c["r"] = 4; });
  edit_weights([](std::map<std::string, Tensor>& t) {
    t["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = zeros({4, 32});
  });
  expect_error([&] { load_peft_adapter(dir(), tiny_model()); },
               {"[lora]", "model.layers.0.self_attn.q_proj", "[4,32]", "[64,64]"});
}

TEST_F(BadAdapter, UnpairedOrUnknownTensors) {
  edit_weights([](std::map<std::string, Tensor>& t) {
    t.erase("base_model.model.model.layers.3.mlp.up_proj.lora_B.weight");
  });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "model.layers.3.mlp.up_proj", "no lora_B"});
  edit_weights([](std::map<std::string, Tensor>& t) {
    t["base_model.model.model.layers.3.mlp.up_proj.lora_B.weight"] = zeros({128, 4});
    t["base_model.model.model.layers.3.mlp.up_proj.lora_magnitude_vector"] = zeros({128});
  });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "lora_magnitude_vector", "DoRA"});
  edit_weights([](std::map<std::string, Tensor>& t) {
    t.erase("base_model.model.model.layers.3.mlp.up_proj.lora_magnitude_vector");
    t["model.layers.3.mlp.up_proj.lora_A.weight"] = zeros({4, 64});
  });
  expect_error([&] { read_peft_adapter(dir()); }, {"[lora]", "unexpected tensor", "base_model.model."});
}

TEST_F(BadAdapter, ModulesTheModelLacks) {
  // Layer 7 is a KV consumer of the tiny model: it has no k_proj.
  edit_weights([](std::map<std::string, Tensor>& t) {
    t["base_model.model.model.layers.7.self_attn.k_proj.lora_A.weight"] = zeros({4, 64});
    t["base_model.model.model.layers.7.self_attn.k_proj.lora_B.weight"] = zeros({32, 4});
  });
  read_peft_adapter(dir());  // well-formed on its own
  expect_error([&] { load_peft_adapter(dir(), tiny_model()); },
               {"[lora]", "model.layers.7.self_attn.k_proj", "the model does not have", "KV-consumer"});
}

}  // namespace
}  // namespace vg::train
