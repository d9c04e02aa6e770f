// Command-line options shared by the commands that load a Gemma 3n model (generate, score):
// the checkpoint, its tokenizer, the device and compute dtype, and a MatFormer slice.
#pragma once

#include <optional>
#include <string>

#include "models/gemma3n/model.h"
#include "text/tokenizer.h"
#include "vlm/vlm_config.h"

namespace CLI {
class App;
}

namespace vg::cli {

struct ModelOptions {
  std::string model;
  std::string tokenizer;  // default: <model>/tokenizer.json when present
  std::string device;  // "" = cpu (or, for a model config, the config's)
  std::string dtype;   // "" = the device's default (or, for a model config, the config's)
  std::string ffn_widths;   // MatFormer: "2048*4,2048*8,..." one per kept layer
  std::string skip_layers;  // MatFormer: "20,21,22,23,24"

  void add_to(CLI::App& cmd);
  // Throws "[cli] --device ..." or "[cli] --dtype ..." for a name the device does not take, and
  // the backend's error for a device that cannot be used (no CUDA in this build, no GPU).
  gemma3n::Model load_model() const;
  // --device and --dtype over a model config's (override_device below).
  void override(VlmConfig& config) const;
  // The tokenizer, or nullopt when none was given and the model folder has none.
  std::optional<text::Tokenizer> load_tokenizer() const;
};

// A command's --device and --dtype (those given, "" = not given) over a model config's
// "device" and "dtype": "[cli] --device ..." or "[cli] --dtype ..." for a name the resulting
// device does not take.
void override_device(VlmConfig& config, const std::string& device, const std::string& dtype);

// The help texts of --device and --dtype, shared by every command that has them.
extern const char* const kDeviceHelp;
extern const char* const kDtypeHelp;

// "2,17,300" -> ids; throws "[cli] ..." naming the bad item.
std::vector<int32_t> parse_ids(const std::string& text);

}  // namespace vg::cli
