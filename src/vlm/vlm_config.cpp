#include "vlm/vlm_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "data/qved.h"
#include "io/mapped_file.h"
#include "vlm/device_choice.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::set<std::string> kPathKeys = {"language_model", "tokenizer", "clip", "videomamba",
                                         "image_projector", "video_projector", "lora"};
const std::set<std::string> kOtherKeys = {"videomamba_bidirectional", "frames", "reference_sampling",
                                          "system_prompt", "prompt", "max_length", "device", "dtype",
                                          "comment"};

std::string resolve(const fs::path& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

std::string relative(const fs::path& base, const std::string& p) {
  if (p.empty()) return p;
  const fs::path rel = fs::absolute(p).lexically_normal().lexically_relative(base);
  return rel.empty() || *rel.begin() == ".." ? fs::absolute(p).lexically_normal().string() : rel.string();
}

}  // namespace

VlmConfig VlmConfig::load(const std::string& path) {
  std::error_code ec;
  VG_CHECK(fs::is_regular_file(path, ec), "config", path, ": model config not found");
  json doc;
  try {
    doc = json::parse(io::read_text_file(path));
  } catch (const json::exception& e) {
    throw Error("config", str(path, " is not valid JSON: ", e.what()));
  }
  VG_CHECK(doc.is_object(), "config", path, " is not a JSON object");
  const fs::path base = fs::path(path).parent_path();
  VlmConfig c;
  c.source = path;
  auto text = [&](const std::string& key, std::string& out) {
    if (!doc.contains(key) || doc[key].is_null()) return;
    VG_CHECK(doc[key].is_string(), "config", path, ": \"", key, "\" should be a string, found ", doc[key].dump());
    out = doc[key].get<std::string>();
  };
  for (const auto& [key, value] : doc.items()) {
    VG_CHECK(kPathKeys.count(key) || kOtherKeys.count(key), "config", path, ": unknown key \"", key,
             "\" (known: language_model, tokenizer, clip, videomamba, videomamba_bidirectional, image_projector, "
             "video_projector, lora, frames, reference_sampling, system_prompt, prompt, max_length, device, dtype)");
  }
  for (const std::string& key : kPathKeys) {
    std::string value;
    text(key, value);
    value = resolve(base, value);
    if (key == "language_model") c.language_model = value;
    if (key == "tokenizer") c.tokenizer = value;
    if (key == "clip") c.clip = value;
    if (key == "videomamba") c.videomamba = value;
    if (key == "image_projector") c.image_projector = value;
    if (key == "video_projector") c.video_projector = value;
    if (key == "lora") c.lora = value;
  }
  text("system_prompt", c.system_prompt);
  text("prompt", c.prompt);
  text("device", c.device);
  text("dtype", c.dtype);
  if (doc.contains("frames")) {
    VG_CHECK(doc["frames"].is_number_integer(), "config", path, ": \"frames\" should be 8 or 16");
    c.frames = doc["frames"].get<int>();
  }
  VG_CHECK(c.frames == 8 || c.frames == 16, "config", path, ": \"frames\" should be 8 or 16, found ", c.frames);
  for (const char* key : {"videomamba_bidirectional", "reference_sampling"}) {
    if (!doc.contains(key)) continue;
    VG_CHECK(doc[key].is_boolean(), "config", path, ": \"", key, "\" should be true or false");
    (std::string(key) == "reference_sampling" ? c.reference_sampling : c.videomamba_bidirectional) = doc[key].get<bool>();
  }
  if (doc.contains("max_length")) {
    VG_CHECK(doc["max_length"].is_number_integer() && doc["max_length"].get<int64_t>() > 0, "config", path,
             ": \"max_length\" should be a positive integer");
    c.max_length = doc["max_length"].get<int64_t>();
  }
  (void)c.compute_device();  // throws for an unknown device, naming the key
  check_compute_dtype_name(c.dtype, "config", str(path, ": \"dtype\""), "the device's default");
  for (const auto& [key, value] : {std::pair{"language_model", &c.language_model}, {"clip", &c.clip}, {"videomamba", &c.videomamba}}) {
    VG_CHECK(!value->empty(), "config", path, ": \"", key, "\" is required");
  }
  return c;
}

void VlmConfig::save(const std::string& path) const {
  const fs::path base = fs::absolute(fs::path(path)).parent_path();
  nlohmann::ordered_json doc;
  doc["language_model"] = relative(base, language_model);
  if (!tokenizer.empty()) doc["tokenizer"] = relative(base, tokenizer);
  doc["clip"] = relative(base, clip);
  doc["videomamba"] = relative(base, videomamba);
  doc["videomamba_bidirectional"] = videomamba_bidirectional;
  if (!image_projector.empty()) doc["image_projector"] = relative(base, image_projector);
  if (!video_projector.empty()) doc["video_projector"] = relative(base, video_projector);
  if (!lora.empty()) doc["lora"] = relative(base, lora);
  doc["frames"] = frames;
  doc["reference_sampling"] = reference_sampling;
  doc["system_prompt"] = system_prompt;
  doc["prompt"] = default_prompt();
  doc["max_length"] = max_length;
  doc["device"] = device;
  if (!dtype.empty()) doc["dtype"] = dtype;
  io::write_file_atomically(path, doc.dump(2) + "\n");
}

Device VlmConfig::compute_device() const {
  return parse_compute_device(device, "config", str(source.empty() ? "the model config" : source, ": \"device\""));
}

DType VlmConfig::compute_dtype() const {
  return parse_compute_dtype(dtype, compute_device(), "config",
                             str(source.empty() ? "the model config" : source, ": \"dtype\""));
}

const std::string& VlmConfig::default_prompt() const {
  static const std::string kQved = data::kQvedPrompt;
  return prompt.empty() ? kQved : prompt;
}

}  // namespace vg
