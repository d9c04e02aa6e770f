// YUV4MPEG2 read and written natively. The colour arithmetic (docs/media.md, ".y4m"):
// - reading: BT.601 (Kr 0.299, Kb 0.114), limited range (Y 16..235, Cb/Cr 16..240, FFmpeg's
//   assumption without XCOLORRANGE=FULL) or full range; every chroma sample is replicated over
//   the luma samples it covers (2x2 for 4:2:0, whatever its siting; 2x1 for 4:2:2); the products
//   are tables of 16-bit fixed point, summed, rounded to nearest and clamped to 0..255;
// - writing: the inverse matrix in the same fixed point, rounded and clamped; 4:2:0 chroma is
//   the rounded mean of each 2x2 block's (unrounded) chroma.
#include "media/y4m.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "io/mapped_file.h"
#include "media/video_backend.h"

namespace vg::media::y4m {
namespace {

constexpr int64_t kMaxHeaderLine = 4096;  // bytes of the header line, '\n' included
constexpr int64_t kMaxFrameLine = 1024;   // bytes of a FRAME line, '\n' included
constexpr std::string_view kFrame = "FRAME";

// A token for an error message: printable ASCII, at most 40 characters.
std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 40) out += "...";
  return out;
}

// A whole decimal number in 0..max, or -1.
int64_t parse_number(std::string_view text, int64_t max) {
  int64_t value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) return -1;
  return value;
}

// "<a>:<b>" with both in 0..INT32_MAX.
bool parse_ratio(std::string_view text, int* a, int* b) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const int64_t x = parse_number(text.substr(0, colon), INT32_MAX);
  const int64_t y = parse_number(text.substr(colon + 1), INT32_MAX);
  if (x < 0 || y < 0) return false;
  *a = static_cast<int>(x);
  *b = static_cast<int>(y);
  return true;
}

bool chroma_from_tag(std::string_view tag, Chroma* chroma) {
  for (Chroma c : {Chroma::C420jpeg, Chroma::C420paldv, Chroma::C420mpeg2, Chroma::C420, Chroma::C422, Chroma::C444,
                   Chroma::Mono}) {
    if (tag == chroma_tag(c)) {
      *chroma = c;
      return true;
    }
  }
  return false;
}

// FFmpeg's older "XYSCSS=" spelling of the colourspace, used when there is no C tag.
bool chroma_from_yscss(std::string_view value, Chroma* chroma) {
  if (value == "420JPEG")
    *chroma = Chroma::C420jpeg;
  else if (value == "420MPEG2")
    *chroma = Chroma::C420mpeg2;
  else if (value == "420PALDV")
    *chroma = Chroma::C420paldv;
  else if (value == "422")
    *chroma = Chroma::C422;
  else if (value == "444")
    *chroma = Chroma::C444;
  else
    return false;
  return true;
}

// Chroma plane size and the shift from a luma coordinate to its chroma sample.
struct ChromaGeometry {
  int width = 0, height = 0, shift_x = 0, shift_y = 0;
};

ChromaGeometry geometry(const Header& h) {
  if (h.chroma == Chroma::Mono) return {};
  if (h.chroma == Chroma::C444) return {h.width, h.height, 0, 0};
  if (h.chroma == Chroma::C422) return {(h.width + 1) / 2, h.height, 1, 0};
  return {(h.width + 1) / 2, (h.height + 1) / 2, 1, 1};
}

constexpr double kKr = 0.299, kKb = 0.114, kKg = 1 - kKr - kKb;  // BT.601
constexpr double kOne = 65536;                                   // 16-bit fixed point

