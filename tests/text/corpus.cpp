// Deterministic corpora for the tokenizer parity tests; see corpus.h.
#include "corpus.h"

#include <cctype>
#include <cstdio>
#include <iterator>

#include "text/utf8.h"

namespace vg::testing {
namespace {

// splitmix64: the same sequence on every platform (std distributions are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  int range(int lo, int hi) { return lo + static_cast<int>(below(static_cast<size_t>(hi - lo + 1))); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;
};

std::string utf8(char32_t cp) {
  std::string s;
  text::append_utf8(s, cp);
  return s;
}

const std::vector<std::string> kEnglish = {"the",
                                           "quick",
                                           "brown",
                                           "fox",
                                           "jumps",
                                           "over",
                                           "lazy",
                                           "dog",
                                           "squat",
                                           "knees",
                                           "cave",
                                           "inward",
                                           "push",
                                           "them",
                                           "out",
                                           "toes",
                                           "Keep",
                                           "your",
                                           "back",
                                           "straight",
                                           "and",
                                           "chest",
                                           "up",
                                           "during",
                                           "lunge",
                                           "plank",
                                           "hips",
                                           "sag",
                                           "Exercise",
                                           "form",
                                           "feedback",
                                           "video",
                                           "frame",
                                           "model",
                                           "token",
                                           "isn't",
                                           "don't",
                                           "we're",
                                           "it's",
                                           "I'll",
                                           "you've",
                                           "O'Brien",
                                           "e-mail",
                                           "state-of-the-art",
                                           "U.S.A.",
                                           "Mr.",
                                           "Dr.",
                                           "etc.",
                                           "i.e.",
                                           "A",
                                           "a",
                                           "I",
                                           "tokenization",
                                           "antidisestablishmentarianism",
                                           "HTTP",
                                           "JSON",
                                           "camelCaseWord",
                                           "snake_case_word",
                                           "SCREAMING_CASE",
                                           "x86_64",
                                           "GPT-4",
                                           "Gemma3n"};

const std::vector<std::string> kPunctuation = {".",  ",", "!", "?", ";", ":", "...", "—", "–", "-", "(", ")",
                                               "\"", "'", "“", "”", "‘", "’", "«",   "»", "¿", "¡", "/", "&"};

const std::vector<std::string> kWorld = {"café",
                                         "naïve",
                                         "résumé",
                                         "Zürich",
                                         "São Paulo",
                                         "façade",
                                         "Ångström",
                                         "Øresund",
                                         "Łódź",
                                         "Çağlar",
                                         "e\u0301",
                                         "a\u0300\u0301\u0302",
                                         "n\u0303",
                                         "Tiếng Việt",
                                         "Phở",
                                         "ﬁ",
                                         "ß",
                                         "ẞ",
                                         "İstanbul",
                                         "ı",
                                         "Привет, мир",
                                         "Ελληνικά",
                                         "Ꙗ",
                                         "日本語のテキスト",
                                         "東京都",
                                         "ひらがな",
                                         "カタカナ",
                                         "ｶﾀｶﾅ",
                                         "中文分词测试",
                                         "繁體中文",
                                         "한국어 문장",
                                         "안녕하세요",
                                         "العربية",
                                         "مرحبا بالعالم",
                                         "ﷺ",
                                         "עברית",
                                         "שָׁלוֹם",
                                         "हिन्दी",
                                         "नमस्ते दुनिया",
                                         "क्षत्रिय",
                                         "ภาษาไทย",
                                         "สวัสดีครับ",
                                         "বাংলা",
                                         "தமிழ்",
                                         "తెలుగు",
                                         "ગુજરાતી",
                                         "ਪੰਜਾਬੀ",
                                         "ລາວ",
                                         " မြန်မာ",
                                         "ខ្មែរ",
                                         "ქართული",
                                         "Հայերեն",
                                         "አማርኛ",
                                         "ᚠᚢᚦ",
                                         "𐌰𐌱𐌲",
                                         "ꦧꦱꦗꦮ",
                                         "ᠮᠣᠩᠭᠣᠯ",
                                         "ᐃᓄᒃᑎᑐᑦ"};

const std::vector<std::string> kEmoji = {"😀",
                                         "😂",
                                         "🤣",
                                         "❤️",
                                         "❤",
                                         "👍",
                                         "👍🏽",
                                         "👍🏿",
                                         "🙏🏻",
                                         "👨‍👩‍👧‍👦",
                                         "👩‍💻",
                                         "🏳️‍🌈",
                                         "🏴‍☠️",
                                         "🇯🇵",
                                         "🇺🇸",
                                         "🇩🇪",
                                         "1️⃣",
                                         "#️⃣",
                                         "©️",
                                         "™",
                                         "🧑🏾‍🤝‍🧑🏼",
                                         "🫠",
                                         "🦾",
                                         "🏋️‍♀️",
                                         "🤸🏼‍♂️",
                                         "⛹🏿",
                                         "☕",
                                         "✅",
                                         "❌",
                                         "⭐",
                                         "🔥",
                                         "💪",
                                         "👁️‍🗨️",
                                         "🧘"};

const std::vector<std::string> kSpecialStrings = {"<bos>",
                                                  "<eos>",
                                                  "<pad>",
                                                  "<unk>",
                                                  "<mask>",
                                                  "[multimodal]",
                                                  "<start_of_turn>",
                                                  "<end_of_turn>",
                                                  "<start_of_image>",
                                                  "<end_of_image>",
                                                  "<image_soft_token>",
                                                  "<unused0>",
                                                  "<unused98>",
                                                  "<unused99>",
                                                  "<unused6241>",
                                                  "<unused6242>",
                                                  "<unused>",
                                                  "<table>",
                                                  "</td>",
                                                  "<h1>",
                                                  "</blockquote>",
                                                  "<code>",
                                                  "</code>",
                                                  "<b>",
                                                  "</b>",
                                                  "<s>",
                                                  "</s>",
                                                  "<a>",
                                                  "<img>",
                                                  "<bbox>",
                                                  "</footer>",
                                                  "<start_of_turn",
                                                  "start_of_turn>",
                                                  "<<eos>>",
                                                  "<eos",
                                                  "< eos>",
                                                  "<EOS>",
                                                  "<bos><bos>",
                                                  "<start_of_turn>user",
                                                  "<start_of_turn>model",
                                                  "<end_of_turn><eos>",
                                                  "<0x41>",
                                                  "<0xE4><0xB8><0xAD>",
                                                  "<0xZZ>",
                                                  "<0x0A>",
                                                  "▁",
                                                  "▁▁",
                                                  "▁▁▁▁",
                                                  "\t",
                                                  "\t\t\t",
                                                  "<unused12><unused13>",
                                                  "<tab>",
                                                  "[CLS]",
                                                  "<|endoftext|>"};

const std::vector<std::string> kCode = {"int main(int argc, char** argv) {",
                                        "  return 0;",
                                        "}",
                                        "for (size_t i = 0; i < n; ++i) sum += x[i];",
                                        "def forward(self, x: torch.Tensor) -> torch.Tensor:",
                                        "    return self.proj(F.gelu(x))",
                                        "if __name__ == \"__main__\":",
                                        "import numpy as np",
                                        "const auto& [key, value] = *it;",
                                        "std::vector<std::pair<int, float>> v{{1, 2.0f}};",
                                        "SELECT id, name FROM users WHERE age >= 18;",
                                        "{\"role\": \"user\", \"content\": \"hi\"}",
                                        "<div class=\"x\"><span>text</span></div>",
                                        "x = [i**2 for i in range(10) if i % 2 == 0]",
                                        "fn main() { println!(\"{}\", 42); }",
                                        "let re = /^[a-z0-9_.+-]+@[a-z0-9-]+\\.[a-z]+$/i;",
                                        "#include <nlohmann/json.hpp>",
                                        "git commit -m \"fix: off-by-one\" && git push",
                                        "a->b->c = *p++ << 2 | ~mask & 0xFF;",
                                        "    elif x is None or not y:",
                                        "\treturn nil, fmt.Errorf(\"bad: %w\", err)",
                                        "// TODO(me): ->> <<= >>= !== ===",
                                        "$ echo $HOME | tr '[:lower:]' '[:upper:]'",
                                        "\\begin{equation} E = mc^2 \\end{equation}",
                                        "@@ -1,3 +1,4 @@"};

const std::vector<std::string> kInvalid = {"\xFF",
                                           "\xFE",
                                           "\xC0\xAF",
                                           "\xE0\x80\xAF",
                                           "\xED\xA0\x80",
                                           "\xED\xBF\xBF",
                                           "\xED\xA0\xBD\xED\xB8\x80",
                                           "\xF4\x90\x80\x80",
                                           "\xF8\x88\x80\x80\x80",
                                           "\x80",
                                           "\xBF",
                                           "\xC2",
                                           "\xE4\xB8",
                                           "\xF0\x9F\x98",
                                           "\xC3\x28",
                                           "\xE2\x82\x28",
                                           "\xF0\x28\x8C\xBC",
                                           "\xF5\x80",
                                           "\xC1\xBF",
                                           "\xE0\x9F\xBF",
                                           "\xF0\x8F\xBF\xBF",
                                           "\x80\x80\x80"};

// Code point ranges for random "soup" lines, with weights.
struct Range {
  char32_t lo, hi;
  int weight;
};
const std::vector<Range> kRanges = {
    {0x20, 0x7E, 30},      {0x01, 0x09, 1},       {0x0B, 0x1F, 1},       {0x7F, 0x9F, 1},       {0xA0, 0xFF, 4},
    {0x100, 0x24F, 3},     {0x300, 0x36F, 3},     {0x370, 0x3FF, 2},     {0x400, 0x4FF, 3},     {0x590, 0x5FF, 2},
    {0x600, 0x6FF, 3},     {0x900, 0x97F, 3},     {0xE00, 0xE7F, 2},     {0x1100, 0x11FF, 1},   {0x1E00, 0x1EFF, 2},
    {0x2000, 0x206F, 3},   {0x2190, 0x22FF, 2},   {0x2500, 0x257F, 1},   {0x2580, 0x259F, 1},   {0x3000, 0x303F, 2},
    {0x3040, 0x30FF, 3},   {0x3400, 0x4DBF, 2},   {0x4E00, 0x9FFF, 6},   {0xAC00, 0xD7A3, 4},   {0xE000, 0xF8FF, 2},
    {0xFB00, 0xFDFF, 1},   {0xFE00, 0xFE0F, 1},   {0xFEFF, 0xFEFF, 1},   {0xFF00, 0xFFEF, 2},   {0xFFF0, 0xFFFF, 1},
    {0x10000, 0x1007F, 1}, {0x1D400, 0x1D7FF, 1}, {0x1F300, 0x1FAFF, 4}, {0x1F3FB, 0x1F3FF, 1}, {0x20000, 0x2A6DF, 3},
    {0x2B740, 0x2B81F, 1}, {0x30000, 0x3134F, 1}, {0xE0000, 0xE007F, 1}, {0xF0000, 0xFFFFD, 1}, {0x100000, 0x10FFFD, 1},
    {0x200B, 0x200D, 2}};

char32_t random_code_point(Rng& rng) {
  static const int total = [] {
    int t = 0;
    for (const Range& r : kRanges) t += r.weight;
    return t;
  }();
  int x = static_cast<int>(rng.below(static_cast<size_t>(total)));
  for (const Range& r : kRanges) {
    if (x < r.weight) return r.lo + static_cast<char32_t>(rng.below(r.hi - r.lo + 1));
    x -= r.weight;
  }
  return U'x';
}

std::string random_spaces(Rng& rng) {
  static const std::vector<std::string> kinds = {" ",    "  ",     "   ",    "    ",   "\t",     "\t\t",
                                                 " \t ", "\u00A0", "\u3000", "\u2003", "\u200B", "\r",
                                                 " \r",  "\u2028", "\v",     "\f"};
  return rng.pick(kinds);
}

std::string prose_line(Rng& rng) {
  std::string line;
  const int words = rng.range(1, 30);
  for (int w = 0; w < words; ++w) {
    std::string word = rng.pick(kEnglish);
    if (rng.chance(0.1)) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
    line += word;
    if (rng.chance(0.15)) line += rng.pick(kPunctuation);
    if (w + 1 < words) line += rng.chance(0.9) ? " " : random_spaces(rng);
  }
  if (rng.chance(0.3)) line += ".";
  if (rng.chance(0.05)) line = " " + line;
  if (rng.chance(0.05)) line += " ";
  return line;
}

std::string code_line(Rng& rng) {
  std::string line;
  const int indent = rng.range(0, 5);
  for (int i = 0; i < indent; ++i) line += rng.chance(0.7) ? "    " : "\t";
  line += rng.pick(kCode);
  if (rng.chance(0.3)) line += "  // " + prose_line(rng);
  if (rng.chance(0.2)) line += " " + rng.pick(kCode);
  return line;
}

std::string world_line(Rng& rng) {
  std::string line;
  const int words = rng.range(1, 12);
  for (int w = 0; w < words; ++w) {
    line += rng.chance(0.8) ? rng.pick(kWorld) : rng.pick(kEnglish);
    if (rng.chance(0.2)) line += rng.pick(kPunctuation);
    if (w + 1 < words) line += rng.chance(0.8) ? " " : (rng.chance(0.5) ? "" : random_spaces(rng));
  }
  return line;
}

std::string emoji_line(Rng& rng) {
  std::string line;
  const int n = rng.range(1, 15);
  for (int i = 0; i < n; ++i) {
    line += rng.chance(0.6) ? rng.pick(kEmoji) : rng.pick(kEnglish);
    if (rng.chance(0.5)) line += " ";
    if (rng.chance(0.1)) line += "\u200D";
    if (rng.chance(0.05)) line += "\uFE0F";
  }
  return line;
}

std::string whitespace_line(Rng& rng) {
  std::string line;
  const int n = rng.range(1, 12);
  for (int i = 0; i < n; ++i) {
    const int run = rng.range(1, 40);
    const char* unit = rng.chance(0.5) ? " " : rng.chance(0.5) ? "\t" : rng.chance(0.5) ? "\r" : "\u2581";
    for (int k = 0; k < run; ++k) line += unit;
    if (rng.chance(0.6)) line += rng.chance(0.5) ? rng.pick(kEnglish) : random_spaces(rng);
  }
  return line;
}

std::string number_line(Rng& rng) {
  std::string line;
  const int n = rng.range(1, 10);
  char buf[64];
  for (int i = 0; i < n; ++i) {
    switch (rng.below(9)) {
      case 0:
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(rng.next() >> rng.below(60)));
        break;
      case 1:
        std::snprintf(buf, sizeof buf, "%.*f", rng.range(0, 8), static_cast<double>(rng.next() % 100000) / 7.0);
        break;
      case 2:
        std::snprintf(buf, sizeof buf, "%d,%03d,%03d", rng.range(1, 999), rng.range(0, 999), rng.range(0, 999));
        break;
      case 3: std::snprintf(buf, sizeof buf, "-%de%d", rng.range(1, 99), rng.range(-20, 20)); break;
      case 4:
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", rng.range(1900, 2100), rng.range(1, 12), rng.range(1, 28));
        break;
      case 5:
        std::snprintf(buf, sizeof buf, "+1 (%03d) %03d-%04d", rng.range(200, 999), rng.range(0, 999),
                      rng.range(0, 9999));
        break;
      case 6: std::snprintf(buf, sizeof buf, "0x%llX", static_cast<unsigned long long>(rng.next() >> 20)); break;
      case 7: std::snprintf(buf, sizeof buf, "%d%%", rng.range(0, 100)); break;
      default:
        std::snprintf(buf, sizeof buf, "%dx%d reps @ %dkg", rng.range(1, 10), rng.range(1, 30), rng.range(5, 250));
        break;
    }
    line += buf;
    if (rng.chance(0.5)) line += rng.chance(0.5) ? "١٢٣" : "１２３";
    if (i + 1 < n) line += rng.chance(0.7) ? " " : rng.pick(kEnglish);
  }
  return line;
}

