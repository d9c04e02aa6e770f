// The configurable stages of a tokenizer.json around the model: normalizer, pre-tokenizer,
// post-processor and decoder. Each is parsed from its JSON description; a type or option that is
// not implemented fails at load with vg::Error("[tokenizer] <file>: ... is not supported"), so a
// file is never tokenized differently from Hugging Face tokenizers without notice.
//
// Supported: normalizer Replace (string pattern), Prepend, Strip, Sequence; pre-tokenizer Split
// (string pattern, every behavior, invert false), Sequence; post-processor TemplateProcessing;
// decoder Replace (string pattern), ByteFallback, Fuse, Strip, Sequence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "text/utf8.h"

namespace vg::text {

class Normalizer {
 public:
  // `config` may be null (no normalization).
  static Normalizer parse(const nlohmann::json& config, const std::string& source);
  std::string apply(std::string_view text) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    enum class Kind { Replace, Prepend, Strip } kind;
    std::string pattern;               // Replace
    std::string content;               // Replace, Prepend
    bool left = false, right = false;  // Strip
  };
  static void parse_into(const nlohmann::json& config, const std::string& source, std::vector<Step>& steps);
  std::vector<Step> steps_;
};

class PreTokenizer {
 public:
  static PreTokenizer parse(const nlohmann::json& config, const std::string& source);
  // Splits `text` into words (views into text), appended to `words`; none when text is empty.
  void apply(std::string_view text, std::vector<std::string_view>& words) const;

 private:
  enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
  struct Step {
    std::string pattern;
    Behavior behavior;
  };
  static void parse_into(const nlohmann::json& config, const std::string& source, std::vector<Step>& steps);
  static void split(std::string_view text, const Step& step, std::vector<std::string_view>& out);
  std::vector<Step> steps_;
};

class PostProcessor {
 public:
  static PostProcessor parse(const nlohmann::json& config, const std::string& source);
  // The ids of a single sequence with the template's special tokens around them.
  void apply(std::vector<int32_t>& ids) const;
  const std::vector<int32_t>& prefix() const { return prefix_; }
  const std::vector<int32_t>& suffix() const { return suffix_; }

 private:
  std::vector<int32_t> prefix_, suffix_;
};

// Decoding is defined per token so that it can stream: StreamState carries what a token can
// leave unfinished (bytes of a character split over <0xXX> tokens, and characters a final Strip
// may still remove). Feeding all tokens and then finishing gives exactly the full decode.
class Decoder {
 public:
  static Decoder parse(const nlohmann::json& config, const std::string& source);

  struct StreamState {
    Utf8Decoder bytes;
    bool in_byte_run = false;
    size_t strip_start_left = 0;  // leading characters the final Strip may still remove
    bool strip_start_done = false;
    std::string held;  // trailing characters the final Strip may remove
    size_t held_count = 0;
  };
  StreamState start() const;
  void feed(StreamState& state, std::string_view token, std::string& out) const;
  void finish(StreamState& state, std::string& out) const;

 private:
  struct Step {
    enum class Kind { Replace, Strip } kind;
    std::string pattern, content;  // Replace
    char32_t strip_char = 0;       // Strip
    size_t start = 0, stop = 0;    // Strip
  };
  static std::string apply_steps(const std::vector<Step>& steps, std::string text);
  void emit_chunk(StreamState& state, std::string chunk, std::string& out) const;

  std::vector<Step> token_steps_;  // on each token, before byte fallback
  std::vector<Step> chunk_steps_;  // on each decoded piece, after byte fallback (single-character Replace)
  bool byte_fallback_ = false;
  bool final_strip_ = false;  // a Strip after Fuse: on the whole text
  char32_t final_strip_char_ = 0;
  size_t final_strip_start_ = 0, final_strip_stop_ = 0;
};

}  // namespace vg::text
