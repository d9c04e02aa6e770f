// Normalizer, pre-tokenizer, post-processor and decoder of a tokenizer.json; see pipeline.h.
#include "text/pipeline.h"

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vg::text {
namespace {

using json = nlohmann::json;

const json& field(const json& config, const char* key, const std::string& source, const std::string& where) {
  auto it = config.find(key);
  VG_CHECK(it != config.end(), "tokenizer", source, ": ", where, " has no \"", key, "\"");
  return *it;
}

std::string string_field(const json& config, const char* key, const std::string& source, const std::string& where) {
  const json& v = field(config, key, source, where);
  VG_CHECK(v.is_string(), "tokenizer", source, ": ", where, ".", key, " should be a string, found ", v.dump());
  return v.get<std::string>();
}

bool bool_field(const json& config, const char* key, bool fallback, const std::string& source,
                const std::string& where) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  VG_CHECK(it->is_boolean(), "tokenizer", source, ": ", where, ".", key, " should be true or false, found ",
           it->dump());
  return it->get<bool>();
}

size_t count_field(const json& config, const char* key, const std::string& source, const std::string& where) {
  const json& v = field(config, key, source, where);
  VG_CHECK(v.is_number_unsigned(), "tokenizer", source, ": ", where, ".", key,
           " should be a non-negative integer, found ", v.dump());
  return v.get<size_t>();
}

std::string type_of(const json& config, const std::string& source, const std::string& where) {
  VG_CHECK(config.is_object(), "tokenizer", source, ": ", where, " should be an object or null, found ",
           config.dump().substr(0, 80));
  return string_field(config, "type", source, where);
}

// A {"String": s} pattern; a {"Regex": r} pattern is refused (its semantics need a Unicode regex engine).
std::string string_pattern(const json& config, const std::string& source, const std::string& where) {
  const json& pattern = field(config, "pattern", source, where);
  VG_CHECK(pattern.is_object(), "tokenizer", source, ": ", where, ".pattern should be an object, found ",
           pattern.dump());
  VG_CHECK(!pattern.contains("Regex"), "tokenizer", source, ": ", where,
           " uses a Regex pattern, which is not supported (only String patterns)");
  std::string s = string_field(pattern, "String", source, where + ".pattern");
  VG_CHECK(!s.empty(), "tokenizer", source, ": ", where, " has an empty pattern");
  return s;
}

std::string replace_all(std::string_view text, std::string_view pattern, std::string_view content) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t hit; (hit = text.find(pattern, pos)) != std::string_view::npos; pos = hit + pattern.size()) {
    out.append(text.substr(pos, hit - pos));
    out.append(content);
  }
  out.append(text.substr(pos));
  return out;
}

bool single_code_point(std::string_view s) {
  return !s.empty() && static_cast<size_t>(utf8_length(static_cast<unsigned char>(s[0]))) == s.size();
}

char32_t single_char(const std::string& s, const std::string& source, const std::string& where) {
  VG_CHECK(single_code_point(s) && is_valid_utf8(s), "tokenizer", source, ": ", where,
           ".content should be one character, found \"", s, "\"");
  size_t pos = 0;
  return next_code_point(s, pos);
}

// Removes up to `start` leading and `stop` trailing `c` characters (Hugging Face's Strip decoder).
std::string strip_chars(const std::string& token, char32_t c, size_t start, size_t stop) {
  std::vector<size_t> bounds;  // byte offset of each character, then the end
  for (size_t pos = 0; pos < token.size();) {
    bounds.push_back(pos);
    next_code_point(token, pos);
  }
  const size_t n = bounds.size();
  bounds.push_back(token.size());
  auto char_at = [&](size_t i) {
    size_t pos = bounds[i];
    return next_code_point(token, pos);
  };
  size_t start_cut = 0;
  for (size_t i = 0; i < n && i < start && char_at(i) == c; ++i) start_cut = i + 1;
  size_t stop_cut = n;
  for (size_t i = 0; i < std::min(stop, n - start_cut) && char_at(n - i - 1) == c; ++i) stop_cut = n - i - 1;
  return token.substr(bounds[start_cut], bounds[stop_cut] - bounds[start_cut]);
}

bool byte_token(std::string_view token, uint8_t& byte) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return false;
  auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  const int hi = hex(token[3]), lo = hex(token[4]);
  if (hi < 0 || lo < 0) return false;
  byte = static_cast<uint8_t>(hi * 16 + lo);
  return true;
}

}  // namespace

// ---- normalizer ----------------------------------------------------------------------------