std::string special_line(Rng& rng) {
  std::string line;
  const int n = rng.range(1, 10);
  for (int i = 0; i < n; ++i) {
    switch (rng.below(4)) {
      case 0: line += rng.pick(kSpecialStrings); break;
      case 1: line += "<unused" + std::to_string(rng.below(6400)) + ">"; break;
      case 2: line += rng.pick(kEnglish); break;
      default: line += rng.pick(kSpecialStrings) + rng.pick(kEnglish); break;
    }
    if (rng.chance(0.4)) line += rng.chance(0.7) ? " " : random_spaces(rng);
  }
  return line;
}

std::string byte_fallback_line(Rng& rng) {
  static const std::vector<Range> rare = {{0x20000, 0x2A6DF, 1}, {0x2A700, 0x2B73F, 1}, {0x30000, 0x3134F, 1},
                                          {0xE000, 0xF8FF, 1},   {0xF0000, 0xFFFFD, 1}, {0x100000, 0x10FFFD, 1},
                                          {0x1, 0x8, 1},         {0xE0001, 0xE007F, 1}, {0x10FFFE, 0x10FFFF, 1}};
  std::string line;
  const int n = rng.range(1, 12);
  for (int i = 0; i < n; ++i) {
    const Range& r = rng.pick(rare);
    line += utf8(r.lo + static_cast<char32_t>(rng.below(r.hi - r.lo + 1)));
    if (rng.chance(0.3)) line += rng.pick(kWorld);
    if (rng.chance(0.3)) line += " ";
  }
  return line;
}

