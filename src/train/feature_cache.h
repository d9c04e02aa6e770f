// The frozen vision towers' features of each training clip, computed once (design.md §5: the
// towers never train, so every epoch would compute the same features again). Kept in host
// memory, or in a folder of safetensors files that survives restarts (resumed runs skip the
// encoding), in the towers' dtype whatever device computed them: a GPU run keeps its bf16
// features on the host, and the projection moves each batch's to the device.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "vlm/visual_encoder.h"

namespace vg::train {

struct ClipFeatures {
  Tensor clip;        // [N, 196, Dc], or [1, 196, Dc] for a still image; undefined for VideoOnly
  Tensor videomamba;  // [8, 196, Dv]; undefined for ImageOnly
};

class FeatureCache {
 public:
  // `folder` empty: memory only. The encoder must outlive the cache.
  FeatureCache(const VisualEncoder& encoder, VisualParts parts, std::string folder = "");

  // The features of a video or image file (host tensors), encoding it on first use.
  ClipFeatures get(const std::string& media_path);

  int64_t encoded() const { return encoded_; }    // clips run through the towers
  int64_t reused() const { return reused_; }      // served from memory or disk

 private:
  std::string key(const std::string& media_path) const;

  const VisualEncoder& encoder_;
  VisualParts parts_;
  std::string folder_;
  std::map<std::string, ClipFeatures> memory_;
  int64_t encoded_ = 0, reused_ = 0;
};

}  // namespace vg::train