void Normalizer::parse_into(const json& config, const std::string& source, std::vector<Step>& steps) {
  if (config.is_null()) return;
  const std::string where = "normalizer";
  const std::string type = type_of(config, source, where);
  if (type == "Sequence") {
    const json& list = field(config, "normalizers", source, where);
    VG_CHECK(list.is_array(), "tokenizer", source, ": normalizer.normalizers should be a list");
    for (const json& item : list) parse_into(item, source, steps);
  } else if (type == "Replace") {
    steps.push_back({Step::Kind::Replace, string_pattern(config, source, "normalizer Replace"),
                     string_field(config, "content", source, "normalizer Replace")});
  } else if (type == "Prepend") {
    steps.push_back({Step::Kind::Prepend, "", string_field(config, "prepend", source, "normalizer Prepend")});
  } else if (type == "Strip") {
    Step step{Step::Kind::Strip, "", ""};
    step.left = bool_field(config, "strip_left", false, source, "normalizer Strip");
    step.right = bool_field(config, "strip_right", false, source, "normalizer Strip");
    steps.push_back(step);
  } else {
    throw Error("tokenizer", str(source, ": normalizer type '", type,
                                 "' is not supported (supported: Replace, Prepend, Strip, Sequence)"));
  }
}

Normalizer Normalizer::parse(const json& config, const std::string& source) {
  Normalizer n;
  parse_into(config, source, n.steps_);
  return n;
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::Kind::Replace: s = replace_all(s, step.pattern, step.content); break;
      case Step::Kind::Prepend:
        if (!s.empty()) s.insert(0, step.content);
        break;
      case Step::Kind::Strip: {
        size_t begin = 0, end = s.size();
        while (step.left && begin < end) {
          size_t next = begin;
          if (!is_unicode_whitespace(next_code_point(s, next))) break;
          begin = next;
        }
        while (step.right && end > begin) {
          size_t start = end - 1;
          while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
          size_t probe = start;
          if (!is_unicode_whitespace(next_code_point(s, probe))) break;
          end = start;
        }
        s = s.substr(begin, end - begin);
        break;
      }
    }
  }
  return s;
}

// ---- pre-tokenizer ---------------------------------------------------------------------------

void PreTokenizer::parse_into(const json& config, const std::string& source, std::vector<Step>& steps) {
  if (config.is_null()) return;
  const std::string where = "pre_tokenizer";
  const std::string type = type_of(config, source, where);
  if (type == "Sequence") {
    const json& list = field(config, "pretokenizers", source, where);
    VG_CHECK(list.is_array(), "tokenizer", source, ": pre_tokenizer.pretokenizers should be a list");
    for (const json& item : list) parse_into(item, source, steps);
  } else if (type == "Split") {
    const std::string w = "pre_tokenizer Split";
    Step step{string_pattern(config, source, w), Behavior::Isolated};
    const std::string behavior = string_field(config, "behavior", source, w);
    if (behavior == "Removed") {
      step.behavior = Behavior::Removed;
    } else if (behavior == "Isolated") {
      step.behavior = Behavior::Isolated;
    } else if (behavior == "MergedWithPrevious") {
      step.behavior = Behavior::MergedWithPrevious;
    } else if (behavior == "MergedWithNext") {
      step.behavior = Behavior::MergedWithNext;
    } else if (behavior == "Contiguous") {
      step.behavior = Behavior::Contiguous;
    } else {
      throw Error("tokenizer", str(source, ": pre_tokenizer Split has an unknown behavior '", behavior, "'"));
    }
    VG_CHECK(!bool_field(config, "invert", false, source, w), "tokenizer", source,
             ": pre_tokenizer Split with invert = true is not supported");
    steps.push_back(step);
  } else {
    throw Error("tokenizer",
                str(source, ": pre_tokenizer type '", type, "' is not supported (supported: Split, Sequence)"));
  }
}

PreTokenizer PreTokenizer::parse(const json& config, const std::string& source) {
  PreTokenizer p;
  parse_into(config, source, p.steps_);
  return p;
}

