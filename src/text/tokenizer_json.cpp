// SAX reading of tokenizer.json; see tokenizer_json.h.
#include "text/tokenizer_json.h"

#include <limits>

#include "core/error.h"
#include "io/mapped_file.h"

namespace vg::text {
namespace {

using json = nlohmann::json;

// Builds a DOM for everything except root.model.vocab (object) and root.model.merges (array),
// which go straight into the arenas of TokenizerJson.
class TokenizerSax {
 public:
  explicit TokenizerSax(TokenizerJson& out) : out_(out) {}

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) {
    if (mode_ == Mode::Vocab) return vocab_id(v);
    return value(json(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (mode_ == Mode::Vocab) {
      fail_if(v > static_cast<json::number_unsigned_t>(std::numeric_limits<int64_t>::max()), "model.vocab['",
              current_key(), "'] has an id that is too large: ", v);
      return vocab_id(static_cast<int64_t>(v));
    }
    return value(json(v));
  }
  bool number_float(json::number_float_t v, const std::string&) {
    if (mode_ == Mode::Vocab) fail("model.vocab['", current_key(), "'] should be an integer id, found ", v);
    return value(json(v));
  }
  bool string(std::string& s) {
    if (mode_ == Mode::Merges) return merge_string(s);
    if (mode_ == Mode::Vocab) fail("model.vocab['", current_key(), "'] should be an integer id, found a string");
    return value(json(std::move(s)));
  }
  bool binary(json::binary_t&) { fail("unexpected binary value"); }

  bool start_object(std::size_t) {
    if (mode_ == Mode::Vocab) fail("model.vocab['", current_key(), "'] should be an integer id, found an object");
    if (mode_ == Mode::Merges) fail("model.merges[", out_.merges.size(), "] should be a pair of strings");
    if (at_model_child("vocab")) {
      enter(Mode::Vocab);
      out_.has_vocab_map = true;
      return true;
    }
    open(json::object());
    return true;
  }
  bool key(std::string& k) {
    if (static_cast<int>(keys_.size()) <= depth_) keys_.resize(depth_ + 1);
    keys_[depth_] = k;
    if (mode_ == Mode::Vocab) {
      vocab_key_offset_ = out_.vocab_text.size();
      out_.vocab_text += k;
    }
    return true;
  }
  bool end_object() {
    if (mode_ == Mode::Vocab && depth_ == mode_depth_) {
      leave();
      return true;
    }
    close();
    return true;
  }
  bool start_array(std::size_t) {
    if (mode_ == Mode::Vocab) fail("model.vocab['", current_key(), "'] should be an integer id, found an array");
    if (mode_ == Mode::Merges) {
      fail_if(depth_ != mode_depth_, "model.merges[", out_.merges.size(), "] should be a pair of strings");
      ++depth_;
      pair_count_ = 0;
      return true;
    }
    if (at_model_child("merges")) {
      enter(Mode::Merges);
      out_.has_merges = true;
      return true;
    }
    open(json::array());
    return true;
  }
  bool end_array() {
    if (mode_ == Mode::Merges) {
      if (depth_ == mode_depth_) {
        leave();
        return true;
      }
      fail_if(pair_count_ != 2, "model.merges[", out_.merges.size(), "] should be a pair of strings, found ",
              pair_count_, " element(s)");
      out_.merges.push_back(pending_);
      --depth_;
      return true;
    }
    close();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    fail("not valid JSON at byte ", position, ": ", e.what());
  }

 private:
  enum class Mode { Dom, Vocab, Merges };
  static constexpr int kMaxDepth = 128;

  template <class... Args>
  [[noreturn]] void fail(const Args&... args) {
    throw Error("tokenizer", str(out_.path, ": ", args...));
  }
  template <class... Args>
  void fail_if(bool cond, const Args&... args) {
    if (cond) fail(args...);
  }

  std::string current_key() const { return depth_ < static_cast<int>(keys_.size()) ? keys_[depth_] : ""; }

  // True when the value about to open is root["model"][name].
  bool at_model_child(const char* name) const {
    return mode_ == Mode::Dom && depth_ == 2 && keys_.size() > 2 && keys_[1] == "model" && keys_[2] == name &&
           stack_.size() == 2 && stack_[0]->is_object() && stack_[1]->is_object();
  }

  void enter(Mode mode) {
    mode_ = mode;
    ++depth_;
    mode_depth_ = depth_;
  }
  void leave() {
    mode_ = Mode::Dom;
    --depth_;
  }

  bool vocab_id(int64_t id) {
    const uint64_t size = out_.vocab_text.size() - vocab_key_offset_;
    out_.vocab.push_back({static_cast<uint32_t>(vocab_key_offset_), static_cast<uint32_t>(size), id});
    return true;
  }

  bool merge_string(const std::string& s) {
    auto append = [&](std::string_view piece, uint32_t& offset, uint32_t& size) {
      offset = static_cast<uint32_t>(out_.merge_text.size());
      size = static_cast<uint32_t>(piece.size());
      out_.merge_text += piece;
    };
    if (depth_ == mode_depth_) {
      // The format before tokenizers 0.20: "left right", split on the one space.
      const size_t space = s.find(' ');
      fail_if(space == std::string::npos || s.find(' ', space + 1) != std::string::npos, "model.merges[",
              out_.merges.size(), "] = \"", s, "\" should be two tokens separated by one space");
      TokenizerJson::MergeEntry m{};
      append(std::string_view(s).substr(0, space), m.left_offset, m.left_size);
      append(std::string_view(s).substr(space + 1), m.right_offset, m.right_size);
      out_.merges.push_back(m);
      return true;
    }
    fail_if(pair_count_ >= 2, "model.merges[", out_.merges.size(), "] should be a pair of strings");
    if (pair_count_ == 0) {
      append(s, pending_.left_offset, pending_.left_size);
    } else {
      append(s, pending_.right_offset, pending_.right_size);
    }
    ++pair_count_;
    return true;
  }

  // DOM building.
  bool value(json v) {
    if (mode_ == Mode::Merges) fail("model.merges[", out_.merges.size(), "] should be a pair of strings");
    if (mode_ == Mode::Vocab) fail("model.vocab['", current_key(), "'] should be an integer id, found ", v.dump());
    if (stack_.empty()) {
      fail("the file should hold a JSON object, found ", v.type_name());
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
    } else {
      top[keys_[depth_]] = std::move(v);
    }
    return true;
  }
  void open(json container) {
    // Deeper nesting has no meaning in a tokenizer.json and would make recursive code overflow the stack.
    fail_if(depth_ >= kMaxDepth, "the JSON is nested more than ", kMaxDepth, " levels deep");
    if (stack_.empty()) {
      fail_if(!container.is_object(), "the file should hold a JSON object, found an array");
      out_.doc = std::move(container);
      stack_.push_back(&out_.doc);
    } else {
      json& top = *stack_.back();
      json* child;
      if (top.is_array()) {
        top.push_back(std::move(container));
        child = &top.back();
      } else {
        child = &(top[keys_[depth_]] = std::move(container));
      }
      stack_.push_back(child);
    }
    ++depth_;
  }
  void close() {
    stack_.pop_back();
    --depth_;
  }

  TokenizerJson& out_;
  Mode mode_ = Mode::Dom;
  int depth_ = 0;                  // containers open
  int mode_depth_ = 0;             // depth of the streamed container
  std::vector<std::string> keys_;  // keys_[d]: the current key of the object at depth d
  std::vector<json*> stack_;
  uint64_t vocab_key_offset_ = 0;
  int pair_count_ = 0;
  TokenizerJson::MergeEntry pending_{};
};

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& source) {
  TokenizerJson out;
  out.path = source;
  VG_CHECK(text.size() < (uint64_t{1} << 32), "tokenizer", source, ": the file is too large (", text.size(), " bytes)");
  TokenizerSax sax(out);
  const bool ok = json::sax_parse(text.begin(), text.end(), &sax);
  VG_CHECK(ok, "tokenizer", source, ": not valid JSON");
  VG_CHECK(out.doc.is_object(), "tokenizer", source, ": the file should hold a JSON object");
  return out;
}

TokenizerJson read_tokenizer_json(const std::string& path) {
  std::shared_ptr<io::MappedFile> file;
  try {
    file = io::MappedFile::open(path);
  } catch (const Error& e) {
    throw Error("tokenizer", str("cannot read ", path, ": ", e.message()));
  }
  const char* data = reinterpret_cast<const char*>(file->data());
  VG_CHECK(file->size() > 0, "tokenizer", path, ": the file is empty");
  return parse_tokenizer_json(std::string_view(data, file->size()), path);
}

}  // namespace vg::text