std::string invalid_line(Rng& rng) {
  std::string line;
  const int n = rng.range(1, 8);
  for (int i = 0; i < n; ++i) {
    line += rng.pick(kInvalid);
    if (rng.chance(0.6)) line += rng.chance(0.5) ? rng.pick(kEnglish) : rng.pick(kWorld);
    if (rng.chance(0.3)) line += " ";
  }
  // Cut a valid multi-byte character in half at the end now and then.
  if (rng.chance(0.2)) line += std::string("\xE6\x97\xA5").substr(0, rng.range(1, 2));
  return line;
}

std::string soup_line(Rng& rng) {
  std::string line;
  const int n = rng.range(0, 120);
  for (int i = 0; i < n; ++i) {
    if (rng.chance(0.15)) {
      line += " ";
    } else if (rng.chance(0.03)) {
      line += rng.pick(kSpecialStrings);
    } else {
      line += utf8(random_code_point(rng));
    }
  }
  return line;
}

}  // namespace

std::vector<std::string> generated_corpus() {
  Rng rng(0x5EED2025);
  std::vector<std::string> lines;
  struct Part {
    int count;
    std::string (*make)(Rng&);
  };
  const Part parts[] = {{700, prose_line},      {400, code_line},   {700, world_line},   {300, emoji_line},
                        {400, whitespace_line}, {300, number_line}, {500, special_line}, {300, byte_fallback_line},
                        {300, invalid_line},    {900, soup_line}};
  for (const Part& part : parts) {
    for (int i = 0; i < part.count; ++i) lines.push_back(part.make(rng));
  }
  // Mixtures of everything, and a few long lines.
  for (int i = 0; i < 400; ++i) {
    std::string line;
    const int n = rng.range(2, 5);
    for (int k = 0; k < n; ++k) line += parts[rng.below(std::size(parts))].make(rng);
    lines.push_back(line);
  }
  for (int i = 0; i < 12; ++i) {
    std::string line;
    while (line.size() < 20000) line += parts[rng.below(std::size(parts))].make(rng) + " ";
    lines.push_back(line);
  }
  lines.push_back("");
  lines.push_back(std::string("nul\0byte", 8));
  lines.push_back(std::string(3, '\0'));
  lines.push_back(std::string(5000, ' '));
  lines.push_back(std::string(3000, '\t'));
  lines.push_back(std::string(2000, 'a'));
  std::string ideographs;
  for (int i = 0; i < 3000; ++i) ideographs += utf8(0x4E00 + static_cast<char32_t>(rng.below(0x5200)));
  lines.push_back(ideographs);
  // No line may hold "\n": the reference reads the corpus line by line.
  for (std::string& line : lines) {
    for (char& c : line) {
      if (c == '\n') c = ' ';
    }
  }
  return lines;
}

