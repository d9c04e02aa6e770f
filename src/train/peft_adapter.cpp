#include "train/peft_adapter.h"


#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "autograd/grad_mode.h"
#include "io/mapped_file.h"
#include "io/pth.h"
#include "io/safetensors.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kComponent = "lora";
constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";
constexpr const char* kPickledWeightsFile = "adapter_model.bin";
constexpr const char* kKeyPrefix = "base_model.model.";

// PEFT writes lora_alpha as the user gave it, usually an int: 128, not 128.0.
json number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::abs(value) < 9.0e15) {
    return static_cast<int64_t>(value);
  }
  return value;
}

// PEFT's get_pattern_key: the first pattern p (in the dict's order, which json.load keeps and
// we approximate by sorted order) with re.match(rf"(.*\.)?({p})$", module_name).
template <class Map>
const typename Map::mapped_type* pattern_value(const Map& patterns, const std::string& module_name) {
  for (const auto& [pattern, value] : patterns) {
    try {
      if (std::regex_match(module_name, std::regex("(.*\\.)?(" + pattern + ")"))) return &value;
    } catch (const std::regex_error&) {
      throw Error(kComponent, str("pattern '", pattern, "' in rank_pattern/alpha_pattern is not a valid regex"));
    }
  }
  return nullptr;
}

// The LoraConfig keys PEFT 0.21 writes that we have no use for, with the values of its defaults
// (tests/data/train/peft_theirs/adapter_config.json, saved by PEFT itself, is the reference).
// "peft_version" is left out: it names the PEFT release that wrote the file, and we are not one.
json default_fields() {
  return {
      {"alora_invocation_tokens", nullptr},
      {"arrow_config", nullptr},
      {"auto_mapping", nullptr},
      {"bias", "none"},
      {"corda_config", nullptr},
      {"ensure_weight_tying", false},
      {"eva_config", nullptr},
      {"exclude_modules", nullptr},
      {"fan_in_fan_out", false},
      {"init_lora_weights", true},
      {"kasa_config", nullptr},
      {"layer_replication", nullptr},
      {"layers_pattern", nullptr},
      {"layers_to_transform", nullptr},
      {"loftq_config", json::object()},
      {"lora_bias", false},
      {"lora_ga_config", nullptr},
      {"megatron_config", nullptr},
      {"megatron_core", "megatron.core"},
      {"modules_to_save", nullptr},
      {"monteclora_config", nullptr},
      {"qalora_group_size", 16},
      {"revision", nullptr},
      {"target_parameters", nullptr},
      {"trainable_token_indices", nullptr},
      {"use_bdlora", nullptr},
      {"use_dora", false},
      {"use_qalora", false},
      {"velora_config", nullptr},
  };
}

// ---- reading ----

std::string config_path(const std::string& dir) { return (fs::path(dir) / kConfigFile).string(); }

[[noreturn]] void bad_config(const std::string& path, const std::string& what) {
  throw Error(kComponent, str(path, ": ", what));
}

bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_array() || v.is_object() || v.is_string()) return !v.empty();
  return true;
}

// Options that change what the adapter computes in ways we do not implement.
void reject_unsupported(const json& c, const std::string& path) {
  struct Rule {
    const char* key;
    const char* why;
  };
  static const Rule rules[] = {
      {"use_dora", "DoRA adapters (use_dora) are not supported"},
      {"fan_in_fan_out", "fan_in_fan_out adapters (Conv1D layers) are not supported"},
      {"lora_bias", "adapters with a trained lora_B bias (lora_bias) are not supported"},
      {"modules_to_save", "modules_to_save (fully trained copies of base modules) are not supported"},
      {"trainable_token_indices", "trainable token embeddings (trainable_token_indices) are not supported"},
      {"layer_replication", "layer_replication is not supported"},
      {"target_parameters", "LoRA on parameters (target_parameters) is not supported"},
      {"alora_invocation_tokens", "activated LoRA (alora_invocation_tokens) is not supported"},
      {"use_qalora", "QALoRA adapters (use_qalora) are not supported"},
      {"use_bdlora", "block-diagonal LoRA (use_bdlora) is not supported"},
      {"megatron_config", "Megatron-parallel LoRA (megatron_config) is not supported"},
  };
  for (const Rule& r : rules) {
    if (c.contains(r.key) && truthy(c.at(r.key))) bad_config(path, str(r.why, " (", r.key, " is set)"));
  }
  if (c.contains("bias") && !c.at("bias").is_null()) {
    VG_CHECK(c.at("bias").is_string() && c.at("bias").get<std::string>() == "none", kComponent, path,
             ": bias is ", c.at("bias").dump(), "; only adapters that train no biases (\"none\") are supported");
  }
}

