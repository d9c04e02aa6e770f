// Writing RGB images as PNG without any library: a valid PNG whose zlib stream uses stored
// (uncompressed) deflate blocks. Files are larger than a compressor would make them, which is
// fine for what the engine draws (loss curves, debug pictures). Written atomically.
#pragma once

#include <string>

#include "core/tensor.h"

namespace vg::io {

// rgb: u8 [H, W, 3], 1..16384 pixels on each side. Throws vg::Error("[png] ...") otherwise.
void write_png(const std::string& path, const Tensor& rgb);

}  // namespace vg::io
