// A whole file mapped into memory, read-only as far as the file is concerned: pages are
// private copy-on-write, so a tensor viewing the mapping can be modified without a crash and
// without changing the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vg::io {

class MappedFile {
 public:
  // Throws vg::Error("[io] ...") naming the path and the system's reason.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Whole-file helpers.
std::string read_text_file(const std::string& path);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);

// Writes a file so that readers see either the old or the new contents, never a mix: the
// bytes go to a temporary file in the same folder, which is flushed to disk and renamed over
// the target by commit(). Without commit() (an exception, a crash) the target is untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t size);
  void commit();

 private:
  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
};

// A fresh path beside `path` for writing it under another name first: "<dir>/.<name>.tmp.<pid>.<n>"
// (unique within the process, so concurrent writers of one target do not collide).
std::string temporary_sibling(const std::string& path);

void write_file_atomically(const std::string& path, const void* data, size_t size);
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace vg::io
