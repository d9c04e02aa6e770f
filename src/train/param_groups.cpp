#include "train/param_groups.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace vg::train {

bool takes_weight_decay(const std::string& name) {
  // transformers.Trainer.get_decay_parameter_names: forbidden_name_patterns, searched in the
  // lower-cased full parameter name.
  static const std::vector<std::regex> forbidden = {
      std::regex("bias"), std::regex("layernorm"), std::regex("rmsnorm"), std::regex(R"((?:^|\.)norm(?:$|\.))"),
      std::regex(R"(_norm(?:$|\.))")};
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::none_of(forbidden.begin(), forbidden.end(),
                      [&](const std::regex& r) { return std::regex_search(lower, r); });
}

std::vector<ParamGroup> build_param_groups(const std::vector<ParameterFamily>& families,
                                           const GroupOptions& options) {
  std::set<std::string> seen;
  std::vector<ParamGroup> groups;
  for (const ParameterFamily& family : families) {
    ParamGroup decay, no_decay;
    for (ParamGroup* g : {&decay, &no_decay}) {
      g->lr = family.lr;
      g->beta1 = options.beta1;
      g->beta2 = options.beta2;
      g->eps = options.eps;
    }
    decay.label = family.label;
    decay.weight_decay = options.weight_decay;
    no_decay.label = family.label + ", no decay";
    no_decay.weight_decay = 0.0;
    for (const NamedParameter& p : family.params) {
      VG_CHECK(seen.insert(p.name).second, "train", "parameter '", p.name, "' is in more than one family");
      const bool decays = takes_weight_decay(p.name) && options.no_decay_names.count(p.name) == 0;
      (decays ? decay : no_decay).params.push_back(p);
    }
    if (!decay.params.empty()) groups.push_back(std::move(decay));
    if (!no_decay.params.empty()) groups.push_back(std::move(no_decay));
  }
  return groups;
}

std::vector<ParamGroup> lora_and_projector_groups(const std::vector<NamedParameter>& lora, double lora_lr,
                                                  const std::vector<NamedParameter>& projector,
                                                  double projector_lr, const GroupOptions& options) {
  return build_param_groups({{"lora", lora, lora_lr}, {"projector", projector, projector_lr}}, options);
}

}  // namespace vg::train