int32_t fixed(double x) { return static_cast<int32_t>(std::llround(x * kOne)); }
uint8_t clamp8(int32_t v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// YUV -> RGB: R = y[Y] + rv[V], G = y[Y] + gu[U] + gv[V], B = y[Y] + bu[U], then >> 16.
struct ToRgb {
  std::array<int32_t, 256> y, rv, gu, gv, bu;
  explicit ToRgb(Range range) {
    const bool full = range == Range::Full;
    const double ys = full ? 1.0 : 255.0 / 219.0, y0 = full ? 0 : 16, cs = full ? 1.0 : 255.0 / 224.0;
    for (int v = 0; v < 256; ++v) {
      const double c = (v - 128) * cs;
      y[v] = fixed((v - y0) * ys) + static_cast<int32_t>(kOne / 2);  // the rounding half folded in
      rv[v] = fixed(2 * (1 - kKr) * c);
      gu[v] = fixed(-2 * kKb * (1 - kKb) / kKg * c);
      gv[v] = fixed(-2 * kKr * (1 - kKr) / kKg * c);
      bu[v] = fixed(2 * (1 - kKb) * c);
    }
  }
};

// RGB -> YUV: each component is offset + sum over channels of table[channel][value].
struct ToYuv {
  std::array<std::array<int32_t, 256>, 3> y, u, v;
  int32_t y_offset, c_offset;
  explicit ToYuv(Range range) {
    const bool full = range == Range::Full;
    const double ys = full ? 1.0 : 219.0 / 255.0, cs = full ? 1.0 : 224.0 / 255.0;
    const double ky[3] = {kKr, kKg, kKb};
    const double ku[3] = {-kKr / (2 * (1 - kKb)), -kKg / (2 * (1 - kKb)), 0.5};
    const double kv[3] = {0.5, -kKg / (2 * (1 - kKr)), -kKb / (2 * (1 - kKr))};
    for (int c = 0; c < 3; ++c) {
      for (int x = 0; x < 256; ++x) {
        y[c][x] = fixed(ky[c] * ys * x);
        u[c][x] = fixed(ku[c] * cs * x);
        v[c][x] = fixed(kv[c] * cs * x);
      }
    }
    y_offset = fixed(full ? 0 : 16);
    c_offset = fixed(128);
  }
};

const ToRgb& to_rgb_tables(Range r) {
  static const ToRgb limited(Range::Limited), full(Range::Full);
  return r == Range::Full ? full : limited;
}

const ToYuv& to_yuv_tables(Range r) {
  static const ToYuv limited(Range::Limited), full(Range::Full);
  return r == Range::Full ? full : limited;
}

std::string system_error() { return std::strerror(errno); }

}  // namespace

const char* chroma_tag(Chroma chroma) {
  switch (chroma) {
    case Chroma::C420jpeg: return "420jpeg";
    case Chroma::C420paldv: return "420paldv";
    case Chroma::C420mpeg2: return "420mpeg2";
    case Chroma::C420: return "420";
    case Chroma::C422: return "422";
    case Chroma::C444: return "444";
    case Chroma::Mono: return "mono";
  }
  return "?";
}

int64_t frame_bytes(const Header& h) {
  const ChromaGeometry g = geometry(h);
  return static_cast<int64_t>(h.width) * h.height + 2 * static_cast<int64_t>(g.width) * g.height;
}

Header parse_header(std::string_view line, const std::string& path) {
  const auto fail = [&](const std::string& message) { throw Error("media", path + ": " + message); };
  if (line.substr(0, kMagic.size()) != kMagic) {
    fail("not a YUV4MPEG2 file: it does not start with 'YUV4MPEG2 ' (found '" + shown(line.substr(0, 10)) + "')");
  }
  Header h;
  bool has_width = false, has_height = false, has_chroma = false;
  Chroma yscss = Chroma::C420jpeg;
  bool has_yscss = false;
  std::string_view rest = line.substr(kMagic.size());
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    const std::string_view token = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (token.empty()) continue;
    const std::string_view value = token.substr(1);
    switch (token[0]) {
      case 'W':
      case 'H': {
        const int64_t n = parse_number(value, kMaxSize);
        const bool width = token[0] == 'W';
        if (n < 1) {
          fail(std::string(width ? "width" : "height") + " '" + shown(token) + "' is not a number in 1.." +
               std::to_string(kMaxSize));
        }
        (width ? h.width : h.height) = static_cast<int>(n);
        (width ? has_width : has_height) = true;
        break;
      }
      case 'F': {
        int num = 0, den = 0;
        if (!parse_ratio(value, &num, &den)) fail("frame rate '" + shown(token) + "' is not F<num>:<den>");
        if (num > 0 && den > 0) {  // 0:0 means unknown: keep 25:1
          h.fps_num = num;
          h.fps_den = den;
        } else {
          h.fps_num = 25;
          h.fps_den = 1;
        }
        break;
      }
      case 'I':
        if (value.size() != 1 || std::string_view("ptbm?").find(value[0]) == std::string_view::npos) {
          fail("interlacing '" + shown(token) + "' is not Ip, It, Ib, Im or I?");
        }
        h.interlace = value[0];
        break;
      case 'A':
        if (!parse_ratio(value, &h.aspect_num, &h.aspect_den)) {
          fail("pixel aspect '" + shown(token) + "' is not A<num>:<den>");
        }
        break;
      case 'C':
        if (!chroma_from_tag(value, &h.chroma)) {
          fail("colourspace '" + shown(token) +
               "' is not supported: videogemma reads the 8-bit colourspaces C420jpeg, C420paldv, C420mpeg2, "
               "C420, C422, C444 and Cmono");
        }
        has_chroma = true;
        break;
      case 'X':
        h.extensions.emplace_back(value);
        if (value == "COLORRANGE=FULL") h.range = Range::Full;
        if (value == "COLORRANGE=LIMITED") h.range = Range::Limited;
        if (value.substr(0, 6) == "YSCSS=") has_yscss = chroma_from_yscss(value.substr(6), &yscss);
        break;
      default: break;  // unknown tags are skipped, as FFmpeg does
    }
  }
  if (!has_width) fail("the YUV4MPEG2 header has no width (W tag)");
  if (!has_height) fail("the YUV4MPEG2 header has no height (H tag)");
  if (!has_chroma && has_yscss) h.chroma = yscss;
  return h;
}

