#include "train/feature_cache.h"

#include <filesystem>

#include "core/log.h"
#include "io/safetensors.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

FeatureCache::FeatureCache(const VisualEncoder& encoder, VisualParts parts, std::string folder)
    : encoder_(encoder), parts_(parts), folder_(std::move(folder)) {
  if (!folder_.empty()) {
    std::error_code ec;
    fs::create_directories(folder_, ec);
    VG_CHECK(!ec, "train", "cannot create the feature cache folder ", folder_, ": ", ec.message());
  }
}

std::string FeatureCache::key(const std::string& media_path) const {
  // The file's identity (path, size, modification time) and what was computed from it.
  std::error_code ec;
  const auto size = fs::file_size(media_path, ec);
  const auto time = fs::last_write_time(media_path, ec).time_since_epoch().count();
  // Towers computing in another dtype than f32 give other features (f32 keeps the keys that
  // caches written before the dtype was part of them hold).
  const std::string dtype = encoder_.dtype() == DType::F32 ? "" : str("|dtype ", encoder_.dtype());
  return str(fs::absolute(media_path).lexically_normal().string(), "|", size, "|", time, "|parts ",
             static_cast<int>(parts_), "|frames ", encoder_.options().frames, "|reference ",
             encoder_.options().reference_sampling, dtype);
}

ClipFeatures FeatureCache::get(const std::string& media_path) {
  const std::string k = key(media_path);
  if (auto it = memory_.find(k); it != memory_.end()) {
    ++reused_;
    return it->second;
  }
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.safetensors", static_cast<unsigned long long>(fnv1a(k)));
  const std::string file = folder_.empty() ? "" : (fs::path(folder_) / name).string();
  std::error_code ec;
  if (!file.empty() && fs::exists(file, ec)) {
    try {
      io::SafetensorsFile f = io::SafetensorsFile::open(file);
      if (f.metadata().count("key") && f.metadata().at("key") == k) {
        ClipFeatures out;
        if (f.contains("clip")) out.clip = f.get("clip").clone();
        if (f.contains("videomamba")) out.videomamba = f.get("videomamba").clone();
        ++reused_;
        return out;
      }
    } catch (const Error& e) {
      logging::warn("feature cache: ", e.what(), "; encoding ", media_path, " again");
    }
  }

  VisualEncoding e = encoder_.encode_video(media_path, parts_);
  ClipFeatures out;
  const Device host = Device::cpu();
  if (parts_ != VisualParts::VideoOnly) {
    // A still image is one frame: 144 CLIP tokens, as the reference's image stages see it.
    out.clip = (e.still_image ? e.clip_features.narrow(0, 0, 1).contiguous() : e.clip_features).to(host);
  }
  if (parts_ != VisualParts::ImageOnly) out.videomamba = e.videomamba_features.to(host);
  ++encoded_;
  if (file.empty()) {
    memory_[k] = out;
  } else {
    std::map<std::string, Tensor> tensors;
    if (out.clip.defined()) tensors["clip"] = out.clip;
    if (out.videomamba.defined()) tensors["videomamba"] = out.videomamba;
    io::save_safetensors(file, tensors, {{"key", k}});
  }
  return out;
}

}  // namespace vg::train
