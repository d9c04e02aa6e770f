// Scratch folders and synthetic clips for tests that need files on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/tensor.h"

namespace vg::testing {

// A fresh folder under the system temp folder, removed with everything in it.
class ScratchFolder {
 public:
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Frame k of a test clip, u8 [h, w, 3]: colour ramps that shift with k, so every frame differs.
Tensor ramp_frame(int64_t k, int64_t height = 48, int64_t width = 64);

// Writes frames 0..count-1 of ramp_frame at `fps` losslessly (FFV1 in Matroska), so a reader
// returns exactly ramp_frame(k) for frame k. Needs a build with media (media::can_encode(FFV1)).
void write_ramp_clip(const std::string& path, int64_t count, double fps);

}  // namespace vg::testing