std::string format_header(const Header& h) {
  std::string s = std::string(kMagic) + "W" + std::to_string(h.width) + " H" + std::to_string(h.height) + " F" +
                  std::to_string(h.fps_num) + ":" + std::to_string(h.fps_den);
  if (h.interlace != '?') s += std::string(" I") + h.interlace;
  if (h.aspect_num != 0 || h.aspect_den != 0) {
    s += " A" + std::to_string(h.aspect_num) + ":" + std::to_string(h.aspect_den);
  }
  s += std::string(" C") + chroma_tag(h.chroma);
  s += h.range == Range::Full ? " XCOLORRANGE=FULL" : " XCOLORRANGE=LIMITED";
  for (const std::string& x : h.extensions) {
    if (x.substr(0, 11) != "COLORRANGE=") s += " X" + x;
  }
  return s + "\n";
}

bool has_magic(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block here
  if (fd < 0) return false;
  struct stat st {};
  char buf[kMagic.size()];
  const bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                  ::pread(fd, buf, sizeof(buf), 0) == static_cast<ssize_t>(sizeof(buf)) &&
                  std::string_view(buf, sizeof(buf)) == kMagic;
  ::close(fd);
  return ok;
}

void yuv_to_rgb(const Header& h, const uint8_t* planes, uint8_t* rgb) {
  const ToRgb& t = to_rgb_tables(h.range);
  const int w = h.width, height = h.height;
  const uint8_t* luma = planes;
  if (h.chroma == Chroma::Mono) {
    for (int64_t i = 0; i < static_cast<int64_t>(w) * height; ++i) {
      const uint8_t v = clamp8(t.y[luma[i]] >> 16);
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = v;
    }
    return;
  }
  const ChromaGeometry g = geometry(h);
  const uint8_t* cb = planes + static_cast<int64_t>(w) * height;
  const uint8_t* cr = cb + static_cast<int64_t>(g.width) * g.height;
  for (int y = 0; y < height; ++y) {
    const uint8_t* yrow = luma + static_cast<int64_t>(y) * w;
    const int64_t crow = static_cast<int64_t>(y >> g.shift_y) * g.width;
    uint8_t* out = rgb + static_cast<int64_t>(y) * w * 3;
    for (int x = 0; x < w; ++x) {
      const int32_t l = t.y[yrow[x]];
      const uint8_t u = cb[crow + (x >> g.shift_x)], v = cr[crow + (x >> g.shift_x)];
      out[x * 3] = clamp8((l + t.rv[v]) >> 16);
      out[x * 3 + 1] = clamp8((l + t.gu[u] + t.gv[v]) >> 16);
      out[x * 3 + 2] = clamp8((l + t.bu[u]) >> 16);
    }
  }
}

void rgb_to_yuv(const Header& h, const uint8_t* rgb, uint8_t* planes) {
  VG_ASSERT(h.chroma == Chroma::C444 || h.chroma == Chroma::C420jpeg || h.chroma == Chroma::Mono);
  const ToYuv& t = to_yuv_tables(h.range);
  const int64_t n = static_cast<int64_t>(h.width) * h.height;
  constexpr int32_t half = static_cast<int32_t>(kOne / 2);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = rgb + i * 3;
    planes[i] = clamp8((t.y_offset + t.y[0][p[0]] + t.y[1][p[1]] + t.y[2][p[2]] + half) >> 16);
  }
  if (h.chroma == Chroma::Mono) return;
  const ChromaGeometry g = geometry(h);
  uint8_t* cb = planes + n;
  uint8_t* cr = cb + static_cast<int64_t>(g.width) * g.height;
  const int bw = 1 << g.shift_x, bh = 1 << g.shift_y;
  for (int cy = 0; cy < g.height; ++cy) {
    for (int cx = 0; cx < g.width; ++cx) {
      // Sum over the block (cut at the right and bottom edges), then the rounded mean. Every
      // pixel's chroma is positive (at least 16 - 0.5), so integer division rounds correctly.
      int64_t su = 0, sv = 0, count = 0;
      for (int y = cy * bh; y < std::min(cy * bh + bh, h.height); ++y) {
        for (int x = cx * bw; x < std::min(cx * bw + bw, h.width); ++x) {
          const uint8_t* p = rgb + (static_cast<int64_t>(y) * h.width + x) * 3;
          su += t.c_offset + t.u[0][p[0]] + t.u[1][p[1]] + t.u[2][p[2]];
          sv += t.c_offset + t.v[0][p[0]] + t.v[1][p[1]] + t.v[2][p[2]];
          ++count;
        }
      }
      const int64_t unit = count * static_cast<int64_t>(kOne);
      const int64_t i = static_cast<int64_t>(cy) * g.width + cx;
      cb[i] = clamp8(static_cast<int32_t>((su + unit / 2) / unit));
      cr[i] = clamp8(static_cast<int32_t>((sv + unit / 2) / unit));
    }
  }
}

