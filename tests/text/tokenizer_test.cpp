// The tokenizer on small hand-made tokenizer.json files: BPE merge order, byte fallback and
// unk fusing, added-token flags, Split behaviors, decoders, and clear errors for everything
// that is malformed or not supported.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/tensor_testing.h"
#include "text/tokenizer.h"
#include "text_testing.h"

namespace vg::testing {
namespace {

using json = nlohmann::json;
using text::Tokenizer;

// A BPE tokenizer.json over single characters `chars`, extra tokens and merges; pipeline parts
// are filled in by the caller.
json tiny(const std::string& chars, const std::vector<std::string>& extra,
          const std::vector<std::pair<std::string, std::string>>& merges) {
  json vocab = json::object();
  vocab["<unk>"] = 0;
  vocab["<s>"] = 1;
  vocab["</s>"] = 2;
  for (size_t pos = 0; pos < chars.size();) {
    const size_t len = static_cast<size_t>(text::utf8_length(static_cast<unsigned char>(chars[pos])));
    vocab[chars.substr(pos, len)] = vocab.size();
    pos += len;
  }
  for (const std::string& t : extra) vocab[t] = vocab.size();
  json m = json::array();
  for (const auto& [a, b] : merges) m.push_back({a, b});
  return {{"version", "1.0"},
          {"added_tokens", json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", nullptr},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", "<unk>"},
            {"fuse_unk", true},
            {"byte_fallback", false},
            {"vocab", vocab},
            {"merges", m}}}};
}

Tokenizer make(const json& j) { return Tokenizer::from_json(j.dump(), "tiny.json"); }

std::vector<std::string> tokens(const Tokenizer& t, const std::string& s) {
  std::vector<std::string> out;
  for (int32_t id : t.encode(s, false)) out.push_back(t.id_to_token(id));
  return out;
}

using Tokens = std::vector<std::string>;

TEST(Tokenizer, BpeMergesLowestRankFirstThenLeftmost) {
  Tokenizer t = make(tiny("abc", {"ab", "bc", "abc", "aa"}, {{"a", "b"}, {"ab", "c"}, {"b", "c"}, {"a", "a"}}));
  EXPECT_EQ(tokens(t, "abc"), (Tokens{"abc"}));
  EXPECT_EQ(tokens(t, "bc"), (Tokens{"bc"}));
  EXPECT_EQ(tokens(t, "abbc"), (Tokens{"ab", "bc"}));
  EXPECT_EQ(tokens(t, "aaa"), (Tokens{"aa", "a"}));  // equal ranks: the leftmost pair first
  EXPECT_EQ(tokens(t, "cab"), (Tokens{"c", "ab"}));
  EXPECT_EQ(tokens(t, ""), Tokens{});
  EXPECT_EQ(t.vocab_size(), 10);
  EXPECT_EQ(t.token_to_id("ab"), 6);
  EXPECT_EQ(t.token_to_id("zz"), -1);
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.pad_id(), -1);
}

TEST(Tokenizer, UnknownCharactersUseByteFallbackOrFusedUnk) {
  json j = tiny("ab", {"<0xC3>", "<0xA9>"}, {});
  Tokenizer fused = make(j);
  EXPECT_EQ(tokens(fused,
                   "a\xC3\xA9\xE4\xB8\xAD\xE4\xB8\xAD"
                   "b"),
            (Tokens{"a", "<unk>", "b"}));
  j["model"]["byte_fallback"] = true;
  Tokenizer fallback = make(j);
  // é has both byte tokens; 中 lacks them and becomes <unk> (two in a row fuse).
  EXPECT_EQ(tokens(fallback,
                   "a\xC3\xA9\xE4\xB8\xAD\xE4\xB8\xAD"
                   "b"),
            (Tokens{"a", "<0xC3>", "<0xA9>", "<unk>", "b"}));
  j["model"]["fuse_unk"] = false;
  EXPECT_EQ(tokens(make(j), "\xE4\xB8\xAD\xE4\xB8\xAD"), (Tokens{"<unk>", "<unk>"}));
  j["model"]["unk_token"] = nullptr;
  expect_error([&] { make(j).encode("\xE4\xB8\xAD"); }, {"[tokenizer] tiny.json", "U+4E2D", "unk_token"});
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementCharacters) {
  Tokenizer t = make(tiny("ab\xEF\xBF\xBD", {}, {}));
  EXPECT_EQ(tokens(t,
                   "a\xFF\xED\xA0\x80"
                   "b"),
            (Tokens{"a", "\xEF\xBF\xBD", "\xEF\xBF\xBD", "\xEF\xBF\xBD", "\xEF\xBF\xBD", "b"}));
}

