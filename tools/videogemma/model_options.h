// Command-line options shared by the commands that load a Gemma 3n model (generate, score):
// the checkpoint, its tokenizer, the compute dtype and a MatFormer slice.
#pragma once

#include <optional>
#include <string>

#include "models/gemma3n/model.h"
#include "text/tokenizer.h"

namespace CLI {
class App;
}

namespace vg::cli {

struct ModelOptions {
  std::string model;
  std::string tokenizer;  // default: <model>/tokenizer.json when present
  std::string dtype = "f32";
  std::string ffn_widths;   // MatFormer: "2048*4,2048*8,..." one per kept layer
  std::string skip_layers;  // MatFormer: "20,21,22,23,24"

  void add_to(CLI::App& cmd);
  gemma3n::Model load_model() const;
  // The tokenizer, or nullopt when none was given and the model folder has none.
  std::optional<text::Tokenizer> load_tokenizer() const;
};

// "2,17,300" -> ids; throws "[cli] ..." naming the bad item.
std::vector<int32_t> parse_ids(const std::string& text);

}  // namespace vg::cli
