// `videogemma tokenize` end to end: lines on stdin, ids on stdout, clear errors.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"
#include "text_testing.h"

namespace vg::testing {
namespace {

CommandResult tokenize(const std::string& args, const std::string& input) {
  const std::string in = temp_path("cli_input.txt");
  write_file(in, input);
  return run_command(std::string(VG_BINARY_DIR) + "/videogemma tokenize " + args + " < '" + in + "' 2>&1");
}

TEST(TokenizeCommand, PrintsTheIdsOfEachLine) {
  if (gemma_tokenizer() == nullptr) return;
  const std::string tok = "--tokenizer '" + gemma_tokenizer_path() + "'";
  const std::string input = "Hello, my dog is cute\n<start_of_turn>user\n\n  two  spaces";
  CommandResult plain = tokenize(tok, input);
  EXPECT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(plain.output, "2 9259 236764 1041 4799 563 12864\n2 105 2364\n2\n2 138 13498 138 35220\n");
  CommandResult json = tokenize(tok + " --json --no-bos", input);
  EXPECT_EQ(json.status, 0) << json.output;
  EXPECT_EQ(json.output, "[9259,236764,1041,4799,563,12864]\n[105,2364]\n[]\n[138,13498,138,35220]\n");
  // A folder holding tokenizer.json works too.
  const std::string folder = std::filesystem::path(gemma_tokenizer_path()).parent_path().string();
  CommandResult from_folder = tokenize("--json --tokenizer '" + folder + "'", "Hello, my dog is cute\n");
  EXPECT_EQ(from_folder.output, "[2,9259,236764,1041,4799,563,12864]\n");
}

TEST(TokenizeCommand, MatchesTheLibraryOnTrickyLines) {
  const text::Tokenizer* t = gemma_tokenizer();
  if (t == nullptr) return;
  const std::string input = read_file(test_data_path("text/tricky_lines.txt"));
  CommandResult r = tokenize("--json --tokenizer '" + gemma_tokenizer_path() + "'", input);
  ASSERT_EQ(r.status, 0) << r.output;
  std::string expected;
  for (const std::string& line : split_lines(input)) expected += join_ids(t->encode(line)) + "\n";
  EXPECT_EQ(r.output, expected);
}

TEST(TokenizeCommand, ErrorsAreClear) {
  CommandResult missing = tokenize("--tokenizer /no/such/tokenizer.json", "hi\n");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("error: [tokenizer] /no/such/tokenizer.json"), std::string::npos) << missing.output;
  CommandResult no_flag = tokenize("", "hi\n");
  EXPECT_NE(no_flag.status, 0);
  EXPECT_NE(no_flag.output.find("--tokenizer"), std::string::npos) << no_flag.output;
  const std::string bad = temp_path("bad_tokenizer.json");
  write_file(bad, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
  CommandResult unsupported = tokenize("--tokenizer '" + bad + "'", "hi\n");
  EXPECT_EQ(unsupported.status, 1);
  EXPECT_NE(unsupported.output.find("model type 'WordPiece' is not supported"), std::string::npos)
      << unsupported.output;
}

}  // namespace
}  // namespace vg::testing
