// YUV4MPEG2 (.y4m), read and written natively in every build (no FFmpeg needed): a one-line text
// header "YUV4MPEG2 W<w> H<h> F<num>:<den> [I<p|t|b|m|?>] [A<n>:<d>] [C<colourspace>] [X<ext>]..."
// followed by frames, each "FRAME[ <params>]\n" and then its planes (Y, then Cb and Cr) as bytes.
// VideoReader and VideoWriter use this for .y4m files (src/media/y4m_video.cpp); docs/media.md
// describes what is supported and how exact the colour conversion is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace vg::io {
class AtomicFileWriter;
}

namespace vg::media::y4m {

// The first 10 bytes of every YUV4MPEG2 file.
inline constexpr std::string_view kMagic = "YUV4MPEG2 ";
inline constexpr int kMaxSize = 16384;  // largest width or height accepted

// The 8-bit colourspaces (C tags) supported. The four 4:2:0 sitings are read alike (each chroma
// sample covers its 2x2 block of luma samples).
enum class Chroma { C420jpeg, C420paldv, C420mpeg2, C420, C422, C444, Mono };
enum class Range { Limited, Full };  // XCOLORRANGE=LIMITED (also when absent) or FULL

struct Header {
  int width = 0;
  int height = 0;
  int fps_num = 25;  // F; 25:1 when absent or 0:0 ("unknown"), as FFmpeg assumes
  int fps_den = 1;
  char interlace = '?';  // I: 'p' progressive, 't' top field first, 'b' bottom first, 'm' mixed, '?' unknown
  int aspect_num = 0;    // A: pixel aspect ratio, 0:0 when unknown
  int aspect_den = 0;
  Chroma chroma = Chroma::C420jpeg;     // C; 420jpeg when absent (or from FFmpeg's XYSCSS= tag)
  Range range = Range::Limited;         // XCOLORRANGE=FULL or LIMITED
  std::vector<std::string> extensions;  // every X tag, without the X, in order
};

const char* chroma_tag(Chroma chroma);  // "420jpeg", ..., "mono"
// Bytes of the planes of one frame (the chroma planes of odd sizes round up, as FFmpeg's).
int64_t frame_bytes(const Header& header);

// Parses a header line without its '\n'. Throws vg::Error("[media] <path>: ...") for a wrong
// magic, a missing or unusable W or H (1..16384), malformed numbers, an unknown interlacing
// mode or an unsupported colourspace (10-bit and other formats name the tag). Unknown tag
// letters are ignored, as FFmpeg does.
Header parse_header(std::string_view line, const std::string& path);
// The header line a writer puts first, with its '\n'.
std::string format_header(const Header& header);

// Whether the file starts with kMagic (false for a missing, unreadable or short file).
bool has_magic(const std::string& path);

// One frame's planes (frame_bytes(header) bytes) -> RGB u8 [H, W, 3]: BT.601 in the header's
// range, chroma replicated over its block, 16-bit fixed point, rounded to nearest, clamped.
void yuv_to_rgb(const Header& header, const uint8_t* planes, uint8_t* rgb);
// RGB u8 [H, W, 3] -> planes in the header's chroma (C444, C420jpeg or Cmono) and range; 4:2:0
// chroma is the mean of each 2x2 block.
void rgb_to_yuv(const Header& header, const uint8_t* rgb, uint8_t* planes);

// The frame rate as num:den: the convergent of fps's continued fraction with both terms at most
// 65535 (8 -> 8:1, 29.97 -> 2997:100, 30000/1001. -> 30000:1001).
void rational_fps(double fps, int* num, int* den);

// A .y4m file opened for random access. The constructor reads the header and builds the frame
// table by reading every FRAME line (seeking over the planes). A last frame cut short is left
// out (strict: an error); a FRAME line that is not one is an error.
class Reader {
 public:
  explicit Reader(const std::string& path, bool strict = false);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const Header& header() const { return header_; }
  int64_t frame_count() const { return count_; }
  bool dropped_partial_frame() const { return dropped_partial_; }  // the file ended inside a frame
  // Seconds of frame i: i * den / num.
  double frame_time(int64_t index) const;
  // Reads the planes of frame `index` into `planes` (resized to frame_bytes).
  void read_planes(int64_t index, std::vector<uint8_t>& planes);
  // Frame `index` as RGB u8 [H, W, 3].
  Tensor read_rgb(int64_t index);

 private:
  [[noreturn]] void fail(const std::string& message) const;
  void read_at(int64_t offset, void* data, int64_t size);
  void build_table(bool strict);
  int64_t planes_offset(int64_t index) const;

  std::string path_;
  int fd_ = -1;
  Header header_;
  int64_t file_size_ = 0;
  int64_t frame_size_ = 0;        // bytes of planes
  int64_t data_start_ = 0;        // offset of the first FRAME line
  int64_t count_ = 0;             // frames in the table
  std::vector<int64_t> offsets_;  // planes offset of each frame; empty while every FRAME line is bare
  bool dropped_partial_ = false;
  std::vector<uint8_t> planes_;
};

struct WriteOptions {
  Chroma chroma = Chroma::C444;  // C444 (default), C420jpeg or Mono
  Range range = Range::Full;
  double fps = 30;
};

// Writes a .y4m file atomically: a temporary file in the same folder, renamed over `path` by
// close(); destroyed without close(), it leaves nothing.
class Writer {
 public:
  Writer(const std::string& path, int width, int height, const WriteOptions& options = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // rgb: u8 [height, width, 3], at time frames_written() / fps.
  void write(const Tensor& rgb);
  void close();
  int64_t frames_written() const { return frames_; }
  const Header& header() const { return header_; }

 private:
  std::string path_;
  Header header_;
  std::unique_ptr<io::AtomicFileWriter> file_;
  std::vector<uint8_t> buffer_;
  int64_t frames_ = 0;
  bool closed_ = false;
};

}  // namespace vg::media::y4m
