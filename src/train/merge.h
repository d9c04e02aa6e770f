// Folding LoRA adapters into their base weights, as PEFT's merge_and_unload does:
//   W' = W + scale * (B @ A)
// with the product and the sum in f32 and one rounding to the weight's dtype at the end (PEFT
// keeps adapters in f32 and adds the f32 delta into a bf16 weight with type promotion). The
// result is a full Hugging Face checkpoint folder that our loader and transformers both load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/common/linear.h"
#include "models/gemma3n/model.h"

namespace vg::train {

// W + scale * (B @ A) rounded to `dtype` (f32, f64, bf16 or f16).
Tensor merge_weight(const Tensor& weight, const models::LoraAdapter& adapter, DType dtype);

// Folds every adapter of `lora` into the model's linear weights in place, in the weights' own
// dtype; the model then computes what it computed with the set, without it. Throws "[lora] ..."
// for an adapter whose layer the model lacks or whose shapes do not fit.
void merge_into_model(gemma3n::Model& model, const models::LoraSet& lora);

struct MergeOptions {
  std::optional<DType> dtype;              // of every floating tensor written; default: as stored
  int64_t max_shard_bytes = 5'000'000'000;  // transformers 4.x's "5GB": E2B in bf16 takes 3 files
};

struct MergeSummary {
  int64_t merged_weights = 0;  // base weights an adapter was folded into
  int64_t tensors = 0;         // tensors written
  int64_t bytes = 0;           // their data
  int64_t files = 0;           // safetensors files written
  std::vector<std::string> copied_files;  // config.json, tokenizer files, ...
};

// Reads the checkpoint folder `base_dir` and the PEFT adapter `adapter_dir` (checked against the
// checkpoint's tensors), and writes `out_dir`: every tensor of the base, merged where an adapter
// applies, as model.safetensors or transformers' shards (model-0000i-of-0000n.safetensors with
// model.safetensors.index.json), plus the base folder's other files (config.json — its "dtype"
// updated when `dtype` is given — generation config, tokenizer, ...). The folder is assembled
// under a temporary name and renamed into place; `out_dir` must not exist or be empty.
MergeSummary merge_checkpoint(const std::string& base_dir, const std::string& adapter_dir, const std::string& out_dir,
                              const MergeOptions& options = {});

}  // namespace vg::train
