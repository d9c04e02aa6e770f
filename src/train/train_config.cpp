#include "train/train_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/mapped_file.h"
#include "train/lr_schedule.h"
#include "vlm/device_choice.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Reader {
 public:
  Reader(const json& doc, std::string path) : doc_(doc), path_(std::move(path)) {}

  template <class T>
  void number(const char* key, T& out, bool positive = false) {
    if (!doc_.contains(key)) return;
    const json& v = doc_[key];
    VG_CHECK(v.is_number(), "train", path_, ": \"", key, "\" should be a number, found ", v.dump());
    if constexpr (std::is_integral_v<T>) {
      VG_CHECK(v.is_number_integer(), "train", path_, ": \"", key, "\" should be a whole number, found ", v.dump());
    }
    out = v.get<T>();
    VG_CHECK(!positive || out > 0, "train", path_, ": \"", key, "\" should be positive, found ", v.dump());
  }
  void text(const char* key, std::string& out) {
    if (!doc_.contains(key) || doc_[key].is_null()) return;
    VG_CHECK(doc_[key].is_string(), "train", path_, ": \"", key, "\" should be a string, found ", doc_[key].dump());
    out = doc_[key].get<std::string>();
  }
  void flag(const char* key, bool& out) {
    if (!doc_.contains(key)) return;
    VG_CHECK(doc_[key].is_boolean(), "train", path_, ": \"", key, "\" should be true or false");
    out = doc_[key].get<bool>();
  }

 private:
  const json& doc_;
  std::string path_;
};

std::string resolve(const fs::path& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

// A registry name (letters, digits, underscores, no path separators or dots) stays as written.
bool looks_like_a_name(const std::string& s) {
  return !s.empty() && s.find_first_of("/.\\") == std::string::npos;
}

}  // namespace

TrainConfig TrainConfig::load(const std::string& path) {
  std::error_code ec;
  VG_CHECK(fs::is_regular_file(path, ec), "train", path, ": training config not found");
  json doc;
  try {
    doc = json::parse(io::read_text_file(path));
  } catch (const json::exception& e) {
    throw Error("train", str(path, " is not valid JSON: ", e.what()));
  }
  VG_CHECK(doc.is_object(), "train", path, " is not a JSON object");
  static const std::set<std::string> known = {
      "model", "stage", "train_data", "val_data", "datasets", "output", "epochs", "max_steps", "batch_size",
      "gradient_accumulation", "learning_rate", "projector_learning_rate", "weight_decay", "lr_scheduler",
      "warmup_ratio", "max_grad_norm", "lora", "train_projectors", "gradient_checkpointing", "max_length",
      "eval_every", "eval_samples", "save_every", "keep_checkpoints", "seed", "bad_records", "feature_cache", "device",
      "dtype", "comment"};
  for (const auto& [key, value] : doc.items()) {
    VG_CHECK(known.count(key), "train", path, ": unknown key \"", key, "\" (docs/training.md lists the keys)");
  }
  TrainConfig c;
  c.source = path;
  Reader r(doc, path);
  r.text("model", c.model);
  r.number("stage", c.stage);
  r.text("train_data", c.train_data);
  r.text("val_data", c.val_data);
  r.text("datasets", c.datasets);
  r.text("output", c.output);
  r.number("epochs", c.epochs, true);
  r.number("max_steps", c.max_steps);
  r.number("batch_size", c.batch_size, true);
  r.number("gradient_accumulation", c.gradient_accumulation, true);
  r.number("learning_rate", c.learning_rate);
  r.number("projector_learning_rate", c.projector_learning_rate);
  r.number("weight_decay", c.weight_decay);
  r.text("lr_scheduler", c.lr_scheduler);
  r.number("warmup_ratio", c.warmup_ratio);
  r.number("max_grad_norm", c.max_grad_norm);
  r.flag("train_projectors", c.train_projectors);
  r.flag("gradient_checkpointing", c.gradient_checkpointing);
  r.number("max_length", c.max_length);
  r.number("eval_every", c.eval_every);
  r.number("eval_samples", c.eval_samples);
  r.number("save_every", c.save_every);
  r.number("keep_checkpoints", c.keep_checkpoints, true);
  r.number("seed", c.seed);
  r.text("feature_cache", c.feature_cache);
  r.text("device", c.device);
  r.text("dtype", c.dtype);
  std::string bad = "skip";
  r.text("bad_records", bad);
  VG_CHECK(bad == "skip" || bad == "reject", "train", path, ": \"bad_records\" should be \"skip\" or \"reject\"");
  c.bad_records = bad == "skip" ? data::BadRecordPolicy::Skip : data::BadRecordPolicy::Reject;
  if (doc.contains("lora")) {
    const json& l = doc["lora"];
    VG_CHECK(l.is_object(), "train", path, ": \"lora\" should be an object {\"r\", \"alpha\", \"dropout\", \"targets\"}");
    for (const auto& [key, value] : l.items()) {
      VG_CHECK(key == "r" || key == "alpha" || key == "dropout" || key == "targets", "train", path,
               ": unknown key \"lora.", key, "\"");
    }
    Reader lr(l, path + ": lora");
    lr.number("r", c.lora.r, true);
    lr.number("alpha", c.lora.alpha, true);
    lr.number("dropout", c.lora.dropout);
    if (l.contains("targets")) {
      VG_CHECK(l["targets"].is_array() && !l["targets"].empty(), "train", path, ": \"lora.targets\" should be a list of names");
      c.lora.targets.clear();
      for (const json& t : l["targets"]) {
        VG_CHECK(t.is_string(), "train", path, ": \"lora.targets\" should hold strings");
        c.lora.targets.push_back(t.get<std::string>());
      }
    }
  }
  const fs::path base = fs::path(path).parent_path();
  c.model = resolve(base, c.model);
  c.datasets = resolve(base, c.datasets);
  c.output = resolve(base, c.output);
  c.feature_cache = resolve(base, c.feature_cache);
  if (!looks_like_a_name(c.train_data)) c.train_data = resolve(base, c.train_data);
  if (!looks_like_a_name(c.val_data)) c.val_data = resolve(base, c.val_data);
  return c.resolved();
}

