// WordNet 3.0 database reader reproducing NLTK 3.8's WordNetCorpusReader; see wordnet.h.
#include "eval/wordnet.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <span>
#include <unordered_set>

#include "core/error.h"
#include "eval/python_text.h"
#include "io/mapped_file.h"

namespace vg::eval {
namespace {

constexpr const char* kFileSuffix[4] = {"noun", "verb", "adj", "adv"};

// NLTK's MORPHOLOGICAL_SUBSTITUTIONS, in order.
struct Substitution {
  std::string_view old_suffix, new_suffix;
};
constexpr Substitution kNounRules[] = {{"s", ""},      {"ses", "s"},   {"ves", "f"},   {"xes", "x"}, {"zes", "z"},
                                       {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}};
constexpr Substitution kVerbRules[] = {{"s", ""},   {"ies", "y"}, {"es", "e"},  {"es", ""},
                                       {"ed", "e"}, {"ed", ""},   {"ing", "e"}, {"ing", ""}};
constexpr Substitution kAdjectiveRules[] = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};

std::span<const Substitution> substitutions(WordNetPos pos) {
  switch (pos) {
    case WordNetPos::kNoun: return kNounRules;
    case WordNetPos::kVerb: return kVerbRules;
    case WordNetPos::kAdjective: return kAdjectiveRules;
    case WordNetPos::kAdverb: return {};
  }
  return {};
}

// Python's str.split() on ASCII text.
bool is_split_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

class Tokens {
 public:
  explicit Tokens(std::string_view line) : line_(line) {}
  // The next whitespace-separated token, or an empty view at the end.
  std::string_view next() {
    while (pos_ < line_.size() && is_split_space(line_[pos_])) ++pos_;
    const size_t start = pos_;
    while (pos_ < line_.size() && !is_split_space(line_[pos_])) ++pos_;
    return line_.substr(start, pos_ - start);
  }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

// int(token) or int(token, 16); nullopt when Python would raise ValueError (or on overflow).
std::optional<uint64_t> parse_uint(std::string_view token, int base = 10) {
  uint64_t value = 0;
  if (token.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value, base);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

// NLTK: re.match(r"(.*?)(\(.*\))?$", name) keeps group 1, i.e. drops a trailing "(...)" that
// starts at the first '(' (adjective markers "(a)", "(p)", "(ip)").
std::string_view strip_syntactic_marker(std::string_view name) {
  if (name.size() < 2 || name.back() != ')') return name;
  const size_t open = name.find('(');
  if (open == std::string_view::npos || open + 1 >= name.size()) return name;
  return name.substr(0, open);
}

std::string install_hint(const std::string& directory) {
  return str("WordNet 3.0 (needed by METEOR) is read from ", directory,
             "; install it with `apt-get install wordnet-base` (scripts/setup.sh does), or point VG_WORDNET_DIR at a "
             "folder with index.{noun,verb,adj,adv}, data.{noun,verb,adj,adv} and {noun,verb,adj,adv}.exc");
}

}  // namespace

char wordnet_pos_letter(WordNetPos pos) {
  constexpr char kLetters[4] = {'n', 'v', 'a', 'r'};
  return kLetters[static_cast<int>(pos)];
}

std::string WordNet::default_directory() {
  const char* from_env = std::getenv("VG_WORDNET_DIR");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  return "/usr/share/wordnet";
}

WordNet::WordNet(const std::string& directory) : directory_(directory.empty() ? default_directory() : directory) {
  VG_CHECK(io::is_directory(directory_), "eval", "WordNet folder ", directory_, " does not exist. ",
           install_hint(directory_));
  for (const char* suffix : kFileSuffix)
    for (const char* kind : {"index.", "data."}) {
      const std::string path = str(directory_, "/", kind, suffix);
      VG_CHECK(io::file_exists(path), "eval", "WordNet file ", path, " is missing. ", install_hint(directory_));
    }
  for (const char* suffix : kFileSuffix) {
    const std::string path = str(directory_, "/", suffix, ".exc");
    VG_CHECK(io::file_exists(path), "eval", "WordNet file ", path, " is missing. ", install_hint(directory_));
  }
  index_offsets_.reserve(210000);  // WordNet 3.0 has 206,941 (lemma, pos, synset) entries
  for (WordNetPos pos : kWordNetPosList) {
    load_index(pos);
    load_exceptions(pos);
    auto data = io::MappedFile::open(str(directory_, "/data.", kFileSuffix[static_cast<int>(pos)]));
    data_[static_cast<int>(pos)] = std::string_view(reinterpret_cast<const char*>(data->data()), data->size());
    files_.push_back(std::move(data));
  }
}

WordNet::~WordNet() = default;

std::shared_ptr<const WordNet> WordNet::shared(const std::string& directory) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const WordNet>> loaded;
  const std::string key = directory.empty() ? default_directory() : directory;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded.find(key);
  if (it == loaded.end()) it = loaded.emplace(key, std::make_shared<const WordNet>(key)).first;
  return it->second;
}

void WordNet::load_index(WordNetPos file_pos) {
  const std::string path = str(directory_, "/index.", kFileSuffix[static_cast<int>(file_pos)]);
  auto file = io::MappedFile::open(path);
  const std::string_view text(reinterpret_cast<const char*>(file->data()), file->size());
  files_.push_back(std::move(file));
  std::vector<IndexLine>& lines = index_[static_cast<int>(file_pos)];
  lines.reserve(text.size() / 36);

  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.empty() || line[0] == ' ') continue;  // the license header; NLTK skips lines starting with ' '

    // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
    Tokens tokens(line);
    const std::string_view lemma = tokens.next();
    const std::string_view pos_letter = tokens.next();
    const auto synset_count = parse_uint(tokens.next());
    const auto pointer_count = parse_uint(tokens.next());
    const auto bad_line = [&](const char* what) {
      return str("WordNet ", path, " line ", line_number, ": ", what, " in '", line.substr(0, 80), "'");
    };
    VG_CHECK(synset_count && *synset_count > 0 && *synset_count < 65536, "eval", bad_line("bad synset count"));
    VG_CHECK(pointer_count, "eval", bad_line("bad pointer count"));
    for (uint64_t i = 0; i < *pointer_count; ++i) tokens.next();
    const auto sense_count = parse_uint(tokens.next());
    VG_CHECK(sense_count && *sense_count == *synset_count, "eval", bad_line("sense count differs from synset count"));
    tokens.next();  // tagsense_cnt
    // NLTK files the entry under the pos written on the line, which is the file's.
    VG_CHECK(pos_letter.size() == 1 && pos_letter[0] == wordnet_pos_letter(file_pos), "eval",
             bad_line("part of speech differs from the file's"));

    lines.push_back({lemma, static_cast<uint32_t>(index_offsets_.size()), static_cast<uint32_t>(*synset_count)});
    for (uint64_t i = 0; i < *synset_count; ++i) {
      const auto offset = parse_uint(tokens.next());
      VG_CHECK(offset && *offset <= UINT32_MAX, "eval", bad_line("bad synset offset"));
      index_offsets_.push_back(static_cast<uint32_t>(*offset));
    }
  }
  // The files are sorted with one line per lemma; should one not be, sort it and let a later line
  // for the same lemma win, as it does in NLTK's dict.
  const auto by_lemma = [](const IndexLine& a, const IndexLine& b) { return a.lemma < b.lemma; };
  const bool strictly_sorted =
      std::adjacent_find(lines.begin(), lines.end(),
                         [](const IndexLine& a, const IndexLine& b) { return !(a.lemma < b.lemma); }) == lines.end();
  if (!strictly_sorted) {
    std::stable_sort(lines.begin(), lines.end(), by_lemma);
    std::vector<IndexLine> unique;
    for (const IndexLine& line : lines) {
      if (!unique.empty() && unique.back().lemma == line.lemma)
        unique.back() = line;
      else
        unique.push_back(line);
    }
    lines = std::move(unique);
  }
}

const WordNet::IndexLine* WordNet::find_index_line(std::string_view lemma, WordNetPos pos) const {
  const std::vector<IndexLine>& lines = index_[static_cast<int>(pos)];
  const auto it = std::lower_bound(lines.begin(), lines.end(), lemma,
                                   [](const IndexLine& line, std::string_view key) { return line.lemma < key; });
  return it != lines.end() && it->lemma == lemma ? &*it : nullptr;
}

void WordNet::load_exceptions(WordNetPos pos) {
  auto file = io::MappedFile::open(str(directory_, "/", kFileSuffix[static_cast<int>(pos)], ".exc"));
  const std::string_view text(reinterpret_cast<const char*>(file->data()), file->size());
  files_.push_back(std::move(file));
  auto& exceptions = exceptions_[static_cast<int>(pos)];
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    Tokens tokens(text.substr(start, end - start));
    start = end + 1;
    const std::string_view form = tokens.next();
    if (form.empty()) continue;
    std::vector<std::string_view> bases;
    for (std::string_view base = tokens.next(); !base.empty(); base = tokens.next()) bases.push_back(base);
    exceptions[form] = std::move(bases);  // a later line for the same form wins, as in NLTK's dict
  }
}

bool WordNet::in_index(std::string_view lemma, WordNetPos pos) const { return find_index_line(lemma, pos) != nullptr; }

