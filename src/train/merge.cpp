#include "train/merge.h"


#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"
#include "io/checkpoint.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "ops/ops.h"
#include "train/lora.h"
#include "train/peft_adapter.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kComponent = "lora";

// Weights in other formats are not copied: the merged safetensors replace them.
bool is_weight_file(const std::string& name) {
  for (const char* ext : {".safetensors", ".safetensors.index.json", ".bin", ".bin.index.json", ".pt", ".pth",
                          ".gguf", ".ckpt", ".h5", ".msgpack"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

const char* torch_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "float32";
    case DType::F64:
      return "float64";
    case DType::BF16:
      return "bfloat16";
    case DType::F16:
      return "float16";
    default:
      throw Error(kComponent, str("cannot write merged weights as ", dtype, " (f32, f64, bf16 or f16)"));
  }
}

// config.json with "dtype" (transformers 5.x) / "torch_dtype" (4.x) set to the new dtype, at the
// top and in each nested *_config that carries one.
std::string retyped_config(const std::string& text, const std::string& path, DType dtype) {
  json c;
  try {
    c = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(kComponent, str(path, ": not valid JSON: ", e.what()));
  }
  auto retype = [&](json& obj) {
    for (const char* key : {"dtype", "torch_dtype"}) {
      if (obj.contains(key)) obj[key] = torch_dtype_name(dtype);
    }
  };
  if (!c.is_object()) throw Error(kComponent, str(path, ": expected a JSON object"));
  retype(c);
  if (!c.contains("dtype") && !c.contains("torch_dtype")) c["dtype"] = torch_dtype_name(dtype);
  for (auto& [key, value] : c.items()) {
    if (key.ends_with("_config") && value.is_object()) retype(value);
  }
  return c.dump(2) + "\n";
}

// transformers' shard file names: model.safetensors alone, else model-00001-of-00003.safetensors.
std::string shard_name(size_t index, size_t count) {
  if (count == 1) return "model.safetensors";
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return buf;
}

// huggingface_hub's split_state_dict_into_shards: tensors in order, a new shard when the next
// tensor would pass the limit, a tensor larger than the limit alone in its own shard.
std::vector<std::vector<std::string>> plan_shards(const std::vector<std::pair<std::string, int64_t>>& sizes,
                                                  int64_t max_bytes) {
  std::vector<std::vector<std::string>> shards;
  std::vector<std::string> current;
  int64_t current_bytes = 0;
  for (const auto& [name, bytes] : sizes) {
    if (bytes > max_bytes) {
      shards.push_back({name});
      continue;
    }
    if (current_bytes + bytes > max_bytes) {
      shards.push_back(std::move(current));
      current.clear();
      current_bytes = 0;
    }
    current.push_back(name);
    current_bytes += bytes;
  }
  if (!current.empty()) shards.push_back(std::move(current));
  return shards;
}

template <class Fn>
void for_each_linear(gemma3n::Weights& w, Fn&& fn) {
  for (gemma3n::LayerWeights& l : w.layers) {
    for (models::Linear* layer : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down, &l.laurel_left, &l.laurel_right,
                                  &l.ple_gate, &l.ple_projection}) {
      if (layer->weight.defined()) fn(*layer);
    }
  }
  fn(w.per_layer_model_projection);
  for (models::Linear& p : w.altup_projections) fn(p);
  for (models::Linear& p : w.altup_unembed_projections) fn(p);
}

}  // namespace

Tensor merge_weight(const Tensor& weight, const models::LoraAdapter& adapter, DType dtype) {
  VG_CHECK(weight.rank() == 2 && adapter.a.rank() == 2 && adapter.b.rank() == 2 &&
               adapter.b.size(0) == weight.size(0) && adapter.a.size(1) == weight.size(1) &&
               adapter.a.size(0) == adapter.b.size(1),
           kComponent, "cannot merge lora_A ", adapter.a.shape(), " and lora_B ", adapter.b.shape(), " into a weight ",
           weight.shape());
  NoGradGuard no_grad;
  const DType compute = dtype == DType::F64 ? DType::F64 : DType::F32;
  // get_delta_weight: (B @ A) * scaling in the adapters' f32, then base += delta with promotion.
  Tensor delta = mul(matmul(adapter.b.to(compute), adapter.a.to(compute)), adapter.scale);
  return add(weight.to(compute), delta).to(dtype).contiguous();
}

