// videogemma tokenize --tokenizer FILE [--json] [--no-bos]: the token ids of each line of stdin.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "commands.h"
#include "text/tokenizer.h"

namespace vg::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  bool json = false;
  bool no_bos = false;
};

void run_tokenize(const TokenizeOptions& o) {
  const text::Tokenizer tokenizer = text::Tokenizer::load(o.tokenizer);
  std::ios::sync_with_stdio(false);
  std::string line, out;
  // Lines end at "\n" only: a "\r" stays in its line, as in the reference script.
  while (std::getline(std::cin, line)) {
    const std::vector<int32_t> ids = tokenizer.encode(line, /*add_special_tokens=*/!o.no_bos);
    out.clear();
    if (o.json) out += '[';
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) out += o.json ? ',' : ' ';
      out += std::to_string(ids[i]);
    }
    if (o.json) out += ']';
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);  // answers each line at once when another program talks to us through a pipe
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of each line read from stdin");
  cmd->add_option("--tokenizer", options->tokenizer, "a tokenizer.json, or a folder holding one")->required();
  cmd->add_flag("--json", options->json, "print each line's ids as a JSON array");
  cmd->add_flag("--no-bos", options->no_bos, "do not add the special tokens (Gemma: <bos>)");
  cmd->footer(
      "Each input line (without its \"\\n\") is encoded on its own; invalid UTF-8 is read as U+FFFD.\n"
      "Example: echo 'Hello, world' | videogemma tokenize --tokenizer tokenizer.json\n");
  cmd->callback([options] { run_tokenize(*options); });
}

}  // namespace vg::cli
