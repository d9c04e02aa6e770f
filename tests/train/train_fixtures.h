// Shared fixtures of the training tests: the tiny Gemma 3n, and the seeded LoRA adapters
// committed under tests/data/train/ that PEFT loads on the GPU machine
// (tools/reference/make_train_goldens.py records its logits with them).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "models/gemma3n/model.h"
#include "ops/ops.h"
#include "support/tensor_testing.h"
#include "train/lora.h"
#include "train/peft_adapter.h"

namespace vg::train::fixtures {

inline gemma3n::Model& tiny_model() {
  static gemma3n::Model model = gemma3n::Model::load(testing::test_data_path("gemma3n/tiny"));
  return model;
}

struct FixtureAdapter {
  models::LoraSet set;
  PeftLoraConfig config;
};

// B drawn from N(0, 0.1^2) after A, so the adapters change the logits.
inline models::LoraSet with_random_b(const models::LoraSet& fresh, Generator& gen,
                                     const std::function<double(const std::string&)>& scale_of) {
  NoGradGuard no_grad;
  models::LoraSet out;
  out.dropout = fresh.dropout;
  out.training = false;
  for (const auto& [name, adapter] : fresh.adapters()) {
    models::LoraAdapter a = adapter;
    a.b = mul(randn(adapter.b.shape(), gen, DType::F64), 0.1).to(DType::F32).contiguous();
    a.scale = scale_of(name);
    out.add(name, std::move(a));
  }
  return out;
}

// tests/data/train/peft_ours: the seven default targets, r 4, alpha 8, dropout 0.05.
inline FixtureAdapter default_adapter() {
  LoraOptions options;
  options.rank = 4;
  options.alpha = 8;
  options.dropout = 0.05;
  Generator gen(20251122);
  models::LoraSet fresh = create_lora(tiny_model(), options, gen);
  FixtureAdapter f;
  f.config = peft_config_for(options, "tests/data/gemma3n/tiny");
  f.set = with_random_b(fresh, gen, [&](const std::string&) { return lora_scale(8, 4, false); });
  return f;
}

// tests/data/train/peft_ours_rslora: q_proj and o_proj only, rsLoRA, r 4, alpha 8 but 16 for
// o_proj through alpha_pattern.
inline FixtureAdapter rslora_adapter() {
  LoraOptions options;
  options.rank = 4;
  options.alpha = 8;
  options.dropout = 0.0;
  options.use_rslora = true;
  options.target_modules = {"q_proj", "o_proj"};
  Generator gen(77);
  models::LoraSet fresh = create_lora(tiny_model(), options, gen);
  FixtureAdapter f;
  f.config = peft_config_for(options, "tests/data/gemma3n/tiny");
  f.config.alpha_pattern["o_proj"] = 16;
  f.set = with_random_b(fresh, gen, [&](const std::string& name) { return f.config.scale_for(module_name_of(name)); });
  return f;
}

// A fresh folder under the system's temporary directory, removed with the object.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("vg_train_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& child = "") const { return child.empty() ? path_.string() : (path_ / child).string(); }

 private:
  std::filesystem::path path_;
};

// Logits [B, T, V] of ids [B, T] with an optional adapter set.
inline Tensor logits_of(gemma3n::Model& model, const Tensor& ids, const models::LoraSet* lora) {
  NoGradGuard no_grad;
  model.set_lora(lora);
  gemma3n::ForwardArgs args;
  args.ids = ids;
  Tensor out = model.logits(model.forward(args));
  model.set_lora(nullptr);
  return out;
}

}  // namespace vg::train::fixtures
