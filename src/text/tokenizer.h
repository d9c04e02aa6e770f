// A tokenizer read from a Hugging Face tokenizer.json, producing the same ids as Hugging Face
// tokenizers (and transformers.js) for the component types it supports; see docs/text.md.
//
// Encoding: the text (bytes; invalid UTF-8 is replaced by U+FFFD as Node's TextDecoder does) is
// first split on the added tokens, then each remaining piece is normalized, pre-tokenized and
// run through the BPE model; with add_special_tokens the post-processor's template adds its
// special tokens (Gemma: <bos> in front).
//
// A Tokenizer is a cheap, copyable handle to immutable tables and is safe to use from several
// threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/pipeline.h"

namespace vg::text {

struct TokenizerJson;

class Tokenizer {
 public:
  // `path` is a tokenizer.json or a folder holding one. Throws vg::Error("[tokenizer] ...") naming
  // the file and the problem (missing, malformed, unsupported component type).
  static Tokenizer load(const std::string& path);
  // The same from JSON text in memory; `source` names it in messages.
  static Tokenizer from_json(std::string_view json_text, const std::string& source = "tokenizer.json");

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Ids with no token (past the vocabulary, as a model with a larger embedding table can
  // generate) are dropped, as the `tokenizers` library does.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  int32_t token_to_id(std::string_view token) const;  // -1 if absent
  std::string id_to_token(int32_t id) const;          // throws vg::Error when out of range

  // Largest id + 1 over the model vocabulary and the added tokens (262145 for the Gemma 3 file).
  int32_t vocab_size() const;
  // bos: the first token the post-processor puts in front, else "<bos>" or "<s>"; eos: "<eos>",
  // "</s>" or "<|endoftext|>"; pad: "<pad>". -1 when the vocabulary has none.
  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t pad_id() const;
  bool has_token(int32_t id) const;  // false for ids past the vocabulary or in a gap of it
  bool is_special(int32_t id) const;  // an added token marked "special" (skipped by skip_special_tokens)

  const std::string& source() const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  static std::shared_ptr<const Impl> build(TokenizerJson& file);
  std::string_view token_text(int32_t id) const;
  std::shared_ptr<const Impl> impl_;
  friend class StreamDecoder;
};

// Streaming decode: feed ids one at a time and get back only complete UTF-8 text, never half a
// character (bytes of <0xXX> tokens are held until their character is complete). The
// concatenation of every push() and the final flush() equals Tokenizer::decode of all the ids.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  std::string push(int32_t id);
  // Ends the text: an unfinished byte sequence becomes U+FFFD. The decoder can then start a new text.
  std::string flush();

 private:
  Tokenizer tokenizer_;
  bool skip_special_tokens_;
  Decoder::StreamState state_;
};

}  // namespace vg::text
