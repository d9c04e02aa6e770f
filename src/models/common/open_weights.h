// Any weight file a user may hand us, as a WeightSource: a PyTorch .pth/.pt/.bin (read natively,
// never executed: unknown objects such as training metadata stay opaque), or safetensors (a
// file, or a Hugging Face folder, sharded or not).
#pragma once

#include <memory>
#include <string>

#include "models/common/weight_source.h"

namespace vg::models {

std::unique_ptr<WeightSource> open_weights(const std::string& path);

}  // namespace vg::models
