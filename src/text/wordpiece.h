// A WordPiece tokenizer read from a BERT-family Hugging Face tokenizer.json, giving the ids of
// BertTokenizerFast (Hugging Face tokenizers 0.23): the added tokens ([CLS], [SEP], ...) are found
// in the raw text first; each other piece goes through BertNormalizer (clean_text,
// handle_chinese_chars, strip_accents, lowercase), BertPreTokenizer (split on whitespace, isolate
// punctuation) and the WordPiece model (greedy longest match with the "##" continuation prefix, a
// word longer than max_input_chars_per_word or with an unmatched rest becomes [UNK]); then the
// post-processor puts [CLS] ... [SEP] around the ids (TemplateProcessing or BertProcessing).
//
// Only this pipeline is implemented: a file with another model (RoBERTa's and GPT-2's byte-level
// BPE, Unigram), normalizer or pre-tokenizer fails at load with vg::Error("[wordpiece] <file>:
// ... is not supported ..."), so no text is ever tokenized differently without notice.
//
// Characters are classified as tokenizers does, not as today's Unicode would: the tables in
// wordpiece_unicode.cpp were printed from what BertNormalizer and BertPreTokenizer do to every
// code point (tools/reference/make_bertscore_goldens.py). One documented difference: NFD's
// canonical reordering of combining marks is not done; it only matters for two or more combining
// marks that are not nonspacing (Mn) in a row, in non-canonical order.
//
// A WordPieceTokenizer is a cheap, copyable handle to immutable tables, safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vg::text {

struct TokenizerJson;

// What BertNormalizer and BertPreTokenizer do to a single code point.
namespace bert_chars {
// clean_text deletes it: U+0000, U+FFFD, controls other than \t \n \r, format and private-use characters.
bool is_removed(char32_t cp);
// clean_text turns it into ' ' (\t, \n, \r and the White_Space characters that are not controls).
bool is_clean_whitespace(char32_t cp);
// handle_chinese_chars puts spaces around it (the CJK ideograph blocks).
bool is_chinese(char32_t cp);
// BertPreTokenizer splits on it and drops it (Rust's char::is_whitespace).
bool is_split_whitespace(char32_t cp);
// BertPreTokenizer makes it a word of its own (ASCII punctuation and Unicode P* categories).
bool is_punctuation(char32_t cp);
// strip_accents: NFD of the code point without its nonspacing marks (empty for a mark itself).
void append_stripped(char32_t cp, std::u32string& out);
// lowercase: Rust's char::to_lowercase (U+0130 becomes "i\u0307").
void append_lowercase(char32_t cp, std::u32string& out);
}  // namespace bert_chars

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: the same as lowercase
  bool lowercase = true;
};

class WordPieceTokenizer {
 public:
  // `path` is a tokenizer.json or a folder holding one. Throws vg::Error("[wordpiece] ...") naming
  // the file and the problem (missing, malformed, a component that is not BERT's).
  static WordPieceTokenizer load(const std::string& path);
  static WordPieceTokenizer from_json(std::string_view json_text, const std::string& source = "tokenizer.json");

  // The ids of `text` (invalid UTF-8 becomes U+FFFD first). With max_length > 0 the ids of the
  // text are cut at the end so that the result, special tokens included, has at most max_length
  // ids: transformers' truncation=True (longest_first) on one sequence.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true, size_t max_length = 0) const;

  // The steps, for tests and inspection: BertNormalizer on a piece of text, BertPreTokenizer on
  // normalized text, and WordPiece on one word (appending ids).
  std::string normalize(std::string_view text) const;
  std::vector<std::string> pre_tokenize(std::string_view normalized) const;
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  int32_t token_to_id(std::string_view token) const;  // -1 if absent
  std::string id_to_token(int32_t id) const;          // throws vg::Error when there is no such id
  int32_t vocab_size() const;                         // largest id + 1
  int32_t unk_id() const;
  int32_t cls_id() const;  // the first id the post-processor puts in front; -1 without one
  int32_t sep_id() const;  // the last id it puts behind; -1 without one
  int32_t pad_id() const;  // "[PAD]", or -1
  // The ids the post-processor puts around one sequence ([CLS] and [SEP] for BERT).
  const std::vector<int32_t>& prefix() const;
  const std::vector<int32_t>& suffix() const;
  const BertNormalizerOptions& normalizer_options() const;
  const std::string& source() const;

 private:
  struct Impl;
  explicit WordPieceTokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  static std::shared_ptr<const Impl> build(TokenizerJson& file);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace vg::text