std::vector<std::string> WordNet::morphy_forms(std::string_view form, WordNetPos pos, bool check_exceptions) const {
  // filter_forms: the forms in the index for pos, first occurrences only.
  const auto filter_forms = [&](const std::vector<std::string>& forms) {
    std::vector<std::string> result;
    for (const std::string& f : forms)
      if (in_index(f, pos) && std::find(result.begin(), result.end(), f) == result.end()) result.push_back(f);
    return result;
  };
  // apply_rules. Repeats are dropped as they appear: that changes neither what filter_forms
  // returns nor when the loop ends, and keeps pathological words from growing the list.
  const auto apply_rules = [&](const std::vector<std::string>& forms) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const std::string& f : forms)
      for (const Substitution& rule : substitutions(pos))
        if (f.ends_with(rule.old_suffix)) {
          std::string base = f.substr(0, f.size() - rule.old_suffix.size()) + std::string(rule.new_suffix);
          if (seen.insert(base).second) out.push_back(std::move(base));
        }
    return out;
  };

  if (check_exceptions) {
    const auto& exceptions = exceptions_[static_cast<int>(pos)];
    const auto it = exceptions.find(form);
    if (it != exceptions.end()) {
      // An exception-list form is never run through the rules, even when none of its bases is indexed.
      std::vector<std::string> candidates{std::string(form)};
      for (std::string_view base : it->second) candidates.emplace_back(base);
      return filter_forms(candidates);
    }
  }
  std::vector<std::string> forms = apply_rules({std::string(form)});
  std::vector<std::string> candidates{std::string(form)};
  candidates.insert(candidates.end(), forms.begin(), forms.end());
  std::vector<std::string> results = filter_forms(candidates);
  if (!results.empty()) return results;
  while (!forms.empty()) {
    forms = apply_rules(forms);
    results = filter_forms(forms);
    if (!results.empty()) return results;
  }
  return {};
}

std::optional<std::string> WordNet::morphy(std::string_view form, std::optional<WordNetPos> pos,
                                           bool check_exceptions) const {
  if (pos) {
    std::vector<std::string> forms = morphy_forms(form, *pos, check_exceptions);
    if (forms.empty()) return std::nullopt;
    return forms.front();
  }
  // NLTK's morphy(form) without a pos chains _morphy(form, p) over POS_LIST with the default
  // check_exceptions=True, whatever was passed.
  for (WordNetPos p : kWordNetPosList) {
    std::vector<std::string> forms = morphy_forms(form, p, true);
    if (!forms.empty()) return forms.front();
  }
  return std::nullopt;
}

std::vector<SynsetId> WordNet::synsets(std::string_view lemma) const {
  const std::string lowered = py_lower_utf8(lemma);
  std::vector<SynsetId> result;
  for (WordNetPos pos : kWordNetPosList) {
    for (const std::string& form : morphy_forms(lowered, pos, true)) {
      const IndexLine* line = find_index_line(form, pos);
      VG_ASSERT(line != nullptr);  // morphy only returns indexed forms
      for (uint32_t i = 0; i < line->count; ++i) result.push_back({pos, index_offsets_[line->first + i]});
    }
  }
  return result;
}

std::string_view WordNet::data_line(SynsetId synset) const {
  const std::string_view data = data_[static_cast<int>(synset.pos)];
  const auto bad = [&] {
    return str("WordNet ", directory_, "/data.", kFileSuffix[static_cast<int>(synset.pos)],
               ": no synset line at offset ", synset.offset, " (the index and data files do not match)");
  };
  VG_CHECK(synset.offset < data.size() && (synset.offset == 0 || data[synset.offset - 1] == '\n'), "eval", bad());
  size_t end = data.find('\n', synset.offset);
  if (end == std::string_view::npos) end = data.size();
  const std::string_view line = data.substr(synset.offset, end - synset.offset);
  // NLTK checks that the line starts with the offset written with 8 digits.
  char expected[16];
  std::snprintf(expected, sizeof(expected), "%08u", synset.offset);
  VG_CHECK(line.substr(0, 8) == std::string_view(expected), "eval", bad());
  return line;
}

std::vector<std::string> WordNet::lemma_names(SynsetId synset) const {
  // synset_offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id...] p_cnt ...
  Tokens tokens(data_line(synset));
  tokens.next();
  tokens.next();
  tokens.next();
  const auto count = parse_uint(tokens.next(), 16);
  VG_CHECK(count.has_value(), "eval", "WordNet data.", kFileSuffix[static_cast<int>(synset.pos)], " offset ",
           synset.offset, ": bad word count");
  std::vector<std::string> names;
  names.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    names.emplace_back(strip_syntactic_marker(tokens.next()));
    tokens.next();  // lex_id
  }
  return names;
}

std::vector<std::string> WordNet::single_word_synonyms(std::string_view word) const {
  std::vector<std::string> names;
  for (const SynsetId& synset : synsets(word))
    for (std::string& name : lemma_names(synset))
      if (name.find('_') == std::string::npos) names.push_back(std::move(name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace vg::eval
