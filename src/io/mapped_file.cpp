#include "io/mapped_file.h"

#include <atomic>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace vg::io {
namespace {

std::string system_error() { return std::strerror(errno); }

// Closes a file descriptor on scope exit.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const void* data, size_t size, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    VG_CHECK(n > 0, "io", "cannot write ", path, ": ", system_error());
    p += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  VG_CHECK(guard.fd >= 0, "io", "cannot open ", path, ": ", system_error());
  struct stat st {};
  VG_CHECK(::fstat(guard.fd, &st) == 0, "io", "cannot stat ", path, ": ", system_error());
  VG_CHECK(S_ISREG(st.st_mode), "io", path, " is not a regular file");
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, guard.fd, 0);
    VG_CHECK(p != MAP_FAILED, "io", "cannot map ", path, " (", file->size_, " bytes): ", system_error());
    file->data_ = static_cast<uint8_t*>(p);
  }
  return file;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  VG_CHECK(in.good(), "io", "cannot open ", path, ": ", system_error());
  std::ostringstream os;
  os << in.rdbuf();
  VG_CHECK(!in.bad(), "io", "cannot read ", path);
  return os.str();
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

std::string temporary_sibling(const std::string& path) {
  namespace fs = std::filesystem;
  static std::atomic<int> counter{0};
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // Built step by step: GCC 12 warns, wrongly, about "." + std::string temporaries.
  std::string name = ".";
  name += target.filename().string();
  name += ".tmp.";
  name += std::to_string(::getpid());
  name += ".";
  name += std::to_string(counter++);
  return (dir / name).string();
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  tmp_path_ = temporary_sibling(path_);
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  VG_CHECK(fd_ >= 0, "io", "cannot create ", tmp_path_, " to write ", path_, ": ", system_error());
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

void AtomicFileWriter::write(const void* data, size_t size) {
  VG_CHECK(fd_ >= 0, "io", "write to ", path_, " after commit");
  write_all(fd_, data, size, tmp_path_);
}

void AtomicFileWriter::commit() {
  VG_CHECK(fd_ >= 0, "io", "commit of ", path_, " twice");
  VG_CHECK(::fsync(fd_) == 0, "io", "cannot flush ", tmp_path_, ": ", system_error());
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    std::string reason = system_error();
    ::unlink(tmp_path_.c_str());
    throw Error("io", str("cannot move ", tmp_path_, " to ", path_, ": ", reason));
  }
  // Make the rename itself durable.
  namespace fs = std::filesystem;
  const fs::path target(path_);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  FdGuard dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir_fd.fd >= 0) ::fsync(dir_fd.fd);
}

void write_file_atomically(const std::string& path, const void* data, size_t size) {
  AtomicFileWriter writer(path);
  writer.write(data, size);
  writer.commit();
}

void write_file_atomically(const std::string& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

}  // namespace vg::io
