// NLTK 3.8's NLTKWordTokenizer (nltk/tokenize/destructive.py, the "improved Treebank" word
// tokenizer that nltk.word_tokenize applies to each sentence): the same regular-expression
// rewrites in the same order, with Python's Unicode semantics for \w, \d, \s, \b and
// re.IGNORECASE, so the tokens are identical to NLTKWordTokenizer().tokenize(text).
//
// nltk.word_tokenize(text) first splits the text into sentences with Punkt and tokenizes each
// sentence: word_tokenize() below does that with a PunktSentenceTokenizer (punkt.h), or treats
// the whole text as one sentence (word_tokenize(text, preserve_line=True)) without one. It
// matters: the final-period rule only splits a period at the end of the string, so inner
// sentences keep theirs attached ("straight." rather than "straight", ".").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vg::eval {

class PunktSentenceTokenizer;

struct WordTokenizerOptions {
  // NLTKWordTokenizer.tokenize(convert_parentheses=True): "(" -> "-LRB-", ")" -> "-RRB-", etc.
  bool convert_parentheses = false;
};

// NLTKWordTokenizer().tokenize(text). The text is UTF-8 (invalid bytes read as U+FFFD).
std::vector<std::string> tokenize_words(std::string_view text, const WordTokenizerOptions& options = {});
std::vector<std::u32string> tokenize_words(std::u32string_view text, const WordTokenizerOptions& options = {});

// nltk.word_tokenize(text): the sentences of `sentences`, each through tokenize_words(); with
// nullptr, the whole text as one sentence (preserve_line=True).
std::vector<std::string> word_tokenize(std::string_view text, const PunktSentenceTokenizer* sentences);

}  // namespace vg::eval