void merge_into_model(gemma3n::Model& model, const models::LoraSet& lora) {
  NoGradGuard no_grad;
  size_t merged = 0;
  for_each_linear(model.weights(), [&](models::Linear& layer) {
    const models::LoraAdapter* adapter = lora.find(layer.name);
    if (adapter == nullptr) return;
    layer.weight = merge_weight(layer.weight, *adapter, layer.weight.dtype());
    ++merged;
  });
  if (merged == lora.adapters().size()) return;
  for (const auto& [name, adapter] : lora.adapters()) {
    (void)adapter;
    bool found = false;
    for_each_linear(model.weights(), [&](models::Linear& layer) { found = found || layer.name == name; });
    VG_CHECK(found, kComponent, "cannot merge the adapter for '", name, "': the model has no such linear layer");
  }
}

MergeSummary merge_checkpoint(const std::string& base_dir, const std::string& adapter_dir, const std::string& out_dir,
                              const MergeOptions& options) {
  VG_CHECK(io::is_directory(base_dir), kComponent, "base model '", base_dir,
           "' is not a folder (a Hugging Face checkpoint folder with config.json and safetensors)");
  VG_CHECK(io::file_exists((fs::path(base_dir) / "config.json").string()), kComponent, base_dir,
           ": config.json is missing (not a Hugging Face checkpoint folder)");
  VG_CHECK(options.max_shard_bytes > 0, kComponent, "the shard size must be positive");
  if (options.dtype) (void)torch_dtype_name(*options.dtype);
  {
    std::error_code ec;
    const bool empty_or_absent = !fs::exists(out_dir) || (fs::is_directory(out_dir) && fs::is_empty(out_dir, ec));
    VG_CHECK(empty_or_absent, kComponent, "output folder '", out_dir,
             "' already exists and is not empty; choose a new folder");
  }

  const io::Checkpoint base = io::Checkpoint::open(base_dir);
  PeftAdapter adapter = read_peft_adapter(adapter_dir);
  std::map<std::string, Shape> shapes;
  for (const std::string& name : base.names()) {
    const io::TensorInfo& info = base.info(name);
    if (info.shape.rank() == 2 && is_floating(info.dtype)) shapes[name] = info.shape;
  }
  check_adapter_fits(adapter, shapes, "the checkpoint " + base_dir);

  // Every tensor in name order with the size it will have once written.
  auto out_dtype = [&](const io::TensorInfo& info) {
    return options.dtype && is_floating(info.dtype) ? *options.dtype : info.dtype;
  };
  std::vector<std::pair<std::string, int64_t>> sizes;
  int64_t total_bytes = 0;
  for (const std::string& name : base.names()) {
    const io::TensorInfo& info = base.info(name);
    const int64_t bytes = dtype_nbytes(out_dtype(info), numel(info.shape));
    sizes.emplace_back(name, bytes);
    total_bytes += bytes;
  }
  const std::vector<std::vector<std::string>> shards = plan_shards(sizes, options.max_shard_bytes);

  const fs::path target(out_dir);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const fs::path tmp = fs::path(io::temporary_sibling(target.string()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);

  MergeSummary summary;
  try {
    NoGradGuard no_grad;
    json weight_map = json::object();
    for (size_t s = 0; s < shards.size(); ++s) {
      // One shard's tensors at a time: merged weights are materialised only while written.
      std::map<std::string, Tensor> tensors;
      const std::string file = shard_name(s, shards.size());
      for (const std::string& name : shards[s]) {
        const io::TensorInfo& info = base.info(name);
        Tensor t = base.get(name);
        auto it = adapter.adapters.find(name);
        if (it != adapter.adapters.end()) {
          t = merge_weight(t, it->second, out_dtype(info));
          ++summary.merged_weights;
        } else if (out_dtype(info) != info.dtype) {
          t = t.to(out_dtype(info));
        }
        tensors[name] = t;
        weight_map[name] = file;
        ++summary.tensors;
      }
      io::save_safetensors((tmp / file).string(), tensors, {{"format", "pt"}});
      ++summary.files;
    }
    summary.bytes = total_bytes;
    if (shards.size() > 1) {
      json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
      io::write_file_atomically((tmp / "model.safetensors.index.json").string(), index.dump(2) + "\n");
    }
    for (const fs::directory_entry& entry : fs::directory_iterator(base_dir)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file() || is_weight_file(name)) continue;
      std::string text = io::read_text_file(entry.path().string());
      if (name == "config.json" && options.dtype) text = retyped_config(text, entry.path().string(), *options.dtype);
      io::write_file_atomically((tmp / name).string(), text);
      summary.copied_files.push_back(name);
    }
    if (fs::exists(target)) fs::remove(target);  // an empty folder (checked above)
    fs::rename(tmp, target);
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    if (const auto* err = dynamic_cast<const Error*>(&e)) throw *err;
    throw Error(kComponent, str("cannot write the merged checkpoint to ", out_dir, ": ", e.what()));
  }
  return summary;
}

}  // namespace vg::train