PeftLoraConfig parse_config(const std::string& dir) {
  const std::string path = config_path(dir);
  VG_CHECK(io::file_exists(path), kComponent, dir, ": ", kConfigFile,
           " is missing (not a PEFT adapter folder, or a write that did not finish)");
  json c;
  try {
    c = json::parse(io::read_text_file(path));
  } catch (const json::exception& e) {
    bad_config(path, str("not valid JSON: ", e.what()));
  }
  if (!c.is_object()) bad_config(path, "expected a JSON object");
  if (!c.contains("peft_type")) bad_config(path, "has no peft_type (not a PEFT adapter config)");
  const json& type = c.at("peft_type");
  if (!type.is_string() || type.get<std::string>() != "LORA") {
    bad_config(path, str("peft_type is ", type.dump(), "; only LORA adapters are supported"));
  }
  reject_unsupported(c, path);

  PeftLoraConfig config;
  try {
    // PEFT's defaults for absent keys (LoraConfig's dataclass defaults).
    if (c.contains("r") && !c.at("r").is_null()) {
      const json& r = c.at("r");
      if (!r.is_number_integer() || r.get<int64_t>() < 1) bad_config(path, str("r must be a positive integer, got ", r.dump()));
      config.r = r.get<int64_t>();
    }
    if (c.contains("lora_alpha") && !c.at("lora_alpha").is_null()) {
      if (!c.at("lora_alpha").is_number()) bad_config(path, "lora_alpha must be a number");
      config.lora_alpha = c.at("lora_alpha").get<double>();
    }
    if (c.contains("lora_dropout") && !c.at("lora_dropout").is_null()) {
      if (!c.at("lora_dropout").is_number()) bad_config(path, "lora_dropout must be a number");
      config.lora_dropout = c.at("lora_dropout").get<double>();
      if (!(config.lora_dropout >= 0 && config.lora_dropout < 1)) {
        bad_config(path, str("lora_dropout must be in [0, 1), got ", config.lora_dropout));
      }
    }
    if (c.contains("use_rslora") && !c.at("use_rslora").is_null()) config.use_rslora = c.at("use_rslora").get<bool>();
    if (c.contains("target_modules") && !c.at("target_modules").is_null()) {
      const json& t = c.at("target_modules");
      if (t.is_string()) {
        config.target_modules_regex = t.get<std::string>();
      } else if (t.is_array()) {
        for (const json& name : t) config.target_modules.push_back(name.get<std::string>());
      } else {
        bad_config(path, "target_modules must be a list of names or a regular expression");
      }
    }
    for (const char* key : {"rank_pattern", "alpha_pattern"}) {
      if (!c.contains(key) || c.at(key).is_null()) continue;
      if (!c.at(key).is_object()) bad_config(path, str(key, " must be an object"));
      for (const auto& [pattern, value] : c.at(key).items()) {
        if (!value.is_number()) bad_config(path, str(key, "['", pattern, "'] must be a number"));
        if (std::string(key) == "rank_pattern") {
          if (!value.is_number_integer() || value.get<int64_t>() < 1) {
            bad_config(path, str("rank_pattern['", pattern, "'] must be a positive integer"));
          }
          config.rank_pattern[pattern] = value.get<int64_t>();
        } else {
          config.alpha_pattern[pattern] = value.get<double>();
        }
      }
    }
    if (c.contains("base_model_name_or_path") && c.at("base_model_name_or_path").is_string()) {
      config.base_model_name_or_path = c.at("base_model_name_or_path").get<std::string>();
    }
    if (c.contains("task_type") && c.at("task_type").is_string()) config.task_type = c.at("task_type").get<std::string>();
    if (c.contains("inference_mode") && c.at("inference_mode").is_boolean()) {
      config.inference_mode = c.at("inference_mode").get<bool>();
    }
  } catch (const json::exception& e) {
    bad_config(path, str("a field has the wrong type: ", e.what()));
  }
  return config;
}

