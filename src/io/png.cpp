#include "io/png.h"

#include <array>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "io/mapped_file.h"

namespace vg::io {
namespace {

uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put32(out, crc32(out.data() + start, out.size() - start));
}

}  // namespace

void write_png(const std::string& path, const Tensor& rgb) {
  VG_CHECK(rgb.dtype() == DType::U8 && rgb.rank() == 3 && rgb.size(2) == 3, "png", path,
           ": expected u8 [H, W, 3] pixels, got ", rgb.describe());
  const int64_t H = rgb.size(0), W = rgb.size(1);
  VG_CHECK(H >= 1 && W >= 1 && H <= 16384 && W <= 16384, "png", path, ": ", W, "x", H, " is not a size PNG files here take");
  const Tensor pixels = rgb.contiguous();
  const uint8_t* p = pixels.data<uint8_t>();

  // Scanlines, each with filter byte 0 (none).
  std::vector<uint8_t> raw;
  raw.reserve(static_cast<size_t>(H * (W * 3 + 1)));
  for (int64_t y = 0; y < H; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), p + y * W * 3, p + (y + 1) * W * 3);
  }
  // zlib: header, stored blocks of at most 65535 bytes, Adler-32 of the raw data.
  std::vector<uint8_t> z = {0x78, 0x01};
  uint32_t a = 1, b = 0;
  for (uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  for (size_t at = 0; at < raw.size() || raw.empty(); at += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - at);
    z.push_back(at + n >= raw.size() ? 1 : 0);  // BFINAL, BTYPE 00
    z.push_back(static_cast<uint8_t>(n & 0xff));
    z.push_back(static_cast<uint8_t>(n >> 8));
    z.push_back(static_cast<uint8_t>(~n & 0xff));
    z.push_back(static_cast<uint8_t>((~n >> 8) & 0xff));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(at), raw.begin() + static_cast<std::ptrdiff_t>(at + n));
    if (raw.empty()) break;
  }
  put32(z, (b << 16) | a);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> header;
  put32(header, static_cast<uint32_t>(W));
  put32(header, static_cast<uint32_t>(H));
  header.insert(header.end(), {8, 2, 0, 0, 0});  // 8-bit, truecolour, deflate, adaptive filters, no interlace
  chunk(png, "IHDR", header);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  write_file_atomically(path, png.data(), png.size());
}

}  // namespace vg::io