std::vector<std::string> multiline_corpus() {
  Rng rng(0xC0FFEE);
  std::vector<std::string> cases = {
      "\n",
      "\n\n",
      "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
      "line one\nline two",
      "ends with newline\n",
      "\nstarts with newline",
      "windows\r\nline\r\nendings\r\n",
      "mixed\n\t\tindent\n    spaces\n\n\nparagraph",
      "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n",
      "def f():\n    return 1\n\n\nclass A:\n\tpass\n",
      "\n \n  \n\t\n\u2581\n",
      "日本語\n中文\n한국어\n",
      "emoji 👍🏽\n👨‍👩‍👧‍👦\n",
      " \n\n ",
      "\n\n\n\t\t\t   \n\n",
  };
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int n = rng.range(1, 8);
    for (int k = 0; k < n; ++k) {
      switch (rng.below(5)) {
        case 0: s += prose_line(rng); break;
        case 1: s += code_line(rng); break;
        case 2: s += world_line(rng); break;
        case 3: s += special_line(rng); break;
        default: s += whitespace_line(rng); break;
      }
      const int newlines = rng.chance(0.7) ? 1 : rng.range(0, 35);
      s += std::string(static_cast<size_t>(newlines), '\n');
      if (rng.chance(0.2)) s += rng.chance(0.5) ? "\t" : "  ";
    }
    cases.push_back(s);
  }
  return cases;
}

