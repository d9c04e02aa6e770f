// The Gemma chat template; see chat_template.h.
#include "text/chat_template.h"

#include <algorithm>

#include "core/error.h"
#include "text/utf8.h"

namespace vg::text {
namespace {

constexpr const char* kStartOfTurn = "<start_of_turn>";
constexpr const char* kEndOfTurn = "<end_of_turn>";
constexpr const char* kBos = "<bos>";

struct Turn {
  std::string role;                // "user" or "model"
  std::string header;              // role + "\n" (+ system prompt + "\n\n" on the first turn)
  std::vector<std::string> parts;  // the trimmed content, cut at each placeholder
};

// The template puts the one <bos> at the start; one the caller wrote in front of a message is dropped.
std::string_view without_leading_bos(std::string_view s) {
  while (s.starts_with(kBos)) s.remove_prefix(std::string_view(kBos).size());
  return s;
}

// Validates the conversation and lays out its turns.
std::vector<Turn> plan(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options) {
  VG_CHECK(!messages.empty(), "chat", "the conversation has no messages");
  size_t first = 0;
  std::string system_prefix;
  if (messages[0].role == "system") {
    VG_CHECK(messages.size() > 1, "chat", "a system message must be followed by a user message");
    system_prefix = std::string(without_leading_bos(messages[0].content)) + "\n\n";
    VG_CHECK(options.placeholder.empty() || system_prefix.find(options.placeholder) == std::string::npos, "chat",
             "the system message holds the media placeholder '", options.placeholder, "'; only user messages may");
    VG_CHECK(options.media_token.empty() || system_prefix.find(options.media_token) == std::string::npos, "chat",
             "the system message contains the media token text '", options.media_token, "'");
    first = 1;
  }
  std::vector<Turn> turns;
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const bool expect_user = (i - first) % 2 == 0;
    std::string role;
    if (m.role == "user") {
      role = "user";
    } else if (m.role == "assistant" || m.role == "model") {
      role = "model";
    } else if (m.role == "system") {
      throw Error("chat", str("message ", i, " is a system message; only the first message may be one"));
    } else {
      throw Error("chat", str("message ", i, " has role '", m.role,
                              "'; roles are system (first message only), user, assistant or model"));
    }
    VG_CHECK(
        (role == "user") == expect_user, "chat", "message ", i, " has role '", m.role,
        "' but roles must alternate user/assistant/user/... starting with user (after an optional system message)");

    const std::string_view content = without_leading_bos(trim_python_whitespace(m.content));
    VG_CHECK(options.media_token.empty() || content.find(options.media_token) == std::string_view::npos, "chat",
             "message ", i, " contains the media token text '", options.media_token, "'; write the placeholder '",
             options.placeholder, "' where the media goes");
    Turn turn{role, role + "\n" + (turns.empty() ? system_prefix : ""), {}};
    if (options.placeholder.empty()) {
      turn.parts.emplace_back(content);
    } else {
      size_t pos = 0;
      for (size_t hit; (hit = content.find(options.placeholder, pos)) != std::string_view::npos;
           pos = hit + options.placeholder.size()) {
        turn.parts.emplace_back(content.substr(pos, hit - pos));
      }
      turn.parts.emplace_back(content.substr(pos));
      VG_CHECK(role == "user" || turn.parts.size() == 1, "chat", "message ", i, " (", m.role,
               ") holds the media placeholder '", options.placeholder, "'; only user messages may");
    }
    turns.push_back(std::move(turn));
  }
  return turns;
}

int32_t required_id(const Tokenizer& tokenizer, const std::string& token, const char* why) {
  const int32_t id = tokenizer.token_to_id(token);
  VG_CHECK(id >= 0, "chat", "the tokenizer ", tokenizer.source(), " has no token '", token, "', needed for ", why);
  return id;
}

}  // namespace

std::string render_chat(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options) {
  std::string text = kBos;
  for (const Turn& turn : plan(messages, options)) {
    text += kStartOfTurn;
    text += turn.header;
    for (size_t p = 0; p < turn.parts.size(); ++p) {
      if (p > 0) text += options.media_token;
      text += turn.parts[p];
    }
    text += kEndOfTurn;
    text += "\n";
  }
  if (options.add_generation_prompt) text += std::string(kStartOfTurn) + "model\n";
  return text;
}

ChatPrompt apply_chat_template(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                               const ChatTemplateOptions& options) {
  const std::vector<Turn> turns = plan(messages, options);
  const int32_t bos = tokenizer.bos_id();
  VG_CHECK(bos >= 0, "chat", "the tokenizer ", tokenizer.source(), " has no <bos> token");
  const int32_t start_of_turn = required_id(tokenizer, kStartOfTurn, "the chat template");
  const int32_t end_of_turn = required_id(tokenizer, kEndOfTurn, "the chat template");
  int32_t media = -1;

  ChatPrompt prompt;
  prompt.text = render_chat(messages, options);
  prompt.ids.push_back(bos);
  auto append = [&](std::string_view text) {
    const std::vector<int32_t> ids = tokenizer.encode(text, /*add_special_tokens=*/false);
    prompt.ids.insert(prompt.ids.end(), ids.begin(), ids.end());
  };
  for (const Turn& turn : turns) {
    ChatTurnSpan span;
    span.role = turn.role;
    span.begin = static_cast<int64_t>(prompt.ids.size());
    prompt.ids.push_back(start_of_turn);
    // The header is tokenized together with the first part, as in the whole rendered text.
    const std::vector<int32_t> header = tokenizer.encode(turn.header, false);
    const size_t first_part = prompt.ids.size();
    append(turn.header + turn.parts[0]);
    const bool header_is_prefix = prompt.ids.size() - first_part >= header.size() &&
                                  std::equal(header.begin(), header.end(), prompt.ids.begin() + first_part);
    span.content_begin = static_cast<int64_t>(first_part + (header_is_prefix ? header.size() : 0));
    for (size_t p = 1; p < turn.parts.size(); ++p) {
      if (media < 0) media = required_id(tokenizer, options.media_token, "the media placeholder");
      prompt.media_positions.push_back(static_cast<int64_t>(prompt.ids.size()));
      prompt.ids.push_back(media);
      append(turn.parts[p]);
    }
    span.content_end = static_cast<int64_t>(prompt.ids.size());
    prompt.ids.push_back(end_of_turn);
    append("\n");
    span.end = static_cast<int64_t>(prompt.ids.size());
    prompt.turns.push_back(std::move(span));
  }
  if (options.add_generation_prompt) {
    prompt.ids.push_back(start_of_turn);
    append("model\n");
  }
  return prompt;
}

}  // namespace vg::text
