// Tokenizer: loading a tokenizer.json and running its pipeline; see tokenizer.h.
#include "text/tokenizer.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "io/mapped_file.h"
#include "text/added_vocabulary.h"
#include "text/bpe.h"
#include "text/tokenizer_json.h"
#include "text/utf8.h"

namespace vg::text {

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<BpeModel> model;
  AddedVocabulary added;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  PostProcessor post_processor;
  Decoder decoder;
  int32_t vocab_size = 0;
  int32_t bos = -1, eos = -1, pad = -1;

  void encode_piece(std::string_view piece, std::vector<int32_t>& ids) const;
};

namespace {

using json = nlohmann::json;

const json& optional_field(const json& doc, const char* key) {
  static const json null_value;
  auto it = doc.find(key);
  return it == doc.end() ? null_value : *it;
}

bool flag(const json& token, const char* key, bool fallback, const std::string& source, size_t index) {
  auto it = token.find(key);
  if (it == token.end() || it->is_null()) return fallback;
  VG_CHECK(it->is_boolean(), "tokenizer", source, ": added_tokens[", index, "].", key,
           " should be true or false, found ", it->dump());
  return it->get<bool>();
}

std::vector<AddedToken> parse_added_tokens(const json& list, const std::string& source, int64_t max_id) {
  std::vector<AddedToken> tokens;
  if (list.is_null()) return tokens;
  VG_CHECK(list.is_array(), "tokenizer", source, ": added_tokens should be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& t = list[i];
    VG_CHECK(t.is_object(), "tokenizer", source, ": added_tokens[", i, "] should be an object");
    auto id = t.find("id");
    auto content = t.find("content");
    VG_CHECK(id != t.end() && id->is_number_unsigned() && id->get<uint64_t>() < static_cast<uint64_t>(max_id),
             "tokenizer", source, ": added_tokens[", i, "].id should be an integer in [0, ", max_id, ")");
    VG_CHECK(content != t.end() && content->is_string(), "tokenizer", source, ": added_tokens[", i,
             "].content should be a string");
    AddedToken token;
    token.id = id->get<int32_t>();
    token.content = content->get<std::string>();
    token.special = flag(t, "special", false, source, i);
    token.single_word = flag(t, "single_word", false, source, i);
    token.lstrip = flag(t, "lstrip", false, source, i);
    token.rstrip = flag(t, "rstrip", false, source, i);
    token.normalized = flag(t, "normalized", !token.special, source, i);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::string resolve_path(const std::string& path) {
  VG_CHECK(io::file_exists(path), "tokenizer", path, ": no such file or folder");
  if (io::is_directory(path)) {
    const std::string file = path + (path.ends_with('/') ? "" : "/") + "tokenizer.json";
    VG_CHECK(io::file_exists(file), "tokenizer", "folder ", path, " has no tokenizer.json");
    return file;
  }
  return path;
}

}  // namespace

std::shared_ptr<const Tokenizer::Impl> Tokenizer::build(TokenizerJson& file) {
  const std::string& source = file.path;
  const json& doc = file.doc;
  auto impl = std::make_shared<Impl>();
  impl->source = source;

  auto model = doc.find("model");
  VG_CHECK(model != doc.end() && model->is_object(), "tokenizer", source, ": there is no \"model\" object");
  auto type = model->find("type");
  if (type != model->end() && !type->is_null()) {
    VG_CHECK(type->is_string(), "tokenizer", source, ": model.type should be a string, found ", type->dump());
    VG_CHECK(type->get<std::string>() == "BPE", "tokenizer", source, ": model type '", type->get<std::string>(),
             "' is not supported (supported: BPE)");
  } else {
    // Files written before "type" existed: a BPE model is the one with merges.
    VG_CHECK(file.has_merges, "tokenizer", source, ": model has no \"type\" and no merges; only BPE is supported");
  }
  impl->model = BpeModel::build(file);

  impl->normalizer = Normalizer::parse(optional_field(doc, "normalizer"), source);
  impl->pre_tokenizer = PreTokenizer::parse(optional_field(doc, "pre_tokenizer"), source);
  impl->post_processor = PostProcessor::parse(optional_field(doc, "post_processor"), source);
  impl->decoder = Decoder::parse(optional_field(doc, "decoder"), source);
  for (const char* key : {"truncation", "padding"}) {
    if (!optional_field(doc, key).is_null()) {
      logging::warn("[tokenizer] ", source, ": \"", key, "\" is set and ignored (encode never truncates or pads)");
    }
  }

  const int64_t max_id = std::max<int64_t>(impl->model->vocab().size(), 1) * 4 + (int64_t{1} << 20);
  std::vector<AddedToken> added = parse_added_tokens(optional_field(doc, "added_tokens"), source, max_id);
  impl->vocab_size = impl->model->vocab().size();
  for (const AddedToken& t : added) impl->vocab_size = std::max(impl->vocab_size, t.id + 1);
  const Normalizer& normalizer = impl->normalizer;
  impl->added.build(std::move(added), [&normalizer](std::string_view s) { return normalizer.apply(s); });

  for (const std::vector<int32_t>* ids : {&impl->post_processor.prefix(), &impl->post_processor.suffix()}) {
    for (int32_t id : *ids) {
      VG_CHECK(id < impl->vocab_size, "tokenizer", source, ": post_processor adds id ", id,
               ", outside the vocabulary of ", impl->vocab_size);
    }
  }
  const Impl& ref = *impl;
  auto find = [&ref](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (const AddedToken* t = ref.added.by_content(name)) return t->id;
      if (int32_t id = ref.model->vocab().find(name); id >= 0) return id;
    }
    return int32_t{-1};
  };
  impl->bos = impl->post_processor.prefix().empty() ? find({"<bos>", "<s>"}) : impl->post_processor.prefix()[0];
  impl->eos = find({"<eos>", "</s>", "<|endoftext|>"});
  impl->pad = find({"<pad>"});
  return impl;
}

void Tokenizer::Impl::encode_piece(std::string_view piece, std::vector<int32_t>& ids) const {
  thread_local std::vector<std::string_view> words;
  words.clear();
  pre_tokenizer.apply(piece, words);
  for (std::string_view word : words) model->encode(word, ids);
}

Tokenizer Tokenizer::load(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string file = resolve_path(path);
  TokenizerJson parsed = read_tokenizer_json(file);
  const auto t1 = std::chrono::steady_clock::now();
  Tokenizer tokenizer(build(parsed));
  const auto t2 = std::chrono::steady_clock::now();
  using ms = std::chrono::duration<double, std::milli>;
  logging::debug("[tokenizer] ", file, ": parsed in ", ms(t1 - t0).count(), " ms, tables built in ",
                 ms(t2 - t1).count(), " ms (", tokenizer.impl_->model->vocab().count(), " tokens, ",
                 tokenizer.impl_->model->num_merges(), " merges, ", tokenizer.impl_->added.tokens().size(),
                 " added tokens)");
  return tokenizer;
}

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& source) {
  TokenizerJson parsed = parse_tokenizer_json(json_text, source);
  return Tokenizer(build(parsed));
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, bool add_special_tokens) const {
  const Impl& impl = *impl_;
  std::string storage;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    storage = sanitize_utf8(input);
    text = storage;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<TextSplit> raw_splits, normalized_splits;
  impl.added.split(text, /*normalized_tokens=*/false, raw_splits);
  for (const TextSplit& split : raw_splits) {
    if (split.id >= 0) {
      ids.push_back(split.id);
      continue;
    }
    const std::string_view piece = text.substr(split.begin, split.end - split.begin);
    if (impl.normalizer.empty() && !impl.added.has_normalized_tokens()) {
      impl.encode_piece(piece, ids);
      continue;
    }
    const std::string normalized = impl.normalizer.apply(piece);
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
  if (add_special_tokens) impl.post_processor.apply(ids);
  return ids;
}

std::string_view Tokenizer::token_text(int32_t id) const {
  const Impl& impl = *impl_;
  if (const AddedToken* t = impl.added.by_id(id)) return t->content;
  VG_CHECK(impl.model->vocab().has(id), "tokenizer", impl.source, ": token id ", id,
           id >= 0 && id < impl.vocab_size ? " has no token" : " is out of range", " (the vocabulary has ids 0..",
           impl.vocab_size - 1, ")");
  return impl.model->vocab().token(id);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  StreamDecoder stream(*this, skip_special_tokens);
  std::string out;
  for (int32_t id : ids) out += stream.push(id);
  out += stream.flush();
  return out;
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* t = impl_->added.by_content(token)) return t->id;
  return impl_->model->vocab().find(token);
}

std::string Tokenizer::id_to_token(int32_t id) const { return std::string(token_text(id)); }

int32_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }
const std::string& Tokenizer::source() const { return impl_->source; }

bool Tokenizer::has_token(int32_t id) const {
  return impl_->added.by_id(id) != nullptr || impl_->model->vocab().has(id);
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* t = impl_->added.by_id(id);
  return t != nullptr && t->special;
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens), state_(tokenizer.impl_->decoder.start()) {}

std::string StreamDecoder::push(int32_t id) {
  std::string out;
  // An id with no token (a model row past the tokenizer's vocabulary) decodes to nothing, as in
  // the `tokenizers` library.
  if (!tokenizer_.has_token(id)) return out;
  if (skip_special_tokens_ && tokenizer_.is_special(id)) return out;
  const std::string_view token = tokenizer_.token_text(id);
  tokenizer_.impl_->decoder.feed(state_, token, out);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  tokenizer_.impl_->decoder.finish(state_, out);
  return out;
}

}  // namespace vg::text
