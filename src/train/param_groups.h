// Optimizer parameter groups from named trainable tensors, as transformers' Trainer builds them
// (create_optimizer with get_decay_parameter_names) and Mobile-VideoGPT's trainer extends them
// with a separate learning rate for the projectors (specs/mobile-videogpt-reference.md §4.1):
// each family of parameters (LoRA, projector) gets a group with weight decay and one without.
//
// No weight decay, by name (lower-cased, regular-expression search, transformers 5.x
// forbidden_name_patterns): "bias", "layernorm", "rmsnorm", "(^|\.)norm($|\.)", "_norm($|\.)".
// transformers also exempts every parameter of an nn.LayerNorm module whatever its name; names
// alone cannot see module types, so a LayerNorm named otherwise (CLIP's "pre_layrnorm") decays
// here: pass such names in GroupOptions::no_decay_names.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "train/adamw.h"

namespace vg::train {

// True when `name` takes weight decay under the rule above.
bool takes_weight_decay(const std::string& name);

struct ParameterFamily {
  std::string label;  // "lora", "projector", ...
  std::vector<NamedParameter> params;
  double lr = 1e-4;
};

struct GroupOptions {
  double weight_decay = 0.0;  // the design's recipe and the reference scripts use 0
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  std::set<std::string> no_decay_names;  // exempt these too (LayerNorm weights the rule misses)
};

// For each family in order: "<label>" (weight_decay) then "<label>, no decay" (0). Empty groups
// are left out; with weight_decay 0 both kinds still form separate groups, as in transformers.
// Throws "[train] ..." when a name appears twice.
std::vector<ParamGroup> build_param_groups(const std::vector<ParameterFamily>& families,
                                           const GroupOptions& options = {});

// The design's stage-3 groups (§5): LoRA tensors at lora_lr (2e-4), projector tensors at
// projector_lr (1e-4).
std::vector<ParamGroup> lora_and_projector_groups(const std::vector<NamedParameter>& lora, double lora_lr,
                                                  const std::vector<NamedParameter>& projector,
                                                  double projector_lr, const GroupOptions& options = {});

}  // namespace vg::train
