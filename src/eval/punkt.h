// The Punkt sentence splitter exactly as NLTK 3.8's nltk.tokenize.punkt.PunktSentenceTokenizer
// runs it (tokenize(text), realign_boundaries=True): nltk.word_tokenize, and so Hugging Face
// evaluate's METEOR, splits texts into sentences with it before the word tokenizer, which
// changes the tokens wherever a period ends an inner sentence ("straight." vs "straight", ".").
//
// Punkt decides with learned parameters (abbreviations such as "dr", "vs", "reps"; collocations;
// frequent sentence starters; orthographic statistics). NLTK's English model is nltk_data's
// punkt / punkt_tab, which this repository does not ship. PunktParameters::load() reads the
// punkt_tab text layout (what `nltk.download("punkt_tab")` installs); find_english_parameters()
// looks where NLTK does. Without parameters the splitter is Punkt untrained
// (PunktSentenceTokenizer() with empty PunktParameters): every "word." is a sentence end, so it
// differs from the English model only after abbreviations, initials and ordinal numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vg::eval {

struct PunktParameters {
  std::unordered_set<std::string> abbrev_types;                // lowercase, without the final period
  std::set<std::pair<std::string, std::string>> collocations;  // (type before the period, type after)
  std::unordered_set<std::string> sent_starters;               // lowercase types
  std::unordered_map<std::string, int> ortho_context;          // type -> _ORTHO_* flags

  // Reads a punkt_tab language folder: abbrev_types.txt, collocations.tab (two tab-separated
  // types per line), sent_starters.txt, ortho_context.tab (type, tab, integer). Lines are
  // stripped of surrounding whitespace; empty lines are skipped. Throws an [eval] error naming a
  // missing or malformed file.
  static PunktParameters load(const std::string& folder);
};

// The English punkt_tab folder when one is installed: $VG_PUNKT_DIR if set (it must then exist),
// else tokenizers/punkt_tab/english under $NLTK_DATA (':'-separated), ~/nltk_data,
// /usr/share/nltk_data, /usr/local/share/nltk_data, /usr/lib/nltk_data, /usr/local/lib/nltk_data.
std::optional<std::string> find_english_punkt_folder();

class PunktSentenceTokenizer {
 public:
  // Untrained when `parameters` is null.
  explicit PunktSentenceTokenizer(std::shared_ptr<const PunktParameters> parameters = nullptr,
                                  std::string description = "");

  // English parameters from find_english_punkt_folder(), or untrained; loaded once per process.
  static std::shared_ptr<const PunktSentenceTokenizer> english();

  // span_tokenize(text): [begin, end) code-point offsets of each sentence.
  std::vector<std::pair<size_t, size_t>> span_tokenize(std::u32string_view text) const;
  // tokenize(text): the sentences.
  std::vector<std::u32string> tokenize(std::u32string_view text) const;
  std::vector<std::string> tokenize(std::string_view text) const;

  bool trained() const { return parameters_ != nullptr; }
  // Where the parameters came from ("untrained" without any), for logs and reports.
  const std::string& description() const { return description_; }

 private:
  struct Token;
  bool text_contains_sentbreak(std::u32string_view context) const;
  void first_pass(Token& token) const;
  void second_pass(Token& token, const Token* next) const;
  int ortho_heuristic(const Token& token) const;  // 1 true, 0 false, -1 "unknown"
  int ortho_context(const std::string& type) const;

  std::shared_ptr<const PunktParameters> parameters_;
  std::string description_;
};

}  // namespace vg::eval
