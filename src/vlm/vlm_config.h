// The one file that names a whole video-language model (design.md §4): the language model, its
// tokenizer, both vision towers, both projectors, an optional LoRA adapter, the frame plan, and
// the template's system prompt and default question. Training writes one next to its outputs and
// inference reads it, so both use the same template and prompt. Paths in the file are relative
// to the file's folder.
//
//   {"language_model": "gemma-3n-E2B-it", "clip": "clip-vit-base-patch16",
//    "videomamba": "videomamba_m16_25M_f8_res224.pth",
//    "image_projector": "stage2/image_projector.safetensors",
//    "video_projector": "stage1/video_projector.safetensors",
//    "lora": "stage3/adapter", "frames": 8, "device": "cuda"}
#pragma once

#include <cstdint>
#include <string>

#include "core/device.h"
#include "core/dtype.h"

namespace vg {

// The reference's inference system prompt (specs/mobile-videogpt-reference.md §2.1).
inline constexpr const char* kDefaultSystemPrompt =
    "You are a physiotherapy assistant. Given the following exercise image or video, identify any form mistakes "
    "and suggest corrective feedback to improve the technique.";

struct VlmConfig {
  std::string language_model;   // Gemma 3n checkpoint folder (config.json + safetensors)
  std::string tokenizer;        // tokenizer.json; default <language_model>/tokenizer.json
  std::string clip;             // CLIP vision checkpoint (folder or file)
  std::string videomamba;       // VideoMamba weights (.pth or safetensors)
  bool videomamba_bidirectional = true;
  std::string image_projector;  // ETP safetensors; "" = freshly initialised (training only)
  std::string video_projector;
  std::string lora;             // PEFT adapter folder; "" = none
  int frames = 8;               // 8 or 16
  bool reference_sampling = false;
  std::string system_prompt = kDefaultSystemPrompt;
  std::string prompt;           // the default question; "" = the QVED evaluation prompt
  int64_t max_length = 2048;    // tokens per training sequence, visual tokens included
  std::string device = "cpu";  // cpu, cuda or cuda:N: where every part is placed and computes
  std::string dtype;            // compute dtype; "" = the device's default (cpu: f32, cuda: bf16).
                                // The cpu takes f32 or f64, cuda bf16, f16 or f32 (vlm/device_choice.h)
  std::string source;           // the file it was read from ("" if built in code)

  // Reads and checks a config file: unknown keys (a typo), wrong types and unknown device or
  // dtype names are errors naming the key; paths become relative to the working directory.
  // Whether the device takes the dtype is checked when the model is placed (compute_dtype()), so
  // that a command's --device can still change the device.
  static VlmConfig load(const std::string& path);
  // Writes it atomically, with paths relative to the new file's folder where possible. An empty
  // dtype is left out, so the file keeps following the device's default.
  void save(const std::string& path) const;
  // The device and the compute dtype; throw "[config] <file>: \"device\" ..." (or "dtype")
  // naming what each device takes.
  Device compute_device() const;
  DType compute_dtype() const;
  // The question used when none is given.
  const std::string& default_prompt() const;
};

}  // namespace vg