// The tensors of adapter_model.safetensors (or the older adapter_model.bin), as owned copies.
std::map<std::string, Tensor> read_weights(const std::string& dir) {
  const std::string st = (fs::path(dir) / kWeightsFile).string();
  const std::string bin = (fs::path(dir) / kPickledWeightsFile).string();
  std::map<std::string, Tensor> tensors;
  try {
    if (io::file_exists(st)) {
      io::SafetensorsFile f = io::SafetensorsFile::open(st);
      for (const io::TensorInfo& info : f.tensors()) tensors[info.name] = f.get(info.name);
    } else if (io::file_exists(bin)) {
      tensors = io::PthFile::open(bin).state_dict();
    } else {
      throw Error(kComponent, str(dir, ": ", kWeightsFile, " is missing (and there is no ", kPickledWeightsFile, ")"));
    }
  } catch (const Error& e) {
    if (e.component() == kComponent) throw;
    throw Error(kComponent, str(dir, ": the adapter weights cannot be read: ", e.what()));
  }
  return tensors;
}

// "base_model.model.<module>.lora_A.weight" -> (module, false); throws for any other key.
std::pair<std::string, bool> parse_key(const std::string& key, const std::string& dir) {
  static const std::string a = ".lora_A.weight", b = ".lora_B.weight";
  const bool is_a = key.ends_with(a), is_b = key.ends_with(b);
  if (key.starts_with(kKeyPrefix) && (is_a || is_b)) {
    const std::string module = key.substr(std::string(kKeyPrefix).size(),
                                          key.size() - std::string(kKeyPrefix).size() - a.size());
    if (!module.empty()) return {module, is_b};
  }
  std::string why = "it is not a LoRA weight ('base_model.model.<module>.lora_A.weight' or '.lora_B.weight')";
  if (key.find("lora_magnitude_vector") != std::string::npos) why = "DoRA magnitudes are not supported";
  else if (key.find("lora_embedding_") != std::string::npos) why = "LoRA on embeddings is not supported";
  else if (key.ends_with(".bias")) why = "trained biases are not supported";
  else if (!key.starts_with(kKeyPrefix) && (is_a || is_b)) why = "keys must start with 'base_model.model.'";
  throw Error(kComponent, str(dir, "/", kWeightsFile, ": unexpected tensor '", key, "': ", why));
}

}  // namespace

// ---- config ----

int64_t PeftLoraConfig::rank_for(const std::string& module_name) const {
  const int64_t* r = pattern_value(rank_pattern, module_name);
  return r != nullptr ? *r : this->r;
}

double PeftLoraConfig::alpha_for(const std::string& module_name) const {
  const double* a = pattern_value(alpha_pattern, module_name);
  return a != nullptr ? *a : lora_alpha;
}

double PeftLoraConfig::scale_for(const std::string& module_name) const {
  return lora_scale(alpha_for(module_name), rank_for(module_name), use_rslora);
}

PeftLoraConfig peft_config_for(const LoraOptions& options, const std::string& base_model_name_or_path) {
  options.validate();
  PeftLoraConfig c;
  c.r = options.rank;
  c.lora_alpha = options.alpha;
  c.lora_dropout = options.dropout;
  c.use_rslora = options.use_rslora;
  c.target_modules = options.target_modules;
  c.base_model_name_or_path = base_model_name_or_path;
  return c;
}

