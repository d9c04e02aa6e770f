// Writing a Hugging Face checkpoint folder as save_pretrained lays it out: config.json and
// model.safetensors, or, when the tensors are larger than a shard may be, the shards
// model-00001-of-0000N.safetensors and model.safetensors.index.json naming each tensor's shard.
// io::Checkpoint reads every such folder. Each file is written atomically (a reader sees the old
// or the new file, never a torn one); the folder as a whole is not, so a reader during the save of
// an existing checkpoint may see old and new files side by side.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vg::models {

// Shards of at most 2 GB (transformers' own default is larger): each file stays well within what
// tools that copy or upload checkpoints handle comfortably.
constexpr int64_t kDefaultMaxShardBytes = 2'000'000'000;

// The torch dtype name config.json's "dtype" uses: "float32", "bfloat16", "float16", "float64".
std::string torch_dtype_name(DType dtype);

// Writes `weights` (name order, safetensors metadata {"format": "pt"} as transformers expects) and
// `config_json` into `folder`, created when missing. A single file when the tensors take at most
// max_shard_bytes, else greedy shards of at most max_shard_bytes (a larger tensor gets a shard of
// its own). Files of an earlier save in the other layout (a stale index, model.safetensors, shards
// of another count) are removed so that the folder reads as the new checkpoint. Returns the
// weight files written, in order.
std::vector<std::string> write_checkpoint_folder(const std::string& folder, const std::string& config_json,
                                                 const std::map<std::string, Tensor>& weights,
                                                 int64_t max_shard_bytes = kDefaultMaxShardBytes);

}  // namespace vg::models
