// The Gemma chat template (the Jinja template of Gemma 3 / 3n's tokenizer_config.json, specs/gemma3n.md
// §7.2), written out in C++:
//
//   <bos><start_of_turn>user\n{system}\n\n{user content}<end_of_turn>\n
//   <start_of_turn>model\n{model content}<end_of_turn>\n ... [<start_of_turn>model\n]
//
// Contents are trimmed (Jinja `| trim`); a system message (first only) is not trimmed and is
// folded into the first user turn followed by "\n\n"; roles must alternate user, model, user...
// ("assistant" is written as "model"). <bos> appears once, at the start: a "<bos>" the caller
// wrote at the start of a message is dropped, and the ids are never given a second one.
//
// Media placeholder: a user turn may contain the placeholder text (default "<video>", the
// LLaVA / Mobile-VideoGPT marker) any number of times; each renders to exactly one media token
// (default "<image_soft_token>") whose index in the ids is returned in media_positions, so the
// VLM can splice the visual embeddings there. Surrounding text is kept as written, e.g.
// "<video>\nWhat exercise is this?".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace vg::text {

inline constexpr const char* kMediaPlaceholder = "<video>";

struct ChatMessage {
  std::string role;  // "system" (first message only), "user", "assistant" or "model"
  std::string content;
};

struct ChatTemplateOptions {
  bool add_generation_prompt = false;              // end with "<start_of_turn>model\n"
  std::string placeholder = kMediaPlaceholder;     // marker in user contents; empty: none
  std::string media_token = "<image_soft_token>";  // the token each placeholder becomes
};

// Where a turn lies in ChatPrompt::ids: [begin, end) is the whole turn from <start_of_turn> to
// the "\n" after <end_of_turn>; [content_begin, content_end) is its content (for a model turn,
// the answer), content_end being the index of <end_of_turn>.
struct ChatTurnSpan {
  std::string role;  // "user" or "model"
  int64_t begin = 0, content_begin = 0, content_end = 0, end = 0;
};

struct ChatPrompt {
  std::string text;                      // the rendered prompt
  std::vector<int32_t> ids;              // its tokens: one <bos> first, nothing added after
  std::vector<int64_t> media_positions;  // index in ids of each media token, in order
  std::vector<ChatTurnSpan> turns;       // one per turn, the generation prompt excluded
};

// The rendered prompt as text. Throws vg::Error("[chat] ...") for an empty conversation, a
// misplaced system message, roles that do not alternate, an unknown role, a placeholder outside
// a user turn, or content holding the media token's text itself.
std::string render_chat(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options = {});

// The rendered prompt with its ids: the same text tokenized without special tokens (so <bos> is
// never doubled), assembled turn by turn so positions are exact.
ChatPrompt apply_chat_template(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                               const ChatTemplateOptions& options = {});

}  // namespace vg::text