std::vector<std::vector<int32_t>> decode_corpus(const text::Tokenizer& tokenizer) {
  Rng rng(0xDEC0DE);
  std::vector<int32_t> byte_ids;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids.push_back(tokenizer.token_to_id(name));
  }
  const std::vector<int32_t> specials = {0, 1, 2, 3, 4, 5, 105, 106, 107, 108, 138, 255999, 256000, 262144};
  // Valid multi-byte characters, to be cut into byte tokens.
  const std::vector<std::string> chars = {"é", "中", "😀", "👍🏽", "𠀀", "\u2581", "한", "ज़"};
  std::vector<std::vector<int32_t>> cases;
  for (int i = 0; i < 600; ++i) {
    std::vector<int32_t> ids;
    const int n = rng.range(1, 24);
    for (int k = 0; k < n; ++k) {
      switch (rng.below(6)) {
        case 0: ids.push_back(byte_ids[rng.below(256)]); break;
        case 1: {
          const std::string& c = rng.pick(chars);
          const size_t keep = rng.chance(0.5) ? c.size() : rng.below(c.size()) + 1;
          for (size_t b = 0; b < keep; ++b) ids.push_back(byte_ids[static_cast<unsigned char>(c[b])]);
          break;
        }
        case 2: ids.push_back(rng.pick(specials)); break;
        case 3: ids.push_back(byte_ids[0x80 + rng.below(0x80)]); break;
        default: ids.push_back(static_cast<int32_t>(rng.below(262144))); break;
      }
    }
    cases.push_back(ids);
  }
  return cases;
}

}  // namespace vg::testing
