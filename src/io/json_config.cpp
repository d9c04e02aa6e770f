#include "io/json_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/mapped_file.h"

namespace vg::io {

using json = nlohmann::json;

JsonConfig JsonConfig::load(const std::string& path) {
  std::string file = path;
  if (is_directory(path)) file = (std::filesystem::path(path) / "config.json").string();
  VG_CHECK(file_exists(file), "config", file, " does not exist");
  return parse(read_text_file(file), file);
}

JsonConfig JsonConfig::parse(const std::string& text, const std::string& source) {
  JsonConfig c;
  c.source_ = source;
  try {
    c.json_ = std::make_shared<const json>(json::parse(text));
  } catch (const json::exception& e) {
    throw Error("config", str(source, " is not valid JSON: ", e.what()));
  }
  VG_CHECK(c.json_->is_object(), "config", source, " is not a JSON object");
  return c;
}

const json& JsonConfig::at(const std::string& key) const {
  auto it = json_->find(key);
  VG_CHECK(it != json_->end() && !it->is_null(), "config", source_, ": ", prefix_, key, " is missing");
  return *it;
}

void JsonConfig::type_error(const std::string& key, const char* expected) const {
  throw Error("config", str(source_, ": ", prefix_, key, " should be ", expected, ", found ", at(key).dump()));
}

bool JsonConfig::has(const std::string& key) const {
  auto it = json_->find(key);
  return it != json_->end() && !it->is_null();
}

int64_t JsonConfig::get_int(const std::string& key) const {
  const json& v = at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  // Some configs write integral values as 2048.0.
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
    return static_cast<int64_t>(v.get<double>());
  }
  type_error(key, "an integer");
}

int64_t JsonConfig::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double JsonConfig::get_double(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_number()) type_error(key, "a number");
  return v.get<double>();
}

double JsonConfig::get_double(const std::string& key, double fallback) const {
  return has(key) ? get_double(key) : fallback;
}

bool JsonConfig::get_bool(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_boolean()) type_error(key, "true or false");
  return v.get<bool>();
}

bool JsonConfig::get_bool(const std::string& key, bool fallback) const { return has(key) ? get_bool(key) : fallback; }

std::string JsonConfig::get_string(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_string()) type_error(key, "a string");
  return v.get<std::string>();
}

std::string JsonConfig::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::vector<int64_t> JsonConfig::get_int_list(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_array()) type_error(key, "a list of integers");
  std::vector<int64_t> out;
  for (const json& e : v) {
    if (!e.is_number_integer()) type_error(key, "a list of integers");
    out.push_back(e.get<int64_t>());
  }
  return out;
}

std::vector<double> JsonConfig::get_double_list(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_array()) type_error(key, "a list of numbers");
  std::vector<double> out;
  for (const json& e : v) {
    if (!e.is_number()) type_error(key, "a list of numbers");
    out.push_back(e.get<double>());
  }
  return out;
}

std::vector<std::string> JsonConfig::get_string_list(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_array()) type_error(key, "a list of strings");
  std::vector<std::string> out;
  for (const json& e : v) {
    if (!e.is_string()) type_error(key, "a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

JsonConfig JsonConfig::sub(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_object()) type_error(key, "an object");
  JsonConfig c;
  c.json_ = std::make_shared<const json>(v);
  c.source_ = source_;
  c.prefix_ = prefix_ + key + ".";
  return c;
}

}  // namespace vg::io