void PreTokenizer::split(std::string_view text, const Step& step, std::vector<std::string_view>& out) {
  struct Piece {
    size_t begin, end;
    bool is_match;
  };
  std::vector<Piece> pieces;
  size_t prev = 0;
  for (size_t hit; (hit = text.find(step.pattern, prev)) != std::string_view::npos;) {
    if (prev != hit) pieces.push_back({prev, hit, false});
    pieces.push_back({hit, hit + step.pattern.size(), true});
    prev = hit + step.pattern.size();
  }
  if (prev != text.size()) pieces.push_back({prev, text.size(), false});

  // Hugging Face's SplitDelimiterBehavior, on (offsets, is_match) pieces.
  std::vector<Piece> merged;
  bool previous_match = false;
  switch (step.behavior) {
    case Behavior::Removed:
      for (const Piece& p : pieces) {
        if (!p.is_match) merged.push_back(p);
      }
      break;
    case Behavior::Isolated: merged = pieces; break;
    case Behavior::MergedWithPrevious:
      for (const Piece& p : pieces) {
        if (p.is_match && !previous_match && !merged.empty()) {
          merged.back().end = p.end;
        } else {
          merged.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
    case Behavior::MergedWithNext:
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous_match && !merged.empty()) {
          merged.back().begin = it->begin;
        } else {
          merged.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    case Behavior::Contiguous:
      for (const Piece& p : pieces) {
        if (p.is_match == previous_match && !merged.empty()) {
          merged.back().end = p.end;
        } else {
          merged.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
  }
  for (const Piece& p : merged) {
    if (p.end > p.begin) out.push_back(text.substr(p.begin, p.end - p.begin));
  }
}

void PreTokenizer::apply(std::string_view text, std::vector<std::string_view>& words) const {
  if (text.empty()) return;
  if (steps_.empty()) {
    words.push_back(text);
    return;
  }
  std::vector<std::string_view> current{text}, next;
  for (const Step& step : steps_) {
    next.clear();
    for (std::string_view piece : current) split(piece, step, next);
    current.swap(next);
  }
  words.insert(words.end(), current.begin(), current.end());
}

// ---- post-processor --------------------------------------------------------------------------

PostProcessor PostProcessor::parse(const json& config, const std::string& source) {
  PostProcessor p;
  if (config.is_null()) return p;
  const std::string type = type_of(config, source, "post_processor");
  VG_CHECK(type == "TemplateProcessing", "tokenizer", source, ": post_processor type '", type,
           "' is not supported (supported: TemplateProcessing)");
  const std::string where = "post_processor TemplateProcessing";
  const json& single = field(config, "single", source, where);
  const json& specials = field(config, "special_tokens", source, where);
  VG_CHECK(single.is_array() && specials.is_object(), "tokenizer", source, ": ", where,
           " should have a list \"single\" and an object \"special_tokens\"");
  bool seen_sequence = false;
  for (const json& item : single) {
    if (item.contains("Sequence")) {
      const std::string id = string_field(item["Sequence"], "id", source, where + " single[].Sequence");
      VG_CHECK(id == "A" && !seen_sequence, "tokenizer", source, ": ", where,
               ": the single template should hold sequence A once, found sequence ", id);
      seen_sequence = true;
    } else if (item.contains("SpecialToken")) {
      const std::string name = string_field(item["SpecialToken"], "id", source, where + " single[].SpecialToken");
      auto it = specials.find(name);
      VG_CHECK(it != specials.end(), "tokenizer", source, ": ", where, " uses special token '", name,
               "', which is not in special_tokens");
      const std::string ids_where = where + " special_tokens['" + name + "']";
      const json& ids = field(*it, "ids", source, ids_where);
      VG_CHECK(ids.is_array(), "tokenizer", source, ": ", where, " special_tokens['", name, "'].ids should be a list");
      for (const json& id : ids) {
        VG_CHECK(id.is_number_unsigned() && id.get<uint64_t>() < (uint64_t{1} << 31), "tokenizer", source, ": ", where,
                 " special_tokens['", name, "'] has an invalid id ", id.dump());
        (seen_sequence ? p.suffix_ : p.prefix_).push_back(id.get<int32_t>());
      }
    } else {
      throw Error("tokenizer", str(source, ": ", where, " has an unknown template item ", item.dump()));
    }
  }
  VG_CHECK(seen_sequence, "tokenizer", source, ": ", where, ": the single template has no sequence A");
  return p;
}

void PostProcessor::apply(std::vector<int32_t>& ids) const {
  if (prefix_.empty() && suffix_.empty()) return;
  ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
}

// ---- decoder ---------------------------------------------------------------------------------

Decoder Decoder::parse(const json& config, const std::string& source) {
  Decoder d;
  if (config.is_null()) return d;
  // Flatten nested sequences into one list of steps.
  std::vector<const json*> flat;
  std::function<void(const json&)> flatten = [&](const json& c) {
    if (type_of(c, source, "decoder") == "Sequence") {
      static const std::string kWhere = "decoder Sequence";
      const json& list = field(c, "decoders", source, kWhere);
      VG_CHECK(list.is_array(), "tokenizer", source, ": decoder.decoders should be a list");
      for (const json& item : list) flatten(item);
    } else {
      flat.push_back(&c);
    }
  };
  flatten(config);

  // Phases: 0 per token, 1 after ByteFallback (per decoded piece), 2 after Fuse (whole text).
  int phase = 0;
  for (const json* c : flat) {
    const std::string type = type_of(*c, source, "decoder");
    const std::string where = "decoder " + type;
    VG_CHECK(!d.final_strip_, "tokenizer", source, ": decoder ", type, " after Strip after Fuse is not supported");
    if (type == "ByteFallback") {
      VG_CHECK(phase == 0, "tokenizer", source,
               ": decoder ByteFallback after Fuse or a second ByteFallback is not supported");
      d.byte_fallback_ = true;
      phase = 1;
    } else if (type == "Fuse") {
      phase = 2;
    } else if (type == "Replace") {
      Step step{Step::Kind::Replace, string_pattern(*c, source, where), string_field(*c, "content", source, where)};
      if (phase == 0) {
        d.token_steps_.push_back(step);
      } else {
        // On decoded text a multi-character pattern could straddle two streamed pieces.
        VG_CHECK(single_code_point(step.pattern), "tokenizer", source,
                 ": decoder Replace of a multi-character pattern after ByteFallback or Fuse is not supported");
        d.chunk_steps_.push_back(step);
      }
    } else if (type == "Strip") {
      Step step{Step::Kind::Strip, "", ""};
      step.strip_char = single_char(string_field(*c, "content", source, where), source, where);
      step.start = count_field(*c, "start", source, where);
      step.stop = count_field(*c, "stop", source, where);
      if (phase == 0) {
        d.token_steps_.push_back(step);
      } else {
        VG_CHECK(phase == 2, "tokenizer", source, ": decoder Strip between ByteFallback and Fuse is not supported");
        d.final_strip_ = true;
        d.final_strip_char_ = step.strip_char;
        d.final_strip_start_ = step.start;
        d.final_strip_stop_ = step.stop;
      }
    } else {
      throw Error("tokenizer", str(source, ": decoder type '", type,
                                   "' is not supported (supported: Replace, ByteFallback, Fuse, Strip, Sequence)"));
    }
  }
  return d;
}

std::string Decoder::apply_steps(const std::vector<Step>& steps, std::string text) {
  for (const Step& step : steps) {
    if (step.kind == Step::Kind::Replace) {
      if (text.find(step.pattern) != std::string::npos) text = replace_all(text, step.pattern, step.content);
    } else {
      text = strip_chars(text, step.strip_char, step.start, step.stop);
    }
  }
  return text;
}

Decoder::StreamState Decoder::start() const {
  StreamState state;
  state.strip_start_left = final_strip_ ? final_strip_start_ : 0;
  return state;
}

void Decoder::emit_chunk(StreamState& state, std::string chunk, std::string& out) const {
  if (chunk.empty()) return;
  if (!chunk_steps_.empty()) chunk = apply_steps(chunk_steps_, std::move(chunk));
  if (!final_strip_) {
    out += chunk;
    return;
  }
  for (size_t pos = 0; pos < chunk.size();) {
    const size_t begin = pos;
    const char32_t cp = next_code_point(chunk, pos);
    const std::string_view ch(chunk.data() + begin, pos - begin);
    if (!state.strip_start_done) {
      if (state.strip_start_left > 0 && cp == final_strip_char_) {
        --state.strip_start_left;
        continue;
      }
      state.strip_start_done = true;
    }
    if (final_strip_stop_ > 0 && cp == final_strip_char_) {
      state.held += ch;
      if (++state.held_count > final_strip_stop_) {
        const size_t first = static_cast<size_t>(utf8_length(static_cast<unsigned char>(state.held[0])));
        out.append(state.held, 0, first);
        state.held.erase(0, first);
        --state.held_count;
      }
      continue;
    }
    out += state.held;
    state.held.clear();
    state.held_count = 0;
    out += ch;
  }
}

void Decoder::feed(StreamState& state, std::string_view token, std::string& out) const {
  std::string s = token_steps_.empty() ? std::string(token) : apply_steps(token_steps_, std::string(token));
  uint8_t byte = 0;
  if (byte_fallback_ && byte_token(s, byte)) {
    std::string chunk;
    state.bytes.push(byte, chunk);
    state.in_byte_run = true;
    emit_chunk(state, std::move(chunk), out);
    return;
  }
  if (state.in_byte_run) {
    std::string chunk;
    state.bytes.finish(chunk);
    state.in_byte_run = false;
    emit_chunk(state, std::move(chunk), out);
  }
  emit_chunk(state, std::move(s), out);
}

void Decoder::finish(StreamState& state, std::string& out) const {
  if (state.in_byte_run) {
    std::string chunk;
    state.bytes.finish(chunk);
    emit_chunk(state, std::move(chunk), out);
  }
  state = start();  // characters still held are the ones the final Strip removes
}

}  // namespace vg::text
