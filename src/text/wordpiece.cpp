// WordPiece tokenizer for BERT-family tokenizer.json files; see wordpiece.h.
#include "text/wordpiece.h"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/mapped_file.h"
#include "text/added_vocabulary.h"
#include "text/pipeline.h"
#include "text/tokenizer_json.h"
#include "text/utf8.h"

namespace vg::text {

struct WordPieceTokenizer::Impl {
  std::string source;
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> tokens;  // by id; empty where the vocabulary has no such id
  int32_t unk = -1;
  std::string continuing_prefix = "##";
  size_t max_chars_per_word = 100;
  bool has_normalizer = false;
  BertNormalizerOptions normalizer;
  bool has_pre_tokenizer = false;
  AddedVocabulary added;
  std::vector<int32_t> prefix, suffix;
  int32_t vocab_size = 0;
  int32_t pad = -1;

  std::string normalize(std::string_view text) const;
  void pre_tokenize(std::string_view normalized, std::vector<std::string>& words) const;
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;
  void encode_piece(std::string_view normalized, std::vector<int32_t>& ids) const;
};

namespace {

using json = nlohmann::json;
constexpr const char* kComponent = "wordpiece";

const json& optional_field(const json& doc, const char* key) {
  static const json null_value;
  auto it = doc.find(key);
  return it == doc.end() ? null_value : *it;
}

std::string type_name(const json& config, const std::string& source, const char* where) {
  auto type = config.find("type");
  VG_CHECK(config.is_object() && type != config.end() && type->is_string(), kComponent, source, ": ", where,
           " should be an object with a string \"type\", found ", config.dump());
  return type->get<std::string>();
}

bool bool_field(const json& config, const char* key, bool fallback, const std::string& source, const char* where) {
  const json& value = optional_field(config, key);
  if (value.is_null()) return fallback;
  VG_CHECK(value.is_boolean(), kComponent, source, ": ", where, ".", key, " should be true or false, found ",
           value.dump());
  return value.get<bool>();
}

BertNormalizerOptions parse_normalizer(const json& config, const std::string& source) {
  const std::string type = type_name(config, source, "normalizer");
  VG_CHECK(type == "BertNormalizer", kComponent, source, ": normalizer type '", type,
           "' is not supported (supported: BertNormalizer, as BERT-family tokenizers have)");
  BertNormalizerOptions o;
  o.clean_text = bool_field(config, "clean_text", true, source, "normalizer");
  o.handle_chinese_chars = bool_field(config, "handle_chinese_chars", true, source, "normalizer");
  o.lowercase = bool_field(config, "lowercase", true, source, "normalizer");
  if (!optional_field(config, "strip_accents").is_null())
    o.strip_accents = bool_field(config, "strip_accents", false, source, "normalizer");
  return o;
}

// BertProcessing: {"sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}.
int32_t bert_processing_id(const json& config, const char* key, const std::string& source) {
  const json& entry = optional_field(config, key);
  VG_CHECK(entry.is_array() && entry.size() == 2 && entry[1].is_number_unsigned() &&
               entry[1].get<uint64_t>() < (uint64_t{1} << 31),
           kComponent, source, ": post_processor BertProcessing.", key, " should be [token, id], found ", entry.dump());
  return entry[1].get<int32_t>();
}

std::vector<AddedToken> parse_added_tokens(const json& list, const std::string& source) {
  std::vector<AddedToken> tokens;
  if (list.is_null()) return tokens;
  VG_CHECK(list.is_array(), kComponent, source, ": added_tokens should be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& t = list[i];
    const json& id = optional_field(t, "id");
    const json& content = optional_field(t, "content");
    VG_CHECK(
        t.is_object() && id.is_number_unsigned() && id.get<uint64_t>() < (uint64_t{1} << 31) && content.is_string(),
        kComponent, source, ": added_tokens[", i, "] should be an object with an integer id and a string content");
    AddedToken token;
    token.id = id.get<int32_t>();
    token.content = content.get<std::string>();
    token.special = bool_field(t, "special", false, source, "added_tokens[]");
    token.single_word = bool_field(t, "single_word", false, source, "added_tokens[]");
    token.lstrip = bool_field(t, "lstrip", false, source, "added_tokens[]");
    token.rstrip = bool_field(t, "rstrip", false, source, "added_tokens[]");
    token.normalized = bool_field(t, "normalized", !token.special, source, "added_tokens[]");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace

std::shared_ptr<const WordPieceTokenizer::Impl> WordPieceTokenizer::build(TokenizerJson& file) {
  const std::string& source = file.path;
  const json& doc = file.doc;
  auto impl = std::make_shared<WordPieceTokenizer::Impl>();
  impl->source = source;

  const json& model = optional_field(doc, "model");
  VG_CHECK(model.is_object(), kComponent, source, ": there is no \"model\" object");
  const json& type = optional_field(model, "type");
  const std::string model_type = type.is_string() ? type.get<std::string>() : (file.has_merges ? "BPE" : "(none)");
  VG_CHECK(model_type == "WordPiece", kComponent, source, ": model type '", model_type,
           "' is not supported: only BERT-family WordPiece tokenizers are (RoBERTa and GPT-2 use byte-level BPE, "
           "which BERTScore here does not handle)");
  VG_CHECK(file.has_vocab_map && !file.vocab.empty(), kComponent, source,
           ": model.vocab should be a non-empty object of token -> id");
  // Ids index a table, so they must stay near the vocabulary's size.
  const auto max_id = static_cast<int64_t>(file.vocab.size()) * 4 + (int64_t{1} << 20);
  for (const TokenizerJson::VocabEntry& e : file.vocab) {
    VG_CHECK(e.id >= 0 && e.id < max_id, kComponent, source, ": model.vocab has an invalid id ", e.id,
             " (a vocabulary of ", file.vocab.size(), " tokens)");
    const auto id = static_cast<int32_t>(e.id);
    std::string token(file.vocab_token(e));
    if (static_cast<size_t>(id) >= impl->tokens.size()) impl->tokens.resize(static_cast<size_t>(id) + 1);
    impl->tokens[static_cast<size_t>(id)] = token;
    impl->vocab[std::move(token)] = id;
  }
  const json& unk = optional_field(model, "unk_token");
  VG_CHECK(unk.is_string(), kComponent, source, ": model.unk_token should be a string");
  const auto unk_it = impl->vocab.find(unk.get<std::string>());
  VG_CHECK(unk_it != impl->vocab.end(), kComponent, source, ": model.unk_token '", unk.get<std::string>(),
           "' is not in the vocabulary");
  impl->unk = unk_it->second;
  const json& prefix = optional_field(model, "continuing_subword_prefix");
  if (!prefix.is_null()) {
    VG_CHECK(prefix.is_string(), kComponent, source, ": model.continuing_subword_prefix should be a string");
    impl->continuing_prefix = prefix.get<std::string>();
  }
  const json& max_chars = optional_field(model, "max_input_chars_per_word");
  if (!max_chars.is_null()) {
    VG_CHECK(max_chars.is_number_unsigned(), kComponent, source,
             ": model.max_input_chars_per_word should be a non-negative integer");
    impl->max_chars_per_word = max_chars.get<size_t>();
  }

  if (const json& n = optional_field(doc, "normalizer"); !n.is_null()) {
    impl->normalizer = parse_normalizer(n, source);
    impl->has_normalizer = true;
  }
  if (const json& p = optional_field(doc, "pre_tokenizer"); !p.is_null()) {
    const std::string t = type_name(p, source, "pre_tokenizer");
    VG_CHECK(t == "BertPreTokenizer", kComponent, source, ": pre_tokenizer type '", t,
             "' is not supported (supported: BertPreTokenizer)");
    impl->has_pre_tokenizer = true;
  }
  if (const json& p = optional_field(doc, "post_processor"); !p.is_null()) {
    const std::string t = type_name(p, source, "post_processor");
    if (t == "BertProcessing") {
      impl->prefix = {bert_processing_id(p, "cls", source)};
      impl->suffix = {bert_processing_id(p, "sep", source)};
    } else {
      VG_CHECK(t == "TemplateProcessing", kComponent, source, ": post_processor type '", t,
               "' is not supported (supported: TemplateProcessing, BertProcessing)");
      const PostProcessor processor = PostProcessor::parse(p, source);
      impl->prefix = processor.prefix();
      impl->suffix = processor.suffix();
    }
  }

  std::vector<AddedToken> added = parse_added_tokens(optional_field(doc, "added_tokens"), source);
  impl->vocab_size = static_cast<int32_t>(impl->tokens.size());
  for (const AddedToken& t : added) impl->vocab_size = std::max(impl->vocab_size, t.id + 1);
  const WordPieceTokenizer::Impl& ref = *impl;
  impl->added.build(std::move(added), [&ref](std::string_view s) { return ref.normalize(s); });
  for (const std::vector<int32_t>* ids : {&impl->prefix, &impl->suffix}) {
    for (int32_t id : *ids) {
      VG_CHECK(id < impl->vocab_size, kComponent, source, ": post_processor adds id ", id,
               ", outside the vocabulary of ", impl->vocab_size);
    }
  }
  if (const AddedToken* t = impl->added.by_content("[PAD]")) {
    impl->pad = t->id;
  } else if (auto it = impl->vocab.find("[PAD]"); it != impl->vocab.end()) {
    impl->pad = it->second;
  }
  return impl;
}

namespace {

std::string resolve_path(const std::string& path) {
  VG_CHECK(io::file_exists(path), kComponent, path, ": no such file or folder");
  if (!io::is_directory(path)) return path;
  const std::string file = path + (path.ends_with('/') ? "" : "/") + "tokenizer.json";
  VG_CHECK(io::file_exists(file), kComponent, "folder ", path,
           " has no tokenizer.json (the fast-tokenizer file that Hugging Face BERT models ship; "
           "a folder with only vocab.txt can be converted by loading and saving it with transformers)");
  return file;
}

}  // namespace

// BertNormalizer's steps, each a map of single code points, applied to one code point after
// another: clean_text, handle_chinese_chars, strip_accents (NFD without nonspacing marks), lowercase.
std::string WordPieceTokenizer::Impl::normalize(std::string_view text) const {
  if (!has_normalizer) return std::string(text);
  const BertNormalizerOptions& o = normalizer;
  const bool strip = o.strip_accents.value_or(o.lowercase);
  std::string out;
  out.reserve(text.size() + 8);
  std::u32string stripped, lowered;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = next_code_point(text, pos);
    if (o.clean_text) {
      if (bert_chars::is_removed(cp)) continue;
      if (bert_chars::is_clean_whitespace(cp)) cp = ' ';
    }
    const bool pad = o.handle_chinese_chars && bert_chars::is_chinese(cp);
    if (pad) out.push_back(' ');
    stripped.clear();
    if (strip) {
      bert_chars::append_stripped(cp, stripped);
    } else {
      stripped.push_back(cp);
    }
    for (char32_t c : stripped) {
      if (!o.lowercase) {
        append_utf8(out, c);
        continue;
      }
      lowered.clear();
      bert_chars::append_lowercase(c, lowered);
      for (char32_t l : lowered) append_utf8(out, l);
    }
    if (pad) out.push_back(' ');
  }
  return out;
}

// BertPreTokenizer: whitespace separates words and is dropped; punctuation is a word of its own.
void WordPieceTokenizer::Impl::pre_tokenize(std::string_view normalized, std::vector<std::string>& words) const {
  if (!has_pre_tokenizer) {
    if (!normalized.empty()) words.emplace_back(normalized);
    return;
  }
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (size_t pos = 0; pos < normalized.size();) {
    const size_t start = pos;
    const char32_t cp = next_code_point(normalized, pos);
    if (bert_chars::is_split_whitespace(cp)) {
      flush();
    } else if (bert_chars::is_punctuation(cp)) {
      flush();
      words.emplace_back(normalized.substr(start, pos - start));
    } else {
      current.append(normalized.substr(start, pos - start));
    }
  }
  flush();
}

// Greedy longest-match-first from the left; pieces after the first carry the continuation
// prefix. A word that cannot be covered, or is too long, is one [UNK].
void WordPieceTokenizer::Impl::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  std::vector<size_t> boundaries;  // byte offset of each code point, then the end
  for (size_t pos = 0; pos < word.size();) {
    boundaries.push_back(pos);
    next_code_point(word, pos);
  }
  const size_t chars = boundaries.size();
  boundaries.push_back(word.size());
  if (chars > max_chars_per_word) {
    ids.push_back(unk);
    return;
  }
  const size_t first_new = ids.size();
  std::string key;
  size_t start = 0;  // in code points
  while (start < chars) {
    size_t end = chars;
    int32_t found = -1;
    for (; end > start; --end) {
      key.assign(start > 0 ? continuing_prefix : "");
      key.append(word.substr(boundaries[start], boundaries[end] - boundaries[start]));
      if (auto it = vocab.find(key); it != vocab.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      ids.resize(first_new);
      ids.push_back(unk);
      return;
    }
    ids.push_back(found);
    start = end;
  }
}

void WordPieceTokenizer::Impl::encode_piece(std::string_view normalized, std::vector<int32_t>& ids) const {
  std::vector<std::string> words;
  pre_tokenize(normalized, words);
  for (const std::string& word : words) encode_word(word, ids);
}

WordPieceTokenizer WordPieceTokenizer::load(const std::string& path) {
  TokenizerJson parsed = read_tokenizer_json(resolve_path(path));
  return WordPieceTokenizer(build(parsed));
}

WordPieceTokenizer WordPieceTokenizer::from_json(std::string_view json_text, const std::string& source) {
  TokenizerJson parsed = parse_tokenizer_json(json_text, source);
  return WordPieceTokenizer(build(parsed));
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view input, bool add_special_tokens,
                                                size_t max_length) const {
  const Impl& impl = *impl_;
  std::string storage;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    storage = sanitize_utf8(input);
    text = storage;
  }
  std::vector<int32_t> ids;
  std::vector<TextSplit> raw_splits, normalized_splits;
  impl.added.split(text, /*normalized_tokens=*/false, raw_splits);
  for (const TextSplit& split : raw_splits) {
    if (split.id >= 0) {
      ids.push_back(split.id);
      continue;
    }
    const std::string normalized = impl.normalize(text.substr(split.begin, split.end - split.begin));
    if (!impl.added.has_normalized_tokens()) {
      impl.encode_piece(normalized, ids);
      continue;
    }
    impl.added.split(normalized, /*normalized_tokens=*/true, normalized_splits);
    for (const TextSplit& inner : normalized_splits) {
      if (inner.id >= 0) {
        ids.push_back(inner.id);
      } else {
        impl.encode_piece(std::string_view(normalized).substr(inner.begin, inner.end - inner.begin), ids);
      }
    }
  }
  const size_t special = add_special_tokens ? impl.prefix.size() + impl.suffix.size() : 0;
  if (max_length > 0) {
    VG_CHECK(max_length >= special, kComponent, impl.source, ": max_length ", max_length, " leaves no room for the ",
             special, " special tokens");
    if (ids.size() > max_length - special) ids.resize(max_length - special);
  }
  if (add_special_tokens) {
    ids.insert(ids.begin(), impl.prefix.begin(), impl.prefix.end());
    ids.insert(ids.end(), impl.suffix.begin(), impl.suffix.end());
  }
  return ids;
}

std::string WordPieceTokenizer::normalize(std::string_view text) const { return impl_->normalize(text); }

std::vector<std::string> WordPieceTokenizer::pre_tokenize(std::string_view normalized) const {
  std::vector<std::string> words;
  impl_->pre_tokenize(normalized, words);
  return words;
}

void WordPieceTokenizer::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  impl_->encode_word(word, ids);
}

int32_t WordPieceTokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* t = impl_->added.by_content(token)) return t->id;
  const auto it = impl_->vocab.find(std::string(token));
  return it == impl_->vocab.end() ? -1 : it->second;
}

