// The Gemma chat template: the exact text of specs/gemma3n.md §7.2, its ids, the media
// placeholder position, turn spans, and clear errors for conversations it cannot render.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/tensor_testing.h"
#include "text/chat_template.h"
#include "text_testing.h"

namespace vg::testing {
namespace {

using text::ChatMessage;
using text::ChatTemplateOptions;
using Ids = std::vector<int32_t>;

TEST(ChatTemplate, RendersTheSpecExample) {
  const std::vector<ChatMessage> messages = {{"system", "You are terse."}, {"user", "What is 2+2?"}};
  ChatTemplateOptions options;
  options.add_generation_prompt = true;
  const std::string expected =
      "<bos><start_of_turn>user\nYou are terse.\n\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n";
  EXPECT_EQ(text::render_chat(messages, options), expected);

  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const text::ChatPrompt prompt = text::apply_chat_template(*tok, messages, options);
  EXPECT_EQ(prompt.text, expected);
  ASSERT_GE(prompt.ids.size(), 8u);
  EXPECT_EQ(Ids(prompt.ids.begin(), prompt.ids.begin() + 4), (Ids{2, 105, 2364, 107}));
  EXPECT_EQ(std::count(prompt.ids.begin(), prompt.ids.end(), 2), 1) << join_ids(prompt.ids);
  EXPECT_EQ(Ids(prompt.ids.end() - 3, prompt.ids.end()), (Ids{105, tok->token_to_id("model"), 107}));
  // The same as tokenizing the rendered text whole (its "<bos>" is the added token).
  EXPECT_EQ(prompt.ids, tok->encode(expected, false));
  EXPECT_EQ(tok->decode(prompt.ids), expected);
  EXPECT_TRUE(prompt.media_positions.empty());
}

TEST(ChatTemplate, MultiTurnTrimsContentsAndMapsAssistantToModel) {
  const std::vector<ChatMessage> messages = {{"system", "  Be brief. "},
                                             {"user", "  Hi there \n"},
                                             {"assistant", "\tHello!  "},
                                             {"user", "Count:\n1\n2"},
                                             {"model", "3"}};
  const std::string expected =
      "<bos><start_of_turn>user\n  Be brief. \n\nHi there<end_of_turn>\n"
      "<start_of_turn>model\nHello!<end_of_turn>\n"
      "<start_of_turn>user\nCount:\n1\n2<end_of_turn>\n"
      "<start_of_turn>model\n3<end_of_turn>\n";
  EXPECT_EQ(text::render_chat(messages), expected);

  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const text::ChatPrompt prompt = text::apply_chat_template(*tok, messages);
  EXPECT_EQ(prompt.ids, tok->encode(expected, false));
  ASSERT_EQ(prompt.turns.size(), 4u);
  const std::vector<std::string> roles = {"user", "model", "user", "model"};
  for (size_t i = 0; i < 4; ++i) {
    const text::ChatTurnSpan& span = prompt.turns[i];
    EXPECT_EQ(span.role, roles[i]);
    EXPECT_EQ(prompt.ids[span.begin], 105);
    EXPECT_EQ(prompt.ids[span.content_end], 106);
    EXPECT_EQ(span.end, span.content_end + 2);  // <end_of_turn> "\n"
    if (i + 1 < 4) {
      EXPECT_EQ(prompt.turns[i + 1].begin, span.end);
    }
  }
  EXPECT_EQ(prompt.turns.back().end, static_cast<int64_t>(prompt.ids.size()));
  auto content = [&](const text::ChatTurnSpan& s) {
    return tok->decode(Ids(prompt.ids.begin() + s.content_begin, prompt.ids.begin() + s.content_end));
  };
  EXPECT_EQ(content(prompt.turns[1]), "Hello!");
  EXPECT_EQ(content(prompt.turns[3]), "3");
  EXPECT_EQ(content(prompt.turns[2]), "Count:\n1\n2");
}

TEST(ChatTemplate, MediaPlaceholderBecomesOneTokenWhosePositionIsReturned) {
  const std::vector<ChatMessage> messages = {
      {"system", "You are a physiotherapy assistant."},
      {"user", "<video>\nPlease evaluate the exercise form shown."},
  };
  ChatTemplateOptions options;
  options.add_generation_prompt = true;
  const std::string expected =
      "<bos><start_of_turn>user\nYou are a physiotherapy assistant.\n\n<image_soft_token>\nPlease evaluate the "
      "exercise form shown.<end_of_turn>\n<start_of_turn>model\n";
  EXPECT_EQ(text::render_chat(messages, options), expected);

  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const text::ChatPrompt prompt = text::apply_chat_template(*tok, messages, options);
  ASSERT_EQ(prompt.media_positions.size(), 1u);
  const int32_t media = tok->token_to_id("<image_soft_token>");
  EXPECT_EQ(prompt.ids[prompt.media_positions[0]], media);
  EXPECT_EQ(std::count(prompt.ids.begin(), prompt.ids.end(), media), 1);
  EXPECT_EQ(prompt.ids, tok->encode(expected, false));
  EXPECT_EQ(prompt.ids[prompt.media_positions[0] + 1], 107);  // the "\n" after it

  // Two placeholders, another marker and another media token.
  options.placeholder = "<image>";
  options.media_token = "<start_of_image>";
  const text::ChatPrompt two = text::apply_chat_template(*tok, {{"user", "a <image> b <image>"}}, options);
  ASSERT_EQ(two.media_positions.size(), 2u);
  for (int64_t p : two.media_positions) EXPECT_EQ(two.ids[p], 255999);
  EXPECT_EQ(two.text,
            "<bos><start_of_turn>user\na <start_of_image> b <start_of_image><end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, BosIsNeverDoubled) {
  const std::vector<ChatMessage> messages = {{"user", "<bos>Hello"}};
  EXPECT_EQ(text::render_chat(messages), "<bos><start_of_turn>user\nHello<end_of_turn>\n");
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const text::ChatPrompt prompt = text::apply_chat_template(*tok, messages);
  EXPECT_EQ(std::count(prompt.ids.begin(), prompt.ids.end(), tok->bos_id()), 1) << join_ids(prompt.ids);
  EXPECT_EQ(prompt.ids[0], tok->bos_id());
}

TEST(ChatTemplate, ConversationsItCannotRenderAreClearErrors) {
  using Messages = std::vector<ChatMessage>;
  expect_error([] { text::render_chat({}); }, {"[chat]", "no messages"});
  expect_error([] { text::render_chat(Messages{{"system", "s"}}); }, {"[chat]", "followed by a user message"});
  expect_error([] { text::render_chat(Messages{{"assistant", "hi"}}); }, {"[chat]", "message 0", "alternate"});
  expect_error([] { text::render_chat(Messages{{"user", "a"}, {"user", "b"}}); }, {"[chat]", "message 1", "alternate"});
  expect_error(
      [] {
        text::render_chat(Messages{{"system", "s"}, {"user", "a"}, {"user", "b"}});
      },
      {"message 2", "alternate"});
  expect_error(
      [] {
        text::render_chat(Messages{{"user", "a"}, {"system", "s"}});
      },
      {"[chat]", "message 1 is a system message"});
  expect_error([] { text::render_chat(Messages{{"user", "a"}, {"tool", "x"}}); }, {"[chat]", "role 'tool'"});
  expect_error(
      [] {
        text::render_chat(Messages{{"user", "a"}, {"assistant", "<video> no"}});
      },
      {"[chat]", "only user messages"});
  expect_error(
      [] {
        text::render_chat(Messages{{"user", "look: <image_soft_token>"}});
      },
      {"[chat]", "contains the media token text"});
  expect_error(
      [] {
        text::render_chat(Messages{{"system", "<video>"}, {"user", "a"}});
      },
      {"[chat]", "system message holds the media placeholder"});
}

}  // namespace
}  // namespace vg::testing
