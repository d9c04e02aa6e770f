#include "model_options.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "core/log.h"
#include "io/mapped_file.h"
#include "vlm/device_choice.h"

namespace vg::cli {

const char* const kDeviceHelp = "where the model runs: cpu (default), cuda or cuda:N";
const char* const kDtypeHelp =
    "compute dtype: f32 (default) or f64 on the cpu; bf16 (default), f16 or f32 on cuda";

void ModelOptions::add_to(CLI::App& cmd) {
  cmd.add_option("--model", model, "Gemma 3n checkpoint folder (config.json + safetensors)")->required();
  cmd.add_option("--tokenizer", tokenizer, "tokenizer.json (default: the one in the model folder)");
  cmd.add_option("--device", device, kDeviceHelp);
  cmd.add_option("--dtype", dtype, kDtypeHelp);
  cmd.add_option("--ffn-widths", ffn_widths, "MatFormer: FFN width of each kept layer, e.g. \"2048*4,2048*8\"");
  cmd.add_option("--skip-layers", skip_layers, "MatFormer: layers to drop, e.g. \"20,21,22,23,24\"");
}

gemma3n::Model ModelOptions::load_model() const {
  gemma3n::LoadOptions options;
  options.device = parse_compute_device(device.empty() ? "cpu" : device, "cli", "--device");
  options.dtype = parse_compute_dtype(dtype, options.device, "cli", "--dtype");
  require_device(options.device);
  if (!ffn_widths.empty()) options.slice.ffn_widths = gemma3n::parse_width_list(ffn_widths);
  if (!skip_layers.empty()) options.slice.skip_layers = gemma3n::parse_index_list(skip_layers);
  const auto start = std::chrono::steady_clock::now();
  gemma3n::Model m = gemma3n::Model::load(model, options);
  logging::info("loaded ", model, " in ",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s");
  return m;
}

void ModelOptions::override(VlmConfig& config) const { override_device(config, device, dtype); }

void override_device(VlmConfig& config, const std::string& device, const std::string& dtype) {
  if (!device.empty()) {
    (void)parse_compute_device(device, "cli", "--device");
    config.device = device;
  }
  if (!dtype.empty()) {
    (void)parse_compute_dtype(dtype, config.compute_device(), "cli", "--dtype");
    config.dtype = dtype;
  }
}

std::optional<text::Tokenizer> ModelOptions::load_tokenizer() const {
  if (!tokenizer.empty()) return text::Tokenizer::load(tokenizer);
  const std::string bundled = (std::filesystem::path(model) / "tokenizer.json").string();
  if (io::file_exists(bundled)) return text::Tokenizer::load(bundled);
  return std::nullopt;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(at, comma - at);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    VG_CHECK(!item.empty() && *end == '\0' && v >= 0 && v <= INT32_MAX, "cli", "'", item,
             "' in --ids is not a token id (use a comma-separated list like 2,17,300)");
    ids.push_back(static_cast<int32_t>(v));
    at = comma + 1;
  }
  return ids;
}

}  // namespace vg::cli