void rational_fps(double fps, int* num, int* den) {
  // Convergents h/k of the continued fraction of fps, while both stay <= 65535.
  int64_t h0 = 0, h1 = 1, k0 = 1, k1 = 0;
  double x = fps;
  for (int i = 0; i < 64 && std::isfinite(x); ++i) {
    const double a = std::floor(x);
    if (a > 65535) break;
    const int64_t h2 = static_cast<int64_t>(a) * h1 + h0, k2 = static_cast<int64_t>(a) * k1 + k0;
    if (h2 > 65535 || k2 > 65535) break;
    h0 = h1, h1 = h2, k0 = k1, k1 = k2;
    const double frac = x - a;
    if (frac < 1e-9) break;
    x = 1 / frac;
  }
  *num = static_cast<int>(h1);
  *den = static_cast<int>(k1);
}

// ---- Reader ----

Reader::Reader(const std::string& path, bool strict) : path_(path) {
  if (const std::string problem = detail::file_problem(path); !problem.empty()) fail(problem);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open: " + system_error());
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot read its size: " + system_error());
    file_size_ = static_cast<int64_t>(st.st_size);
    if (file_size_ == 0) fail("the file is empty");

    std::string line(static_cast<size_t>(std::min(kMaxHeaderLine, file_size_)), '\0');
    read_at(0, line.data(), static_cast<int64_t>(line.size()));
    const size_t end = line.find('\n');
    if (end == std::string::npos) {
      if (std::string_view(line).substr(0, kMagic.size()) != kMagic) parse_header(line, path_);  // wrong magic
      fail(static_cast<int64_t>(line.size()) < kMaxHeaderLine
               ? std::string("the YUV4MPEG2 header line is not terminated (truncated file)")
               : "the YUV4MPEG2 header line is longer than " + std::to_string(kMaxHeaderLine) + " bytes");
    }
    header_ = parse_header(std::string_view(line).substr(0, end), path_);
    frame_size_ = frame_bytes(header_);
    data_start_ = static_cast<int64_t>(end) + 1;
    build_table(strict);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

Reader::~Reader() {
  if (fd_ >= 0) ::close(fd_);
}

void Reader::fail(const std::string& message) const { throw Error("media", path_ + ": " + message); }

void Reader::read_at(int64_t offset, void* data, int64_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t got = ::pread(fd_, p, static_cast<size_t>(size), static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail("cannot read: " + system_error());
    if (got == 0) fail("the file ended early (was it changed while being read?)");
    p += got, offset += got, size -= got;
  }
}

// Walks the FRAME lines: each is "FRAME", then '\n' or ' ' + parameters + '\n', then the planes.
void Reader::build_table(bool strict) {
  int64_t pos = data_start_;
  char line[kMaxFrameLine];
  const auto truncated = [&] {
    dropped_partial_ = true;
    if (strict) fail("the file ends inside frame " + std::to_string(count_) + " (truncated file)");
  };
  while (pos < file_size_) {
    int64_t got = std::min<int64_t>(file_size_ - pos, 64);  // most FRAME lines are 6 bytes
    read_at(pos, line, got);
    const std::string_view head(line, static_cast<size_t>(std::min<int64_t>(got, 5)));
    if (head != kFrame.substr(0, head.size())) {
      fail("frame " + std::to_string(count_) + " (byte " + std::to_string(pos) +
           ") does not start with 'FRAME': found '" +
           shown(std::string_view(line, static_cast<size_t>(std::min<int64_t>(got, 8)))) + "'");
    }
    if (got < 5) {  // "FRA" and the end of the file
      truncated();
      break;
    }
    const char* nl = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(got)));
    if (nl == nullptr && got < kMaxFrameLine && pos + got < file_size_) {
      got = std::min<int64_t>(file_size_ - pos, kMaxFrameLine);
      read_at(pos, line, got);
      nl = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(got)));
    }
    if (got > 5 && line[5] != '\n' && line[5] != ' ') {
      fail("frame " + std::to_string(count_) + " (byte " + std::to_string(pos) + ") has a broken FRAME marker '" +
           shown(std::string_view(line, static_cast<size_t>(std::min<int64_t>(got, 8)))) + "'");
    }
    if (nl == nullptr) {
      if (pos + got == file_size_) {
        truncated();
        break;
      }
      fail("the FRAME line of frame " + std::to_string(count_) + " (byte " + std::to_string(pos) + ") is longer than " +
           std::to_string(kMaxFrameLine) + " bytes");
    }
    const int64_t line_size = nl - line + 1;
    const int64_t planes = pos + line_size;
    if (file_size_ - planes < frame_size_) {
      truncated();
      break;
    }
    if (line_size != 6 && offsets_.empty()) {  // the first FRAME line with parameters: list offsets
      for (int64_t i = 0; i < count_; ++i) offsets_.push_back(planes_offset(i));
    }
    if (!offsets_.empty() || line_size != 6) offsets_.push_back(planes);
    ++count_;
    pos = planes + frame_size_;
  }
}

