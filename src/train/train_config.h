// What `videogemma train --config FILE` reads: the model to start from, the stage, the data, the
// output folder and the hyperparameters (design.md §5). Every field has the design's default for
// its stage; unknown keys are errors naming the key. Paths are relative to the file's folder.
//
//   {"model": "model.json", "stage": 3, "train_data": "QVED_TRAIN", "val_data": "QVED_VAL",
//    "datasets": "data/datasets.json", "output": "runs/stage3", "epochs": 3, "batch_size": 8}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace vg::train {

struct LoraSettings {
  int64_t r = 64;
  double alpha = 128;
  double dropout = 0.05;
  // Suffixes of the language model's linear layers that get adapters (all seven may be named).
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
};

struct TrainConfig {
  std::string model;       // VlmConfig file of the starting model
  int stage = 3;           // 1: video projector, 2: image projector, 3: LoRA + both projectors
  std::string train_data;  // a registry name (QVED_TRAIN, PRETRAINING_VIDEO, ...) or an annotation file
  std::string val_data;    // "" = no evaluation
  std::string datasets;    // the registry (datasets.json) names are looked up in
  std::string output;      // everything the run writes

  int64_t epochs = 1;
  int64_t max_steps = 0;   // > 0: stop after this many optimizer steps (overrides epochs)
  int64_t batch_size = 8;  // clips per micro-batch
  int64_t gradient_accumulation = 1;
  double learning_rate = 0;            // 0: the stage's default (1e-3 for stages 1-2, 2e-4 for LoRA)
  double projector_learning_rate = 1e-4;  // stage 3's projectors
  double weight_decay = 0.0;
  std::string lr_scheduler = "cosine";
  double warmup_ratio = -1;  // < 0: the stage's default (0.03 for stages 1-2, 0.05 for stage 3)
  double max_grad_norm = 1.0;
  LoraSettings lora;
  bool train_projectors = true;  // stage 3: train both projectors with the LoRA
  bool gradient_checkpointing = true;
  int64_t max_length = 0;        // 0: the model config's
  int64_t eval_every = 0;        // optimizer steps between validation losses; 0: at the end only
  int64_t eval_samples = 0;      // 0: the whole validation split
  int64_t save_every = 0;        // optimizer steps between checkpoints; 0: only the final outputs
  int64_t keep_checkpoints = 3;
  uint64_t seed = 42;
  data::BadRecordPolicy bad_records = data::BadRecordPolicy::Skip;
  std::string feature_cache;     // folder for the towers' features; "" = memory
  std::string device;            // "" = the model config's; else cpu, cuda or cuda:N (vlm/device_choice.h)
  std::string dtype;             // "" = the model config's (or the device's default); the compute dtype
  std::string source;            // the file it was read from

  static TrainConfig load(const std::string& path);
  // The stage's defaults filled in; throws for inconsistent settings.
  TrainConfig resolved() const;
};

}  // namespace vg::train
