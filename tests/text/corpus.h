// Deterministic test corpora for the tokenizer parity tests (tokenizer_parity_test.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace vg::testing {

// Thousands of single lines (no "\n"): prose, code, many scripts, emoji, whitespace runs,
// numbers, special-token strings, byte-fallback-only characters, invalid UTF-8, random soups.
std::vector<std::string> generated_corpus();

// Valid UTF-8 strings that contain newlines (sent to the reference as JSON strings).
std::vector<std::string> multiline_corpus();

// Id sequences for decode parity: byte-fallback tokens cut and mixed at random (valid and
// invalid UTF-8), special and added tokens, ordinary tokens.
std::vector<std::vector<int32_t>> decode_corpus(const text::Tokenizer& tokenizer);

}  // namespace vg::testing
