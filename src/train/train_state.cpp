#include "train/train_state.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "ops/ops.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kStateFile = "trainer_state.json";

std::string step_folder(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%06lld", static_cast<long long>(step));
  return buf;
}

json to_json(const HistoryEntry& h) {
  json j = {{"step", h.step}, {"loss", h.loss}, {"lr", h.lr}, {"grad_norm", h.grad_norm}, {"tokens", h.tokens},
            {"seconds", h.seconds}};
  if (h.val_loss) j["val_loss"] = *h.val_loss;
  if (h.skipped) j["skipped"] = true;
  return j;
}

HistoryEntry history_from_json(const json& j) {
  HistoryEntry h;
  h.step = j.at("step").get<int64_t>();
  // Non-finite losses are written as null by nlohmann::json.
  auto number = [&](const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN; };
  h.loss = number("loss");
  h.lr = number("lr");
  h.grad_norm = number("grad_norm");
  h.tokens = j.value("tokens", int64_t{0});
  h.seconds = number("seconds");
  if (j.contains("val_loss") && j["val_loss"].is_number()) h.val_loss = j["val_loss"].get<double>();
  h.skipped = j.value("skipped", false);
  return h;
}

}  // namespace

void save_checkpoint(const std::string& output, const TrainState& state, const std::vector<NamedParameter>& trainable,
                     const AdamW& optimizer, int64_t keep) {
  const fs::path root = fs::path(output) / "checkpoints";
  fs::create_directories(root);
  const fs::path final_dir = root / step_folder(state.step);
  const fs::path temp_dir = root / (step_folder(state.step) + ".partial");
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  fs::create_directories(temp_dir);

  std::map<std::string, Tensor> tensors;
  for (const NamedParameter& p : trainable) tensors[p.name] = p.tensor;
  io::save_safetensors((temp_dir / "trainable.safetensors").string(), tensors);
  optimizer.save((temp_dir / "optimizer.safetensors").string());
  json history = json::array();
  for (const HistoryEntry& h : state.history) history.push_back(to_json(h));
  json doc = {{"step", state.step},
              {"rng_seed", state.rng_seed},
              {"rng_offset", state.rng_offset},
              {"fingerprint", state.fingerprint},
              {"seconds", state.seconds},
              {"history", history}};
  if (!state.rank_rng.empty()) doc["rank_rng"] = state.rank_rng;  // [[seed, offset], ...]
  io::write_file_atomically((temp_dir / kStateFile).string(), doc.dump(1) + "\n");
  // The state file goes last: a folder without it was never finished.
  fs::remove_all(final_dir, ec);
  fs::rename(temp_dir, final_dir);

  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 && name.find('.') == std::string::npos) all.push_back(entry.path());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(keep, 1)) < all.size(); ++i) fs::remove_all(all[i], ec);
}

std::optional<std::string> latest_checkpoint(const std::string& output) {
  const fs::path root = fs::path(output) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return std::nullopt;
  std::vector<fs::path> complete;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind("step-", 0) != 0 || name.find('.') != std::string::npos) continue;
    if (fs::exists(entry.path() / kStateFile, ec)) complete.push_back(entry.path());
  }
  if (complete.empty()) return std::nullopt;
  std::sort(complete.begin(), complete.end());
  return complete.back().string();
}

TrainState load_checkpoint(const std::string& dir, const std::vector<NamedParameter>& trainable, AdamW& optimizer) {
  const fs::path root(dir);
  TrainState state;
  json doc;
  try {
    doc = json::parse(io::read_text_file((root / kStateFile).string()));
    state.step = doc.at("step").get<int64_t>();
    state.rng_seed = doc.at("rng_seed").get<uint64_t>();
    state.rng_offset = doc.at("rng_offset").get<uint64_t>();
    state.fingerprint = doc.at("fingerprint").get<std::string>();
    state.seconds = doc.value("seconds", 0.0);
    for (const json& h : doc.at("history")) state.history.push_back(history_from_json(h));
    if (doc.contains("rank_rng")) state.rank_rng = doc["rank_rng"].get<std::vector<std::pair<uint64_t, uint64_t>>>();
  } catch (const json::exception& e) {
    throw Error("train", str(dir, ": ", kStateFile, " is damaged (", e.what(), "); delete this checkpoint to resume from an older one"));
  }
  // Everything is read and checked before anything is changed: a damaged part leaves the model
  // and the optimizer as they were.
  io::SafetensorsFile weights = io::SafetensorsFile::open((root / "trainable.safetensors").string());
  std::vector<Tensor> saved;
  for (const NamedParameter& p : trainable) {
    VG_CHECK(weights.contains(p.name), "train", dir, ": the checkpoint has no '", p.name,
             "': it was written by a run that trained other tensors");
    saved.push_back(weights.get(p.name));
    VG_CHECK(saved.back().shape() == p.tensor.shape(), "train", dir, ": '", p.name, "' is ", saved.back().shape(),
             " in the checkpoint but ", p.tensor.shape(), " in the model");
  }
  optimizer.load((root / "optimizer.safetensors").string());  // validates fully, then replaces its state
  NoGradGuard no_grad;
  for (size_t i = 0; i < trainable.size(); ++i) copy_(trainable[i].tensor, saved[i]);
  return state;
}

}  // namespace vg::train