TEST(Tokenizer, AddedTokensAreMatchedLeftmostLongestBeforeTheModel) {
  json j = tiny("<>abcdeimnorst ", {}, {});
  j["added_tokens"] = {{{"id", 100}, {"content", "<s>"}, {"special", true}, {"normalized", false}},
                       {{"id", 101}, {"content", "<start>"}, {"special", true}, {"normalized", false}},
                       {{"id", 102}, {"content", "<start>x"}, {"special", false}, {"normalized", false}},
                       {{"id", 103}, {"content", "art"}, {"special", false}, {"normalized", false}}};
  Tokenizer t = make(j);
  EXPECT_EQ(t.encode("<start>", false), (std::vector<int32_t>{101}));
  EXPECT_EQ(tokens(t, "a<start>b<s>"), (Tokens{"a", "<start>", "b", "<s>"}));
  // "<start" is not complete; "art" inside it still matches.
  EXPECT_EQ(tokens(t, "<start"), (Tokens{"<", "s", "t", "art"}));
  EXPECT_EQ(t.vocab_size(), 104);
  EXPECT_TRUE(t.is_special(101));
  EXPECT_FALSE(t.is_special(103));
  EXPECT_FALSE(t.is_special(5));
  EXPECT_EQ(t.decode({101, 3, 103}, true), "<art");
  EXPECT_EQ(t.decode({101, 3, 103}, false), "<start><art");
}

TEST(Tokenizer, AddedTokenStripAndSingleWordFlags) {
  json j = tiny("<>Hahkmnoyeirst ,-", {}, {});
  j["added_tokens"] = {{{"id", 50},
                        {"content", "<mask>"},
                        {"special", true},
                        {"lstrip", true},
                        {"rstrip", true},
                        {"normalized", false}}};
  Tokenizer strip = make(j);
  EXPECT_EQ(tokens(strip, "Hi <mask> there"), (Tokens{"H", "i", "<mask>", "t", "h", "e", "r", "e"}));
  EXPECT_EQ(tokens(strip, "Hi\t<mask>\t<mask>\t"), (Tokens{"H", "i", "<mask>", "<mask>"}));

  j["added_tokens"][0]["lstrip"] = false;
  j["added_tokens"][0]["rstrip"] = false;
  j["added_tokens"][0]["single_word"] = true;
  Tokenizer single = make(j);
  // Left, middle and end match; "A<mask>" and "<mask>ony" touch word characters and do not.
  const std::vector<int32_t> ids = single.encode("<mask> my <mask> a<mask> <mask>ony <mask>", false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 50), 3) << join_ids(ids);
  // Punctuation is not a word character.
  EXPECT_EQ(tokens(single, "<mask>, <mask>-"), (Tokens{"<mask>", ",", " ", "<mask>", "-"}));
}

TEST(Tokenizer, NormalizedAddedTokensMatchTheNormalizedText) {
  json j = tiny("abxy\u2581", {}, {});
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  j["added_tokens"] = {{{"id", 40}, {"content", "a b"}, {"special", false}, {"normalized", true}}};
  Tokenizer t = make(j);
  EXPECT_EQ(tokens(t, "xa by"), (Tokens{"x", "a b", "y"}));
  EXPECT_EQ(tokens(t, "a  b"), (Tokens{"a", "\u2581", "\u2581", "b"}));
}

TEST(Tokenizer, SplitBehaviors) {
  json j = tiny("ab ", {"a ", " b", "  "}, {{"a", " "}, {" ", "b"}, {" ", " "}});
  auto with_behavior = [&](const char* behavior) {
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", behavior}, {"invert", false}};
    return make(j);
  };
  EXPECT_EQ(tokens(with_behavior("Removed"), "a b"), (Tokens{"a", "b"}));
  EXPECT_EQ(tokens(with_behavior("Isolated"), "a b"), (Tokens{"a", " ", "b"}));
  EXPECT_EQ(tokens(with_behavior("MergedWithPrevious"), "a b"), (Tokens{"a ", "b"}));
  EXPECT_EQ(tokens(with_behavior("MergedWithPrevious"), "a  b"), (Tokens{"a ", " ", "b"}));
  EXPECT_EQ(tokens(with_behavior("MergedWithNext"), "a b"), (Tokens{"a", " b"}));
  EXPECT_EQ(tokens(with_behavior("Contiguous"), "a  b"), (Tokens{"a", "  ", "b"}));
  j["pre_tokenizer"] = nullptr;
  EXPECT_EQ(tokens(make(j), "a b"), (Tokens{"a ", "b"}));
}

