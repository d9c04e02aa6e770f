// Typed access to a JSON configuration such as a Hugging Face config.json. Errors name the
// file, the key path and what was expected: "[config] ckpt/config.json: text_config.hidden_size
// should be an integer, found "2048"".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vg::io {

class JsonConfig {
 public:
  // A .json file, or a folder holding config.json.
  static JsonConfig load(const std::string& path);
  static JsonConfig parse(const std::string& text, const std::string& source);

  bool has(const std::string& key) const;  // present and not null
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_double(const std::string& key) const;
  double get_double(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> get_int_list(const std::string& key) const;
  std::vector<double> get_double_list(const std::string& key) const;
  std::vector<std::string> get_string_list(const std::string& key) const;
  // A nested object, e.g. sub("text_config") of a multimodal config.
  JsonConfig sub(const std::string& key) const;

  const std::string& source() const { return source_; }
  const nlohmann::json& raw() const { return *json_; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  [[noreturn]] void type_error(const std::string& key, const char* expected) const;
  std::shared_ptr<const nlohmann::json> json_;
  std::string source_;  // "file.json" or "file.json: text_config"
  std::string prefix_;  // key path prefix for messages, "text_config."
};

}  // namespace vg::io