int64_t Reader::planes_offset(int64_t index) const {
  if (!offsets_.empty()) return offsets_[static_cast<size_t>(index)];
  return data_start_ + index * (frame_size_ + 6) + 6;
}

double Reader::frame_time(int64_t index) const {
  return static_cast<double>(index) * (static_cast<double>(header_.fps_den) / header_.fps_num);
}

void Reader::read_planes(int64_t index, std::vector<uint8_t>& planes) {
  VG_CHECK(index >= 0 && index < count_, "media", path_, ": frame index ", index, " is out of range: the video has ",
           count_, " frame", count_ == 1 ? "" : "s");
  planes.resize(static_cast<size_t>(frame_size_));
  read_at(planes_offset(index), planes.data(), frame_size_);
}

Tensor Reader::read_rgb(int64_t index) {
  read_planes(index, planes_);
  Tensor out = Tensor::empty({header_.height, header_.width, 3}, DType::U8);
  yuv_to_rgb(header_, planes_.data(), out.data<uint8_t>());
  return out;
}

// ---- Writer ----

Writer::Writer(const std::string& path, int width, int height, const WriteOptions& options) : path_(path) {
  const auto fail = [&](const std::string& message) { throw Error("media", path + ": " + message); };
  detail::check_written_video(path, width, height, options.fps);
  if (options.chroma != Chroma::C444 && options.chroma != Chroma::C420jpeg && options.chroma != Chroma::Mono) {
    fail(std::string("cannot write colourspace C") + chroma_tag(options.chroma) + " (C444, C420jpeg and Cmono can)");
  }
  header_.width = width;
  header_.height = height;
  rational_fps(options.fps, &header_.fps_num, &header_.fps_den);
  VG_CHECK(header_.fps_num > 0, "media", path, ": frame rate ", options.fps, " is not usable");
  header_.interlace = 'p';
  header_.aspect_num = header_.aspect_den = 1;
  header_.chroma = options.chroma;
  header_.range = options.range;

  try {
    file_ = std::make_unique<io::AtomicFileWriter>(path);
    const std::string line = format_header(header_);
    file_->write(line.data(), line.size());
  } catch (const Error& e) {
    file_.reset();
    fail(e.message());
  }
  buffer_.resize(kFrame.size() + 1 + static_cast<size_t>(frame_bytes(header_)));
  std::memcpy(buffer_.data(), "FRAME\n", 6);
}

Writer::~Writer() = default;

void Writer::write(const Tensor& rgb) {
  VG_CHECK(!closed_, "media", path_, ": write after close()");
  detail::check_picture(rgb, header_.width, header_.height, path_);
  const Tensor src = rgb.contiguous();
  rgb_to_yuv(header_, src.data<uint8_t>(), buffer_.data() + 6);
  try {
    file_->write(buffer_.data(), buffer_.size());
  } catch (const Error& e) {
    throw Error("media", path_ + ": " + e.message());
  }
  ++frames_;
}

void Writer::close() {
  if (closed_) return;
  try {
    file_->commit();
  } catch (const Error& e) {
    throw Error("media", path_ + ": " + e.message());
  }
  closed_ = true;
}

}  // namespace vg::media::y4m
