// The real Gemma 3 tokenizer: its ids and special tokens, and streaming decode (complete UTF-8
// only, and the same text as the full decode) over the test corpora.
#include <gtest/gtest.h>

#include <thread>

#include "corpus.h"
#include "support/tensor_testing.h"
#include "text/utf8.h"
#include "text_testing.h"

namespace vg::testing {
namespace {

using Ids = std::vector<int32_t>;

TEST(GemmaTokenizer, VocabularyAndSpecialTokens) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  EXPECT_EQ(tok->vocab_size(), 262145);  // 262144 pieces + <image_soft_token>
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->eos_id(), 1);
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->token_to_id("<start_of_turn>"), 105);
  EXPECT_EQ(tok->token_to_id("<end_of_turn>"), 106);
  EXPECT_EQ(tok->token_to_id("\n"), 107);
  EXPECT_EQ(tok->token_to_id("<image_soft_token>"), 262144);
  EXPECT_EQ(tok->token_to_id("<0x41>"), tok->token_to_id("<0x40>") + 1);
  EXPECT_EQ(tok->token_to_id("no such token"), -1);
  EXPECT_EQ(tok->id_to_token(105), "<start_of_turn>");
  EXPECT_EQ(tok->id_to_token(2364), "user");
  EXPECT_TRUE(tok->is_special(2));
  EXPECT_TRUE(tok->is_special(106));
  EXPECT_TRUE(tok->is_special(262144));
  EXPECT_FALSE(tok->is_special(107));  // "\n" is an added token but not a special one
  EXPECT_FALSE(tok->is_special(2364));
  expect_error([&] { tok->id_to_token(262145); }, {"[tokenizer]", "token id 262145 is out of range"});
  // The model's embedding has 262,400 rows; ids past the tokenizer's decode to nothing.
  EXPECT_EQ(tok->decode({2364, -3, 262263}), "user");
}

TEST(GemmaTokenizer, KnownEncodings) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  // Ids from the reference (tools/reference/tokenize_reference.mjs).
  EXPECT_EQ(tok->encode("Hello, my dog is cute"), (Ids{2, 9259, 236764, 1041, 4799, 563, 12864}));
  EXPECT_EQ(tok->encode("Hello, my dog is cute", false), (Ids{9259, 236764, 1041, 4799, 563, 12864}));
  EXPECT_EQ(tok->encode("<start_of_turn>user\n", false), (Ids{105, 2364, 107}));
  EXPECT_EQ(tok->encode(""), (Ids{2}));
  EXPECT_EQ(tok->encode("", false), Ids{});
  EXPECT_EQ(tok->encode("\xF0\xA0\x80\x80", false), (Ids{478, 398, 366, 366}));  // U+20000 by bytes
  EXPECT_EQ(tok->decode(tok->encode("  two  spaces\n\ttab")), "<bos>  two  spaces\n\ttab");
  EXPECT_EQ(tok->decode(tok->encode("  two  spaces"), true), "  two  spaces");
}

// Streams ids one by one; every piece must be complete UTF-8 and the whole must equal decode().
::testing::AssertionResult streams_like_decode(const text::Tokenizer& tok, const Ids& ids, bool skip) {
  text::StreamDecoder stream(tok, skip);
  std::string streamed;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string piece = stream.push(ids[i]);
    if (!text::is_valid_utf8(piece)) {
      return ::testing::AssertionFailure() << "push(" << ids[i] << ") at " << i << " of " << join_ids(ids)
                                           << " returned incomplete UTF-8: " << escaped(piece);
    }
    streamed += piece;
  }
  streamed += stream.flush();
  const std::string full = tok.decode(ids, skip);
  if (streamed != full) {
    return ::testing::AssertionFailure() << join_ids(ids) << ": streamed " << escaped(streamed) << " but decode gives "
                                         << escaped(full);
  }
  return ::testing::AssertionSuccess();
}

TEST(GemmaTokenizer, StreamDecodeHoldsBytesUntilTheCharacterIsComplete) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const Ids ids = tok->encode("\xF0\xA0\x80\x80 ok", false);  // four byte tokens, then text
  text::StreamDecoder stream(*tok);
  EXPECT_EQ(stream.push(ids[0]), "");
  EXPECT_EQ(stream.push(ids[1]), "");
  EXPECT_EQ(stream.push(ids[2]), "");
  EXPECT_EQ(stream.push(ids[3]), "\xF0\xA0\x80\x80");
  std::string rest;
  for (size_t i = 4; i < ids.size(); ++i) rest += stream.push(ids[i]);
  EXPECT_EQ(rest, " ok");
  // An unfinished character: nothing until flush, which gives one U+FFFD (as Node's TextDecoder).
  EXPECT_EQ(stream.push(tok->token_to_id("<0xE4>")), "");
  EXPECT_EQ(stream.push(tok->token_to_id("<0xB8>")), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
  // A byte that cannot continue the sequence ends it at once.
  EXPECT_EQ(stream.push(tok->token_to_id("<0xE4>")), "");
  EXPECT_EQ(stream.push(tok->token_to_id("<0x41>")),
            "\xEF\xBF\xBD"
            "A");
  EXPECT_EQ(stream.push(105), "<start_of_turn>");
}

TEST(GemmaTokenizer, StreamDecodeEqualsFullDecodeOverTheCorpora) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  int failures = 0;
  auto check = [&](const Ids& ids) {
    for (bool skip : {false, true}) {
      ::testing::AssertionResult r = streams_like_decode(*tok, ids, skip);
      if (!r && ++failures <= 10) ADD_FAILURE() << r.message();
    }
  };
  for (const std::string& line : generated_corpus()) check(tok->encode(line));
  for (const std::string& text : multiline_corpus()) check(tok->encode(text));
  for (const Ids& ids : decode_corpus(*tok)) check(ids);
  EXPECT_EQ(failures, 0);
}

TEST(GemmaTokenizer, EncodeIsThreadSafe) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const std::vector<std::string> lines = generated_corpus();
  std::vector<Ids> expected;
  for (size_t i = 0; i < lines.size(); i += 7) expected.push_back(tok->encode(lines[i]));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t k = 0, i = 0; i < lines.size(); i += 7, ++k) {
        if (tok->encode(lines[i]) != expected[k]) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace vg::testing