TEST(Tokenizer, NormalizerStepsAndPostProcessorTemplate) {
  json j = tiny("ab\u2581", {}, {});
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers",
                      {{{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
                       {{"type", "Prepend"}, {"prepend", "\u2581"}},
                       {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}};
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single",
                          {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                           {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}}},
                         {"pair", json::array()},
                         {"special_tokens",
                          {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}},
                           {"</s>", {{"id", "</s>"}, {"ids", {2}}, {"tokens", {"</s>"}}}}}}};
  Tokenizer t = make(j);
  EXPECT_EQ(tokens(t, "  a b "), (Tokens{"\u2581", "a", "\u2581", "b"}));
  EXPECT_EQ(t.encode("a", true), (std::vector<int32_t>{1, 5, 3, 2}));
  EXPECT_EQ(t.encode("", true), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(t.encode("   ", false), std::vector<int32_t>{});
  EXPECT_EQ(t.bos_id(), 1);
}

TEST(Tokenizer, LlamaStyleDecoderStreamsLikeTheFullDecode) {
  json j = tiny("Hewlod\u2581", {"\u2581H", "<0xE4>", "<0xB8>", "<0xAD>", "<0x41>"}, {{"\u2581", "H"}});
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}}}}};
  Tokenizer t = make(j);
  const auto id = [&](const char* s) { return t.token_to_id(s); };
  const std::vector<int32_t> ids = {id("\u2581H"), id("e"),      id("\u2581"), id("<0xE4>"), id("<0xB8>"),
                                    id("<0xAD>"),  id("<0x41>"), id("\u2581"), id("\u2581")};
  EXPECT_EQ(t.decode(ids),
            "He \xE4\xB8\xAD"
            "A ");  // one leading and one trailing space stripped
  text::StreamDecoder stream(t);
  std::string streamed;
  for (int32_t i : ids) {
    const std::string piece = stream.push(i);
    EXPECT_TRUE(text::is_valid_utf8(piece));
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, t.decode(ids));
  // After flush the decoder starts a new text.
  EXPECT_EQ(stream.push(id("\u2581H")) + stream.flush(), "H");
}

// A model's embedding table may have more rows than the tokenizer has tokens (Gemma 3n: 262,400
// against 262,145), so generation can produce an id with no text. The `tokenizers` library drops
// such ids when decoding; so do we. Looking one up by itself is still an error.
TEST(Tokenizer, DecodeDropsIdsOutsideTheVocabulary) {
  Tokenizer t = make(tiny("ab", {}, {}));
  EXPECT_EQ(t.decode({99}), "");
  EXPECT_EQ(t.decode({t.token_to_id("a"), 99, -1, t.token_to_id("b")}), t.decode({t.token_to_id("a"), t.token_to_id("b")}));
  expect_error([&] { t.id_to_token(99); }, {"[tokenizer] tiny.json", "token id 99", "out of range"});
  expect_error([&] { t.id_to_token(-1); }, {"token id -1"});
  text::StreamDecoder stream(t);
  EXPECT_EQ(stream.push(99), "");
}

TEST(Tokenizer, LoadErrorsNameTheFileAndTheProblem) {
  expect_error([] { Tokenizer::load("/no/such/tokenizer.json"); },
               {"[tokenizer] /no/such/tokenizer.json", "no such file"});
  const std::string folder = temp_path("empty_folder");
  std::filesystem::create_directories(folder);
  expect_error([&] { Tokenizer::load(folder); }, {"[tokenizer]", "has no tokenizer.json"});
  const std::string empty = temp_path("empty.json");
  write_file(empty, "");
  expect_error([&] { Tokenizer::load(empty); }, {"[tokenizer]", "empty.json", "empty"});
  const std::string broken = temp_path("broken.json");
  write_file(broken, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}}}");
  expect_error([&] { Tokenizer::load(broken); }, {"[tokenizer]", "broken.json", "not valid JSON"});
  // A folder holding a tokenizer.json loads.
  const std::string dir = temp_path("tokenizer_dir");
  std::filesystem::create_directories(dir);
  write_file(dir + "/tokenizer.json", tiny("ab", {}, {}).dump());
  EXPECT_EQ(Tokenizer::load(dir).vocab_size(), 5);
}

