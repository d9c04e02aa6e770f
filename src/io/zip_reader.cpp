#include "io/zip_reader.h"

#include <array>

#include "core/error.h"

namespace vg::io {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kEnd64Size = 56;
constexpr uint64_t kEnd64LocatorSize = 20;
constexpr uint64_t kMaxComment = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t read_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t read_u64(const uint8_t* p) { return read_u32(p) | (static_cast<uint64_t>(read_u32(p + 4)) << 32); }

// a + b <= limit, without overflow.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

std::string hex32(uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 7; i >= 0; --i) s += digits[(v >> (4 * i)) & 0xf];
  return s;
}

const char* method_name(uint16_t method) {
  switch (method) {
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    default: return "unknown";
  }
}

class DirectoryParser {
 public:
  DirectoryParser(const MappedFile& file, const std::string& component)
      : data_(file.data()), size_(file.size()), path_(file.path()), component_(component) {}

  [[noreturn]] void fail(const std::string& message) const { throw Error(component_, path_ + ": " + message); }

  std::vector<ZipEntry> parse() {
    find_end_record();
    std::vector<ZipEntry> entries;
    entries.reserve(static_cast<size_t>(count_));
    uint64_t cursor = cd_offset_;
    const uint64_t cd_end = cd_offset_ + cd_size_;
    for (uint64_t i = 0; i < count_; ++i) entries.push_back(parse_central_header(cursor, cd_end));
    return entries;
  }

 private:
  void find_end_record() {
    if (size_ < kEndSize) {
      fail(str("the file is ", size_, " bytes, too short to be a zip archive (truncated?)"));
    }
    // The end record sits in the last 22 bytes plus a comment of up to 64 KiB; take the last one.
    uint64_t pos = size_ - kEndSize;
    const uint64_t lowest = size_ - kEndSize > kMaxComment ? size_ - kEndSize - kMaxComment : 0;
    bool found = false;
    for (;; --pos) {
      if (read_u32(data_ + pos) == kEndSig && pos + kEndSize + read_u16(data_ + pos + 20) <= size_) {
        found = true;
        break;
      }
      if (pos == lowest) break;
    }
    if (!found) fail("no zip end-of-central-directory record: the file is truncated or not a zip archive");

    const uint8_t* end = data_ + pos;
    const uint16_t disk = read_u16(end + 4), cd_disk = read_u16(end + 6);
    uint64_t count = read_u16(end + 10);
    uint64_t cd_size = read_u32(end + 12), cd_offset = read_u32(end + 16);
    uint64_t cd_limit = pos;  // the central directory ends before the end records
    const bool has_locator = pos >= kEnd64LocatorSize && read_u32(end - kEnd64LocatorSize) == kEnd64LocatorSig;
    if (has_locator) {
      const uint8_t* locator = end - kEnd64LocatorSize;
      const uint64_t end64 = read_u64(locator + 8);
      if (!fits(end64, kEnd64Size, pos - kEnd64LocatorSize)) {
        fail(str("the ZIP64 end record at byte ", end64, " lies outside the file (", size_, " bytes): truncated?"));
      }
      const uint8_t* rec = data_ + end64;
      if (read_u32(rec) != kEnd64Sig) fail(str("no ZIP64 end record at byte ", end64, ", where its locator points"));
      if (read_u32(rec + 16) != 0 || read_u32(rec + 20) != 0) fail("multi-disk zip archives are not supported");
      count = read_u64(rec + 32);
      cd_size = read_u64(rec + 40);
      cd_offset = read_u64(rec + 48);
      cd_limit = end64;
    } else {
      if (disk != 0 || cd_disk != 0) fail("multi-disk zip archives are not supported");
      if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
        fail("the end record asks for ZIP64 values, but the ZIP64 end record is missing (truncated?)");
      }
    }
    if (!fits(cd_offset, cd_size, cd_limit)) {
      fail(str("the central directory [", cd_offset, ", +", cd_size, ") runs past its end at byte ", cd_limit,
               ": the file is truncated or the directory is wrong"));
    }
    if (count > cd_size / kCentralHeaderSize) {
      fail(str("the directory claims ", count, " entries, but its ", cd_size, " bytes hold at most ",
               cd_size / kCentralHeaderSize));
    }
    count_ = count;
    cd_size_ = cd_size;
    cd_offset_ = cd_offset;
  }

  ZipEntry parse_central_header(uint64_t& cursor, uint64_t cd_end) {
    if (!fits(cursor, kCentralHeaderSize, cd_end) || read_u32(data_ + cursor) != kCentralHeaderSig) {
      fail(str("bad central directory entry at byte ", cursor));
    }
    const uint8_t* h = data_ + cursor;
    ZipEntry e;
    e.flags = read_u16(h + 8);
    e.method = read_u16(h + 10);
    e.crc32 = read_u32(h + 16);
    e.compressed_size = read_u32(h + 20);
    e.size = read_u32(h + 24);
    const uint64_t name_len = read_u16(h + 28), extra_len = read_u16(h + 30), comment_len = read_u16(h + 32);
    const uint16_t disk = read_u16(h + 34);
    e.local_header_offset = read_u32(h + 42);
    const uint64_t total = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (!fits(cursor, total, cd_end)) fail(str("central directory entry at byte ", cursor, " runs past the directory"));
    e.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    read_zip64_extra(e, disk, h + kCentralHeaderSize + name_len, extra_len);
    cursor += total;
    locate_data(e);
    return e;
  }

  // ZIP64 "extended information": 8-byte values for exactly those fields that read 0xFFFFFFFF.
  void read_zip64_extra(ZipEntry& e, uint16_t disk, const uint8_t* extra, uint64_t extra_len) {
    const bool need_size = e.size == 0xffffffffu, need_csize = e.compressed_size == 0xffffffffu;
    const bool need_offset = e.local_header_offset == 0xffffffffu, need_disk = disk == 0xffff;
    if (!need_size && !need_csize && !need_offset && !need_disk) return;
    uint64_t pos = 0;
    while (pos + 4 <= extra_len) {
      const uint16_t id = read_u16(extra + pos), len = read_u16(extra + pos + 2);
      if (pos + 4 + len > extra_len) break;
      if (id == kZip64ExtraId) {
        const uint8_t* f = extra + pos + 4;
        uint64_t used = 0;
        auto next = [&](uint64_t& field, const char* what) {
          if (used + 8 > len) fail(str("entry '", e.name, "' has a ZIP64 extra field without its ", what));
          field = read_u64(f + used);
          used += 8;
        };
        if (need_size) next(e.size, "size");
        if (need_csize) next(e.compressed_size, "compressed size");
        if (need_offset) next(e.local_header_offset, "header offset");
        if (need_disk && (used + 4 > len || read_u32(f + used) != 0)) {
          fail("multi-disk zip archives are not supported");
        }
        return;
      }
      pos += 4 + len;
    }
    fail(str("entry '", e.name, "' needs a ZIP64 extra field for its sizes or offset, and has none"));
  }

  void locate_data(ZipEntry& e) {
    const uint64_t lho = e.local_header_offset;
    if (!fits(lho, kLocalHeaderSize, cd_offset_) || read_u32(data_ + lho) != kLocalHeaderSig) {
      fail(str("entry '", e.name, "': no local header at byte ", lho, " (truncated or corrupt archive)"));
    }
    const uint8_t* h = data_ + lho;
    const uint64_t name_len = read_u16(h + 26), extra_len = read_u16(h + 28);
    const uint64_t header = kLocalHeaderSize + name_len + extra_len;
    if (!fits(lho, header, cd_offset_)) fail(str("entry '", e.name, "': its local header runs past the data"));
    if (std::string_view(reinterpret_cast<const char*>(h + kLocalHeaderSize), name_len) != e.name) {
      fail(str("entry '", e.name, "': the local header at byte ", lho, " names another file"));
    }
    e.data_offset = lho + header;
    if (!fits(e.data_offset, e.compressed_size, cd_offset_)) {
      fail(str("entry '", e.name, "' has data [", e.data_offset, ", +", e.compressed_size,
               ") past the end of the file's data (byte ", cd_offset_, "): the archive is truncated or wrong"));
    }
    if (e.is_stored() && e.compressed_size != e.size) {
      fail(str("stored entry '", e.name, "' has size ", e.size, " but ", e.compressed_size, " stored bytes"));
    }
  }

  const uint8_t* data_;
  uint64_t size_;
  const std::string& path_;
  const std::string& component_;
  uint64_t count_ = 0, cd_size_ = 0, cd_offset_ = 0;
};

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