TrainConfig TrainConfig::resolved() const {
  TrainConfig c = *this;
  const std::string where = source.empty() ? "the training config" : source;
  VG_CHECK(c.stage >= 1 && c.stage <= 3, "train", where, ": \"stage\" should be 1 (video projector), 2 (image projector) or 3 (LoRA), found ", c.stage);
  VG_CHECK(!c.model.empty(), "train", where, ": \"model\" (the model config to start from) is required");
  VG_CHECK(!c.train_data.empty(), "train", where, ": \"train_data\" is required");
  VG_CHECK(!c.output.empty(), "train", where, ": \"output\" is required");
  if (c.learning_rate <= 0) c.learning_rate = c.stage == 3 ? 2e-4 : 1e-3;
  if (c.warmup_ratio < 0) c.warmup_ratio = c.stage == 3 ? 0.05 : 0.03;
  VG_CHECK(c.warmup_ratio <= 1, "train", where, ": \"warmup_ratio\" should be within 0 .. 1");
  VG_CHECK(c.max_grad_norm >= 0 && c.weight_decay >= 0 && c.projector_learning_rate >= 0, "train", where,
           ": max_grad_norm, weight_decay and projector_learning_rate cannot be negative");
  VG_CHECK(c.lora.dropout >= 0 && c.lora.dropout < 1, "train", where, ": \"lora.dropout\" should be within [0, 1)");
  VG_CHECK(c.max_steps >= 0 && c.eval_every >= 0 && c.save_every >= 0 && c.eval_samples >= 0 && c.max_length >= 0,
           "train", where, ": step counts cannot be negative");
  parse_schedule_kind(c.lr_scheduler);  // throws for an unknown name
  // Names are checked here; whether the device takes the dtype, once the model config is read.
  if (!c.device.empty()) (void)parse_compute_device(c.device, "train", str(where, ": \"device\""));
  check_compute_dtype_name(c.dtype, "train", str(where, ": \"dtype\""), "the model config's");
  return c;
}

}  // namespace vg::train