TEST(Tokenizer, MalformedOrUnsupportedPartsAreClearErrors) {
  struct Case {
    std::string what;
    std::function<void(json&)> edit;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"array",
       [](json& j) {
         j = json::array({1, 2});
       },
       {"should hold a JSON object"}},
      {"no model", [](json& j) { j.erase("model"); }, {"no \"model\" object"}},
      {"Unigram",
       [](json& j) {
         j["model"] = {{"type", "Unigram"}, {"vocab", json::array({json::array({"a", 0.0})})}};
       },
       {"model type 'Unigram' is not supported"}},
      {"WordPiece", [](json& j) { j["model"]["type"] = "WordPiece"; }, {"model type 'WordPiece'"}},
      {"dropout", [](json& j) { j["model"]["dropout"] = 0.1; }, {"model.dropout"}},
      {"suffix", [](json& j) { j["model"]["end_of_word_suffix"] = "</w>"; }, {"end_of_word_suffix"}},
      {"vocab list", [](json& j) { j["model"]["vocab"] = json::array({"a"}); }, {"model.vocab should be an object"}},
      {"string id", [](json& j) { j["model"]["vocab"]["a"] = "3"; }, {"model.vocab['a'] should be an integer id"}},
      {"huge id", [](json& j) { j["model"]["vocab"]["a"] = 1u << 30; }, {"model.vocab['a'] has id"}},
      {"shared id", [](json& j) { j["model"]["vocab"]["b"] = j["model"]["vocab"]["a"]; }, {"gives id"}},
      {"merge",
       [](json& j) {
         j["model"]["merges"] = json::array({json::array({"a", "z"})});
       },
       {"model.merges[0] uses 'z'"}},
      {"merge result",
       [](json& j) {
         j["model"]["merges"] = json::array({json::array({"a", "b"})});
       },
       {"makes 'ab'"}},
      {"merge shape",
       [](json& j) {
         j["model"]["merges"] = json::array({json::array({"a", "b", "c"})});
       },
       {"model.merges[0]"}},
      {"merge object",
       [](json& j) {
         j["model"]["merges"] = {{"a", "b"}};
       },
       {"model.merges should be a list"}},
      {"old merge", [](json& j) { j["model"]["merges"] = {"a b c"}; }, {"two tokens separated by one space"}},
      {"NFKC",
       [](json& j) {
         j["normalizer"] = {{"type", "NFKC"}};
       },
       {"normalizer type 'NFKC' is not supported"}},
      {"regex",
       [](json& j) {
         j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", " "}};
       },
       {"Regex pattern"}},
      {"ByteLevel",
       [](json& j) {
         j["pre_tokenizer"] = {{"type", "ByteLevel"}};
       },
       {"pre_tokenizer type 'ByteLevel' is not supported"}},
      {"behavior",
       [](json& j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
       },
       {"unknown behavior 'Sideways'"}},
      {"Roberta",
       [](json& j) {
         j["post_processor"] = {{"type", "RobertaProcessing"}};
       },
       {"post_processor type 'RobertaProcessing' is not supported"}},
      {"Metaspace",
       [](json& j) {
         j["decoder"] = {{"type", "Metaspace"}};
       },
       {"decoder type 'Metaspace' is not supported"}},
      {"added id",
       [](json& j) {
         j["added_tokens"] = {{{"id", -1}, {"content", "x"}}};
       },
       {"added_tokens[0].id"}},
      {"deep",
       [](json& j) {
         json deep = json::array();
         for (int i = 0; i < 1000; ++i) deep = json::array({std::move(deep)});
         j["decoder"] = std::move(deep);
       },
       {"nested more than 128 levels"}},
      {"added flag",
       [](json& j) {
         j["added_tokens"] = {{{"id", 9}, {"content", "x"}, {"special", "yes"}}};
       },
       {"added_tokens[0].special"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    json j = tiny("ab", {}, {});
    c.edit(j);
    std::vector<std::string> fragments = c.fragments;
    fragments.insert(fragments.begin(), "[tokenizer] tiny.json: ");
    try {
      make(j);
      ADD_FAILURE() << "no error for " << c.what;
    } catch (const Error& e) {
      for (const std::string& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace vg::testing