std::string peft_config_json(const PeftLoraConfig& config) {
  json c = default_fields();
  c["peft_type"] = "LORA";
  c["task_type"] = config.task_type.empty() ? json(nullptr) : json(config.task_type);
  c["base_model_name_or_path"] =
      config.base_model_name_or_path.empty() ? json(nullptr) : json(config.base_model_name_or_path);
  c["inference_mode"] = config.inference_mode;
  c["r"] = config.r;
  c["lora_alpha"] = number(config.lora_alpha);
  c["lora_dropout"] = config.lora_dropout;
  c["use_rslora"] = config.use_rslora;
  if (!config.target_modules_regex.empty()) {
    c["target_modules"] = config.target_modules_regex;
  } else {
    c["target_modules"] = config.target_modules;
  }
  json ranks = json::object(), alphas = json::object();
  for (const auto& [k, v] : config.rank_pattern) ranks[k] = v;
  for (const auto& [k, v] : config.alpha_pattern) alphas[k] = number(v);
  c["rank_pattern"] = ranks;
  c["alpha_pattern"] = alphas;
  // json.dumps(indent=2, sort_keys=True): nlohmann's objects are sorted by key already.
  return c.dump(2, ' ', /*ensure_ascii=*/true);
}

// ---- writing ----

void write_peft_adapter(const std::string& dir, const models::LoraSet& lora, const PeftLoraConfig& config) {
  VG_CHECK(!lora.empty(), kComponent, "nothing to write to ", dir, ": the adapter set is empty");
  VG_CHECK(config.r >= 1, kComponent, "r must be at least 1, got ", config.r);
  NoGradGuard no_grad;
  std::map<std::string, Tensor> tensors;
  for (const auto& [weight_name, adapter] : lora.adapters()) {
    const std::string module = module_name_of(weight_name);
    const int64_t r = config.rank_for(module);
    VG_CHECK(adapter.a.size(0) == r, kComponent, "adapter for '", weight_name, "' has rank ", adapter.a.size(0),
             " but the config says r = ", r);
    const double scale = config.scale_for(module);
    VG_CHECK(std::abs(adapter.scale - scale) <= 1e-12 * std::abs(scale), kComponent, "adapter for '", weight_name,
             "' has scale ", adapter.scale, " but the config gives ", scale, " (lora_alpha / r",
             config.use_rslora ? " with rsLoRA" : "", ")");
    tensors[peft_lora_key(weight_name, false)] = adapter.a.detach();
    tensors[peft_lora_key(weight_name, true)] = adapter.b.detach();
  }
  const std::string text = peft_config_json(config);
  const fs::path target(dir);
  std::error_code ec;
  if (!fs::exists(target)) {
    // A fresh folder appears whole or not at all.
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    const fs::path tmp = fs::path(io::temporary_sibling(target.string()));
    fs::remove_all(tmp, ec);
    VG_CHECK(fs::create_directories(tmp, ec), kComponent, "cannot create ", tmp.string(), ": ", ec.message());
    try {
      io::save_safetensors((tmp / kWeightsFile).string(), tensors, {{"format", "pt"}});
      io::write_file_atomically((tmp / kConfigFile).string(), text);
      fs::rename(tmp, target);
    } catch (const std::exception& e) {
      fs::remove_all(tmp, ec);
      if (const auto* err = dynamic_cast<const Error*>(&e)) throw *err;
      throw Error(kComponent, str("cannot write the adapter to ", dir, ": ", e.what()));
    }
    return;
  }
  VG_CHECK(fs::is_directory(target), kComponent, dir, " exists and is not a folder");
  // The config is the commit mark: remove it, replace the weights, then write the new config.
  fs::remove(target / kConfigFile, ec);
  VG_CHECK(!ec, kComponent, "cannot remove the old ", (target / kConfigFile).string(), ": ", ec.message());
  io::save_safetensors((target / kWeightsFile).string(), tensors, {{"format", "pt"}});
  io::write_file_atomically((target / kConfigFile).string(), text);
}

// ---- reading ----

