// LoRA adapters as Hugging Face PEFT stores them, so PEFT loads ours and we load PEFT's:
//   <dir>/adapter_config.json        LoraConfig as PEFT's save_pretrained writes it (every key,
//                                    sorted, indent 2): peft_type "LORA", task_type "CAUSAL_LM",
//                                    r, lora_alpha, lora_dropout, target_modules, use_rslora, ...
//   <dir>/adapter_model.safetensors  "base_model.model.<module>.lora_A.weight" [r, in] and
//                                    ".lora_B.weight" [out, r], metadata {"format": "pt"}
// where <module> is the base weight's name without ".weight". Reading also accepts PEFT's older
// adapter_model.bin (a torch.save file). See docs/training.md for the keys we write and why.
//
// Writing is crash-safe: a new folder is assembled under a temporary name and renamed into
// place; an existing folder first loses its adapter_config.json, then gets the new weights, then
// the new config, so a folder with a config always holds the weights that config describes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "models/common/linear.h"
#include "models/gemma3n/model.h"
#include "train/lora.h"

namespace vg::train {

// The LoraConfig fields that describe an adapter we can apply. Reading rejects the PEFT options
// that change the computation in ways we do not implement (DoRA, aLoRA, QALoRA, bias training,
// fan_in_fan_out, modules_to_save, trainable tokens, layer replication, target_parameters, ...).
struct PeftLoraConfig {
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  bool use_rslora = false;
  // PEFT's target_modules: a list of names matched as suffixes, or (when target_modules_regex
  // is set) one regular expression matched against the whole module name.
  std::vector<std::string> target_modules;
  std::string target_modules_regex;
  std::map<std::string, int64_t> rank_pattern;  // module-name pattern -> r
  std::map<std::string, double> alpha_pattern;  // module-name pattern -> lora_alpha
  std::string base_model_name_or_path;          // written as null when empty
  std::string task_type = "CAUSAL_LM";
  bool inference_mode = true;  // PEFT's save_pretrained always writes true

  // PEFT's get_pattern_key: the first pattern p with re.match(rf"(.*\.)?({p})$", module).
  int64_t rank_for(const std::string& module_name) const;
  double alpha_for(const std::string& module_name) const;
  double scale_for(const std::string& module_name) const;
};

// The config PEFT would write for adapters made with `options` on `base_model`.
PeftLoraConfig peft_config_for(const LoraOptions& options, const std::string& base_model_name_or_path);

// adapter_config.json's text for `config`, byte for byte as PEFT's LoraConfig.save_pretrained
// formats it (json.dumps(indent=2, sort_keys=True)).
std::string peft_config_json(const PeftLoraConfig& config);

// Writes the folder (created if needed). Each adapter's rank and scale must agree with the
// config; throws "[lora] ..." otherwise.
void write_peft_adapter(const std::string& dir, const models::LoraSet& lora, const PeftLoraConfig& config);

// A folder read and checked on its own: the config's fields and unsupported options, every
// tensor a lora_A/lora_B pair of consistent shapes, ranks as the config says.
struct PeftAdapter {
  std::string dir;
  PeftLoraConfig config;
  std::map<std::string, models::LoraAdapter> adapters;  // by base weight name ("....q_proj.weight")
};
PeftAdapter read_peft_adapter(const std::string& dir);

// Checks that every adapter has a base weight of the right [out, in] among `weights` (name ->
// shape); `what` names them in errors ("the model", a checkpoint path).
void check_adapter_fits(const PeftAdapter& adapter, const std::map<std::string, Shape>& weights,
                        const std::string& what);

// The weight shapes of the model's linear layers, by name.
std::map<std::string, Shape> linear_weight_shapes(const gemma3n::Model& model);

// Reads `dir` and checks it against the model: the adapters as a LoraSet in `dtype` (the
// model's compute dtype when undefined) on the model's device, inference mode (training off,
// dropout from the config).
models::LoraSet load_peft_adapter(const std::string& dir, const gemma3n::Model& model,
                                  std::optional<DType> dtype = std::nullopt);

}  // namespace vg::train
