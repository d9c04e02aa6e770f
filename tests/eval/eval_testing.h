// Helpers for the metric tests: the goldens of tools/reference/make_metric_goldens.py
// (tests/data/eval/*.json) and the WordNet database the METEOR tests need.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/error.h"
#include "eval/wordnet.h"

namespace vg::eval::testing {

inline std::string eval_data_dir() { return std::string(VG_TEST_DATA_DIR) + "/eval"; }

// A golden file, parsed once per process.
inline const nlohmann::json& golden(const std::string& name) {
  static std::map<std::string, nlohmann::json> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    const std::string path = eval_data_dir() + "/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + ": run tools/reference/make_metric_goldens.py");
    std::stringstream text;
    text << in.rdbuf();
    it = loaded.emplace(name, nlohmann::json::parse(text.str())).first;
  }
  return it->second;
}

inline const char* kWordNetHint =
    "METEOR needs WordNet 3.0 in /usr/share/wordnet: `apt-get install wordnet-base` (scripts/setup.sh does it)";

// The default WordNet, or nullptr with a test failure saying how to install it.
inline std::shared_ptr<const WordNet> wordnet_or_fail() {
  try {
    return WordNet::shared();
  } catch (const Error& e) {
    ADD_FAILURE() << e.what() << "\n" << kWordNetHint;
    return nullptr;
  }
}

// "[a, b, c]" for messages.
template <class Strings>
std::string join(const Strings& strings) {
  std::string out = "[";
  for (const auto& s : strings) out += (out.size() > 1 ? ", \"" : "\"") + std::string(s) + "\"";
  return out + "]";
}

}  // namespace vg::eval::testing