PeftAdapter read_peft_adapter(const std::string& dir) {
  VG_CHECK(io::file_exists(dir) || io::is_directory(dir), kComponent, "adapter folder '", dir, "' does not exist");
  VG_CHECK(io::is_directory(dir), kComponent, "'", dir, "' is not a folder (a PEFT adapter is a folder with ",
           kConfigFile, " and ", kWeightsFile, ")");
  PeftAdapter out;
  out.dir = dir;
  out.config = parse_config(dir);
  std::map<std::string, Tensor> tensors = read_weights(dir);
  VG_CHECK(!tensors.empty(), kComponent, dir, ": the adapter weights hold no tensors");

  std::map<std::string, std::pair<Tensor, Tensor>> pairs;  // module -> (A, B)
  for (const auto& [key, tensor] : tensors) {
    auto [module, is_b] = parse_key(key, dir);
    VG_CHECK(is_floating(tensor.dtype()), kComponent, dir, ": tensor '", key, "' is ", tensor.describe(),
             "; LoRA weights are floating point");
    (is_b ? pairs[module].second : pairs[module].first) = tensor;
  }
  NoGradGuard no_grad;
  for (const auto& [module, ab] : pairs) {
    const auto& [a, b] = ab;
    VG_CHECK(a.defined() && b.defined(), kComponent, dir, ": module '", module, "' has ",
             a.defined() ? "lora_A" : "lora_B", " but no ", a.defined() ? "lora_B" : "lora_A");
    const int64_t r = out.config.rank_for(module);
    VG_CHECK(a.rank() == 2 && b.rank() == 2 && a.size(0) == b.size(1), kComponent, dir, ": module '", module,
             "' has lora_A ", a.shape(), " and lora_B ", b.shape(), "; expected [r, in] and [out, r]");
    VG_CHECK(a.size(0) == r, kComponent, dir, ": module '", module, "' has rank ", a.size(0), " but ",
             kConfigFile, " says r = ", r);
    models::LoraAdapter adapter;
    // Owned f32 copies: the file's mapping can go, and training can continue from them.
    adapter.a = a.to(DType::F32).contiguous().clone();
    adapter.b = b.to(DType::F32).contiguous().clone();
    adapter.scale = out.config.scale_for(module);
    out.adapters[module + ".weight"] = std::move(adapter);
  }
  return out;
}

void check_adapter_fits(const PeftAdapter& adapter, const std::map<std::string, Shape>& weights,
                        const std::string& what) {
  for (const auto& [weight_name, a] : adapter.adapters) {
    auto it = weights.find(weight_name);
    VG_CHECK(it != weights.end(), kComponent, adapter.dir, ": the adapter has weights for module '",
             module_name_of(weight_name), "', which ", what, " does not have (no linear weight '", weight_name,
             "'); the adapter was made for another model",
             weight_name.find("k_proj") != std::string::npos || weight_name.find("v_proj") != std::string::npos
                 ? " (KV-consumer layers have no k_proj/v_proj)"
                 : "");
    const Shape& w = it->second;
    VG_CHECK(w.rank() == 2 && a.b.size(0) == w[0] && a.a.size(1) == w[1], kComponent, adapter.dir, ": module '",
             module_name_of(weight_name), "' has lora_A ", a.a.shape(), " and lora_B ", a.b.shape(),
             " but the base weight in ", what, " is ", w, " ([out, in] needs lora_A [r, in], lora_B [out, r])");
  }
}

std::map<std::string, Shape> linear_weight_shapes(const gemma3n::Model& model) {
  std::map<std::string, Shape> out;
  for (const models::Linear* l : model_linear_layers(model)) out[l->name] = l->weight.shape();
  return out;
}

models::LoraSet load_peft_adapter(const std::string& dir, const gemma3n::Model& model, std::optional<DType> dtype) {
  PeftAdapter adapter = read_peft_adapter(dir);
  check_adapter_fits(adapter, linear_weight_shapes(model), "the model");
  const DType target = dtype.value_or(model.dtype());
  NoGradGuard no_grad;
  models::LoraSet set;
  set.dropout = adapter.config.lora_dropout;
  set.training = false;
  for (auto& [name, a] : adapter.adapters) {
    // Converted on the host, then moved to where the model computes.
    a.a = a.a.to(target).to(model.device());
    a.b = a.b.to(target).to(model.device());
    set.add(name, std::move(a));
  }
  return set;
}

}  // namespace vg::train
