// WordNet reader (src/eval/wordnet.h) against NLTK 3.8's WordNetCorpusReader over the same files
// (tests/data/eval/wordnet.json): morphy with and without the exception lists for every part of
// speech, synsets with their order, METEOR's synonym sets and lemma names. Needs wordnet-base.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "eval/wordnet.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::golden;
using testing::join;

WordNetPos pos_of(char letter) {
  for (WordNetPos pos : kWordNetPosList)
    if (wordnet_pos_letter(pos) == letter) return pos;
  throw std::runtime_error(std::string("bad pos ") + letter);
}

TEST(WordNet, MatchesNltkOnEveryGoldenWord) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const auto& cases = golden("wordnet.json")["cases"];
  ASSERT_GT(cases.size(), 500u);
  int mismatches = 0;
  const auto fail = [&](const std::string& word, const std::string& what, const std::string& expected,
                        const std::string& actual) {
    if (++mismatches <= 10)
      ADD_FAILURE() << "'" << word << "' " << what << "\n  nltk: " << expected << "\n  ours: " << actual;
  };
  for (const auto& c : cases) {
    const std::string word = c["word"].get<std::string>();
    const std::optional<std::string> morphy = wordnet->morphy(word);
    const std::string expected_morphy = c["morphy"].is_null() ? "None" : c["morphy"].get<std::string>();
    if (morphy.value_or("None") != expected_morphy) fail(word, "morphy", expected_morphy, morphy.value_or("None"));
    for (const auto& [letter, forms] : c["pos"].items()) {
      const WordNetPos pos = pos_of(letter[0]);
      const auto expected = forms[0].get<std::vector<std::string>>();
      const auto expected_plain = forms.size() > 1 ? forms[1].get<std::vector<std::string>>() : expected;
      const auto actual = wordnet->morphy_forms(word, pos);
      const auto actual_plain = wordnet->morphy_forms(word, pos, /*check_exceptions=*/false);
      if (actual != expected) fail(word, "_morphy " + letter, join(expected), join(actual));
      if (actual_plain != expected_plain)
        fail(word, "_morphy " + letter + " without exceptions", join(expected_plain), join(actual_plain));
    }
    std::vector<SynsetId> expected_synsets;
    for (const auto& s : c["synsets"])
      expected_synsets.push_back({pos_of(s[0].get<std::string>()[0]), s[1].get<uint32_t>()});
    const std::vector<SynsetId> synsets = wordnet->synsets(word);
    if (synsets != expected_synsets)
      fail(word, "synsets", std::to_string(expected_synsets.size()) + " synsets",
           std::to_string(synsets.size()) + " synsets");
    const auto expected_synonyms = c["synonyms"].get<std::vector<std::string>>();
    const auto synonyms = wordnet->single_word_synonyms(word);
    if (synonyms != expected_synonyms) fail(word, "synonyms", join(expected_synonyms), join(synonyms));
    if (c.contains("lemma_names")) {
      for (size_t i = 0; i < c["lemma_names"].size(); ++i) {
        const auto expected_names = c["lemma_names"][i].get<std::vector<std::string>>();
        const auto names = wordnet->lemma_names(synsets.at(i));
        if (names != expected_names)
          fail(word, "lemma_names of synset " + std::to_string(i), join(expected_names), join(names));
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " words";
}

TEST(WordNet, HandCheckedLookups) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  EXPECT_EQ(wordnet->morphy("dogs"), "dog");  // NLTK's morphy doctests
  EXPECT_EQ(wordnet->morphy("churches"), "church");
  EXPECT_EQ(wordnet->morphy("aardwolves"), "aardwolf");
  EXPECT_EQ(wordnet->morphy("abaci"), "abacus");
  EXPECT_EQ(wordnet->morphy("hardrock", WordNetPos::kAdverb), std::nullopt);
  EXPECT_EQ(wordnet->morphy("book", WordNetPos::kNoun), "book");
  EXPECT_EQ(wordnet->morphy("book", WordNetPos::kAdjective), std::nullopt);
  EXPECT_EQ(wordnet->morphy_forms("bent", WordNetPos::kVerb), (std::vector<std::string>{"bend"}));  // verb.exc
  EXPECT_EQ(wordnet->morphy_forms("knees", WordNetPos::kNoun), (std::vector<std::string>{"knee"}));
  const auto quick = wordnet->single_word_synonyms("quick");
  EXPECT_TRUE(std::binary_search(quick.begin(), quick.end(), "fast")) << join(quick);
  const auto lift = wordnet->single_word_synonyms("lift");
  EXPECT_TRUE(std::binary_search(lift.begin(), lift.end(), "raise")) << join(lift);
  EXPECT_TRUE(wordnet->synsets("").empty());
  EXPECT_TRUE(wordnet->synsets("zzzxq").empty());
}

TEST(WordNet, MissingFolderIsAClearError) {
  try {
    WordNet wordnet("/nonexistent/wordnet");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.component(), "eval");
    EXPECT_NE(e.message().find("/nonexistent/wordnet"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("apt-get install wordnet-base"), std::string::npos) << e.what();
  }
  // A folder without the database files names the first missing file.
  const std::string empty = (std::filesystem::temp_directory_path() / "vg_wordnet_empty").string();
  std::filesystem::create_directories(empty);
  try {
    WordNet wordnet(empty);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(empty + "/index.noun"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(empty);
}

TEST(WordNet, FolderFromTheEnvironment) {
  ::setenv("VG_WORDNET_DIR", "/nonexistent/from-env", 1);
  EXPECT_EQ(WordNet::default_directory(), "/nonexistent/from-env");
  EXPECT_THROW(WordNet(), Error);
  ::unsetenv("VG_WORDNET_DIR");
  EXPECT_EQ(WordNet::default_directory(), "/usr/share/wordnet");
}

TEST(WordNet, LoadsQuickly) {
  if (!testing::wordnet_or_fail()) return;
  const auto start = std::chrono::steady_clock::now();
  const WordNet wordnet;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] WordNet loaded in %.0f ms\n", seconds * 1000);
  EXPECT_FALSE(wordnet.synsets("knee").empty());
}

}  // namespace
}  // namespace vg::eval
