// The part of WordNet 3.0 that NLTK's METEOR uses, read straight from the database files
// (wndb(5): index.{noun,verb,adj,adv}, data.*, *.exc; Debian's wordnet-base installs them in
// /usr/share/wordnet), reproducing NLTK 3.8's WordNetCorpusReader: _morphy (exception lists,
// then the detachment rules per part of speech, filtered by the index), morphy, synsets (all
// parts of speech, lemma lowercased, the index's synset order) and each synset's lemma names
// (syntactic markers such as "(a)" removed, case kept).
//
// Loading maps the files and indexes index.* and *.exc (tens of milliseconds); data lines are
// parsed when a synset is asked for. A loaded WordNet is immutable and safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vg::io {
class MappedFile;
}

namespace vg::eval {

// NLTK's POS_LIST order, which is also the order synsets() visits them in.
enum class WordNetPos : uint8_t { kNoun = 0, kVerb = 1, kAdjective = 2, kAdverb = 3 };
inline constexpr WordNetPos kWordNetPosList[] = {WordNetPos::kNoun, WordNetPos::kVerb, WordNetPos::kAdjective,
                                                 WordNetPos::kAdverb};
// NLTK's one-letter name: 'n', 'v', 'a', 'r'.
char wordnet_pos_letter(WordNetPos pos);

struct SynsetId {
  WordNetPos pos;       // the data file it is in (satellite adjectives are in data.adj)
  uint32_t offset = 0;  // byte offset of its line in data.<pos>
  bool operator==(const SynsetId&) const = default;
};

class WordNet {
 public:
  // The folder used when none is given: $VG_WORDNET_DIR if set, else /usr/share/wordnet.
  static std::string default_directory();

  // Loads the database in `directory` (default_directory() when empty). A missing folder or file
  // throws an [eval] error that names it and says how to install it (apt-get install wordnet-base).
  explicit WordNet(const std::string& directory = "");
  ~WordNet();
  WordNet(const WordNet&) = delete;
  WordNet& operator=(const WordNet&) = delete;

  // One instance per folder for the whole process, loaded on first use (thread-safe).
  static std::shared_ptr<const WordNet> shared(const std::string& directory = "");

  const std::string& directory() const { return directory_; }

  // NLTK's _morphy(form, pos, check_exceptions): the base forms of `form` that are in the index
  // for `pos`, in NLTK's order. `form` is used as given (not lowercased).
  std::vector<std::string> morphy_forms(std::string_view form, WordNetPos pos, bool check_exceptions = true) const;
  // NLTK's morphy(form, pos=None): the first base form over all parts of speech (or one).
  std::optional<std::string> morphy(std::string_view form, std::optional<WordNetPos> pos = std::nullopt,
                                    bool check_exceptions = true) const;

  // NLTK's synsets(lemma): lemma lowercased with str.lower(), then for each part of speech, each
  // morphy form, the index's synsets for it (repeats kept, as NLTK does).
  std::vector<SynsetId> synsets(std::string_view lemma) const;

  // Synset.lemma_names(): the words of the synset's data line, markers like "(p)" removed.
  std::vector<std::string> lemma_names(SynsetId synset) const;

  // What NLTK's METEOR matches a hypothesis word against: the lemma names without '_' of all
  // synsets(word), sorted and unique. (METEOR adds the word itself.)
  std::vector<std::string> single_word_synonyms(std::string_view word) const;

  // Whether `lemma` (lowercase, '_' for spaces) has an index entry for `pos`.
  bool in_index(std::string_view lemma, WordNetPos pos) const;

 private:
  // One index.<pos> line: the lemma and where its synset offsets are in index_offsets_.
  struct IndexLine {
    std::string_view lemma;
    uint32_t first = 0;
    uint32_t count = 0;
  };

  void load_index(WordNetPos pos);
  void load_exceptions(WordNetPos pos);
  const IndexLine* find_index_line(std::string_view lemma, WordNetPos pos) const;
  std::string_view data_line(SynsetId synset) const;

  std::string directory_;
  std::vector<std::shared_ptr<io::MappedFile>> files_;  // keeps the views below alive
  std::vector<IndexLine> index_[4];                     // per part of speech, sorted by lemma
  std::vector<uint32_t> index_offsets_;
  std::unordered_map<std::string_view, std::vector<std::string_view>> exceptions_[4];
  std::string_view data_[4];
};

}  // namespace vg::eval