std::string WordPieceTokenizer::id_to_token(int32_t id) const {
  if (const AddedToken* t = impl_->added.by_id(id)) return t->content;
  const bool known =
      id >= 0 && static_cast<size_t>(id) < impl_->tokens.size() && !impl_->tokens[static_cast<size_t>(id)].empty();
  VG_CHECK(known, kComponent, impl_->source, ": token id ", id, " is not in the vocabulary (ids 0..",
           impl_->vocab_size - 1, ")");
  return impl_->tokens[static_cast<size_t>(id)];
}

int32_t WordPieceTokenizer::vocab_size() const { return impl_->vocab_size; }
int32_t WordPieceTokenizer::unk_id() const { return impl_->unk; }
int32_t WordPieceTokenizer::cls_id() const { return impl_->prefix.empty() ? -1 : impl_->prefix.front(); }
int32_t WordPieceTokenizer::sep_id() const { return impl_->suffix.empty() ? -1 : impl_->suffix.back(); }
int32_t WordPieceTokenizer::pad_id() const { return impl_->pad; }
const std::vector<int32_t>& WordPieceTokenizer::prefix() const { return impl_->prefix; }
const std::vector<int32_t>& WordPieceTokenizer::suffix() const { return impl_->suffix; }
const BertNormalizerOptions& WordPieceTokenizer::normalizer_options() const { return impl_->normalizer; }
const std::string& WordPieceTokenizer::source() const { return impl_->source; }

}  // namespace vg::text