ZipArchive ZipArchive::open(std::shared_ptr<MappedFile> file, std::string component) {
  VG_ASSERT(file != nullptr);
  ZipArchive archive;
  archive.file_ = std::move(file);
  archive.component_ = std::move(component);
  DirectoryParser parser(*archive.file_, archive.component_);
  archive.entries_ = parser.parse();
  for (size_t i = 0; i < archive.entries_.size(); ++i) {
    if (!archive.index_.emplace(archive.entries_[i].name, i).second) {
      parser.fail(str("the archive holds two entries named '", archive.entries_[i].name, "'"));
    }
  }
  return archive;
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::span<const uint8_t> ZipArchive::bytes(const ZipEntry& entry) const {
  return {mutable_data(entry), static_cast<size_t>(entry.size)};
}

uint8_t* ZipArchive::mutable_data(const ZipEntry& entry) const {
  VG_CHECK((entry.flags & 1) == 0, component_, path(), ": entry '", entry.name, "' is encrypted");
  VG_CHECK(entry.is_stored(), component_, path(), ": entry '", entry.name, "' is compressed (method ", entry.method,
           ", ", method_name(entry.method),
           "); torch.save stores entries uncompressed: was the archive re-zipped? Unzip and re-save it with torch");
  // Entries come from this archive's directory, which open() checked against the file.
  VG_ASSERT(entry.data_offset + entry.size <= file_->size());
  return file_->mutable_data() + entry.data_offset;
}

void ZipArchive::verify_crc(const ZipEntry& entry) const {
  std::span<const uint8_t> b = bytes(entry);
  const uint32_t actual = crc32(b.data(), b.size());
  VG_CHECK(actual == entry.crc32, component_, path(), ": entry '", entry.name, "' is corrupt: its CRC-32 is ",
           hex32(actual), " but the directory says ", hex32(entry.crc32));
}

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

bool looks_like_zip(const uint8_t* data, size_t size) {
  if (size < 4) return false;
  const uint32_t sig = read_u32(data);
  return sig == kLocalHeaderSig || sig == kEndSig;
}

}  // namespace vg::io
