// A read-only ZIP archive over a memory-mapped file, as far as PyTorch checkpoints need: the
// central directory (ZIP64 included: torch's writer always adds the ZIP64 end records, and uses
// ZIP64 sizes and offsets past 4 GiB), local headers, and STORED entries, whose bytes are handed
// out zero-copy. Opening validates every offset and size against the file, so a truncated or
// lying archive is a vg::Error naming the file, never a read out of bounds.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.h"

namespace vg::io {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 = stored, 8 = deflated, ...
  uint16_t flags = 0;   // general purpose bits; bit 0 = encrypted
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;                 // uncompressed
  uint64_t local_header_offset = 0;  // where the entry's local header starts in the file
  uint64_t data_offset = 0;          // where its (compressed) bytes start in the file

  bool is_stored() const { return method == 0; }
};

class ZipArchive {
 public:
  // Reads the directory of `file`. Errors are vg::Error(component, "<path>: ...").
  static ZipArchive open(std::shared_ptr<MappedFile> file, std::string component = "zip");

  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<MappedFile>& file() const { return file_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }  // in directory order
  const ZipEntry* find(std::string_view name) const;

  // The bytes of a STORED entry, a view of the mapping (zero-copy). Throws for compressed or
  // encrypted entries, which torch.save never writes.
  std::span<const uint8_t> bytes(const ZipEntry& entry) const;
  // The same bytes, writable: the mapping is private copy-on-write, so writes never reach the file.
  uint8_t* mutable_data(const ZipEntry& entry) const;
  // Checks the entry's CRC-32 against its bytes; throws naming the entry when they differ.
  void verify_crc(const ZipEntry& entry) const;

 private:
  std::shared_ptr<MappedFile> file_;
  std::string component_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// The CRC-32 of ZIP (and zlib): polynomial 0xEDB88320, initial and final xor 0xFFFFFFFF.
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

// True when the bytes start with a ZIP local file header ("PK\3\4") or an empty archive's end record.
bool looks_like_zip(const uint8_t* data, size_t size);

}  // namespace vg::io
