// BERTScore (src/eval/bertscore.h) against bert_score 0.3.13's algorithm as
// tools/reference/make_bertscore_goldens.py runs it (transformers' BertModel, tokenizers' fast
// BERT tokenizer) on the tiny random-weight model tests/data/eval/bert_tiny/: P, R and F of every
// pair of metric_pairs.json at two layers, without and with idf, raw and rescaled with a baseline
// file, and with batch_size 1. Also the WordPiece tokenizer (src/text/wordpiece.h): the ids of
// every sentence against BertTokenizerFast, and BertNormalizer / BertPreTokenizer on every code
// point against tests/data/eval/bert_unicode.json. And the errors a user can cause.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "eval/bertscore.h"
#include "eval_testing.h"
#include "io/mapped_file.h"
#include "support/tensor_testing.h"
#include "text/utf8.h"
#include "text/wordpiece.h"

namespace vg::eval {
namespace {

namespace fs = std::filesystem;
using testing::eval_data_dir;
using testing::golden;
using vg::testing::expect_error;

const std::string kTiny = eval_data_dir() + "/bert_tiny";
const std::string kBaseline = kTiny + "/rescale_baseline.tsv";

std::string temp_folder(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("vg_bertscore_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

BertScoreOptions options_for(int64_t layer, const std::string& setting) {
  BertScoreOptions o;
  o.num_layers = layer;
  o.idf = setting.starts_with("idf");
  if (setting.ends_with("rescaled")) o.baseline = read_bertscore_baseline(kBaseline, layer);
  return o;
}

// Compares one setting's results with the golden [P, R, F] rows; returns the largest deviation.
double compare(const std::vector<BertScoreResult>& actual, const nlohmann::json& expected, const std::string& what,
               const nlohmann::json& pairs = golden("bertscore.json")["pairs"]) {
  EXPECT_EQ(actual.size(), expected.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    const double values[3] = {actual[i].precision, actual[i].recall, actual[i].f1};
    for (size_t k = 0; k < 3; ++k) {
      const auto& want = expected[i][k];
      if (want.is_null()) {  // NaN in bert_score
        EXPECT_TRUE(std::isnan(values[k])) << what << " pair " << i;
        continue;
      }
      const double diff = std::abs(values[k] - want.get<double>());
      worst = std::max(worst, std::isnan(diff) ? std::numeric_limits<double>::infinity() : diff);
      EXPECT_NEAR(values[k], want.get<double>(), 1e-6)
          << what << " [P, R, F][" << k << "] pair " << i << "\n  candidate: " << pairs[i]["candidate"]
          << "\n  reference: " << pairs[i]["reference"];
    }
  }
  return worst;
}

struct Pairs {
  std::vector<std::string> candidates, references;
};

Pairs golden_pairs(const nlohmann::json& pairs = golden("bertscore.json")["pairs"]) {
  Pairs p;
  for (const auto& pair : pairs) {
    p.candidates.push_back(pair["candidate"].get<std::string>());
    p.references.push_back(pair["reference"].get<std::string>());
  }
  return p;
}

TEST(BertScore, GoldenPairsAreTheMetricPairs) {
  const auto& pairs = golden("bertscore.json")["pairs"];
  const auto& metric = golden("metric_pairs.json")["pairs"];
  ASSERT_EQ(pairs.size(), metric.size());
  ASSERT_GT(pairs.size(), 250u);
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(pairs[i]["reference"], metric[i]["reference"]);
    EXPECT_EQ(pairs[i]["candidate"], metric[i]["prediction"]);
  }
}

TEST(BertScore, MatchesBertScoreOnEveryGoldenPair) {
  const auto& g = golden("bertscore.json");
  const Pairs pairs = golden_pairs();
  double overall = 0;
  for (const int64_t layer : g["layers"].get<std::vector<int64_t>>()) {
    for (const std::string& setting : g["settings"].get<std::vector<std::string>>()) {
      const BertScorer scorer(kTiny, options_for(layer, setting));
      const std::string what = "layer " + std::to_string(layer) + " " + setting;
      const double worst =
          compare(scorer.score(pairs.candidates, pairs.references), g["scores"][std::to_string(layer)][setting], what);
      std::printf("[ info ] bertscore %-22s max |ours - bert_score| = %.3g over %zu pairs\n", what.c_str(), worst,
                  pairs.candidates.size());
      overall = std::max(overall, worst);
    }
  }
  std::printf("[ info ] bertscore: max |ours - bert_score| over every setting = %.3g\n", overall);
}

TEST(BertScore, BatchSizeOne) {
  const auto& g = golden("bertscore.json")["batch_size_1"];
  BertScoreOptions o = options_for(g["layer"].get<int64_t>(), g["setting"].get<std::string>());
  o.batch_size = 1;
  o.encoder_batch_size = 7;  // any encoder batching gives the same embeddings
  const Pairs pairs = golden_pairs();
  const double worst = compare(BertScorer(kTiny, o).score(pairs.candidates, pairs.references), g["scores"], "batch 1");
  std::printf("[ info ] bertscore batch_size 1: max |ours - bert_score| = %.3g\n", worst);
}

// Single words next to long sentences in one group of 64, at layers 0 (the embeddings), 1 and 3,
// with batch_size 64 and 1. A best similarity below 0 would become 0 through the group's padding
// in bert_score; this model has none (the goldens count them), GroupPaddingCountsAsSimilarityZero
// covers that case by construction.
TEST(BertScore, WordPairsAtEveryBatchSize) {
  const auto& g = golden("bertscore.json")["word_pairs"];
  const Pairs pairs = golden_pairs(g["pairs"]);
  for (const auto& [layer, expected] : g["scores"].items()) {
    for (const int64_t batch : {64L, 1L}) {
      BertScoreOptions o;
      o.num_layers = std::stoll(layer);
      o.batch_size = batch;
      const std::string what = "word pairs, layer " + layer + ", batch_size " + std::to_string(batch);
      const double worst = compare(BertScorer(kTiny, o).score(pairs.candidates, pairs.references),
                                   expected[batch == 64 ? "batch64" : "batch1"], what, g["pairs"]);
      std::printf("[ info ] bertscore %-36s max |ours - bert_score| = %.3g\n", what.c_str(), worst);
    }
  }
}

TEST(BertScore, TokenIdsMatchBertTokenizerFast) {
  const BertScorer scorer(kTiny, options_for(1, "plain"));
  EXPECT_EQ(scorer.max_length(), 512u);
  size_t checked = 0, truncated = 0, unknown = 0;
  for (const auto& entry : golden("bertscore.json")["token_ids"]) {
    const std::string text = entry["text"].get<std::string>();
    const auto expected = entry["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = scorer.encode(text);
    EXPECT_EQ(ids, expected) << "text: " << text;
    ++checked;
    truncated += ids.size() == 512;
    unknown += std::count(expected.begin(), expected.end(), scorer.tokenizer().unk_id());
  }
  EXPECT_GT(truncated, 0u);
  EXPECT_GT(unknown, 0u);
  std::printf("[ info ] wordpiece: %zu sentences, %zu [UNK] tokens, %zu truncated to 512 ids\n", checked, unknown,
              truncated);
}

TEST(BertScore, TokenizerPieces) {
  const auto tok = text::WordPieceTokenizer::load(kTiny);
  EXPECT_EQ(tok.cls_id(), tok.token_to_id("[CLS]"));
  EXPECT_EQ(tok.sep_id(), tok.token_to_id("[SEP]"));
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.vocab_size(), 320);
  EXPECT_EQ(tok.normalize("Caf\xC3\xA9 \xE6\x95\xB0 \xC4\xB0x\tA\xE2\x80\x8B"), "cafe  \xE6\x95\xB0  i\x78 a");
  EXPECT_EQ(tok.pre_tokenize("keep,going  now!"), (std::vector<std::string>{"keep", ",", "going", "now", "!"}));
  std::vector<int32_t> ids;
  tok.encode_word(std::string(101, 'a'), ids);  // longer than max_input_chars_per_word
  EXPECT_EQ(ids, std::vector<int32_t>{tok.unk_id()});
  // Added tokens are found in the raw text; lowercase "[cls]" is ordinary text.
  const auto with_added = tok.encode("[CLS][cls]", false);
  ASSERT_GE(with_added.size(), 4u);
  EXPECT_EQ(with_added[0], tok.cls_id());
  EXPECT_EQ(with_added[1], tok.token_to_id("["));
  EXPECT_EQ(with_added.back(), tok.token_to_id("]"));
  EXPECT_EQ(tok.encode("keep going keep going", true, 4).size(), 4u);
  expect_error([&] { tok.encode("keep", true, 1); }, {"[wordpiece]", "max_length 1", "2 special tokens"});
  expect_error([&] { tok.id_to_token(400); }, {"[wordpiece]", "400"});
}

TEST(BertScore, NormalizerAndPreTokenizerOnEveryCodePoint) {
  const auto& u = golden("bert_unicode.json");
  const auto in = [](const nlohmann::json& ranges) {
    std::vector<bool> set(0x110000, false);
    for (const auto& r : ranges)
      for (auto cp = r[0].get<uint32_t>(); cp <= r[1].get<uint32_t>(); ++cp) set[cp] = true;
    return set;
  };
  const auto removed = in(u["removed"]), whitespace = in(u["whitespace"]), chinese = in(u["chinese"]);
  const auto split = in(u["pre_whitespace"]), punctuation = in(u["punctuation"]), marks = in(u["marks"]);
  size_t mismatches = 0;
  const auto expect = [&](bool ok, const char* what, char32_t cp) {
    if (!ok && ++mismatches <= 10) ADD_FAILURE() << what << " differs for " << text::code_point_name(cp);
  };
  std::u32string out;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    expect(text::bert_chars::is_removed(cp) == removed[cp], "clean_text removal", cp);
    expect(text::bert_chars::is_clean_whitespace(cp) == whitespace[cp], "clean_text whitespace", cp);
    expect(text::bert_chars::is_chinese(cp) == chinese[cp], "handle_chinese_chars", cp);
    expect(text::bert_chars::is_split_whitespace(cp) == split[cp], "pre-tokenizer whitespace", cp);
    expect(text::bert_chars::is_punctuation(cp) == punctuation[cp], "pre-tokenizer punctuation", cp);
    std::u32string want;                 // built with push_back: GCC 12 warns falsely (-Wrestrict) on assigning a list
    if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul: the script checked tokenizers against this algorithm
      const char32_t s = cp - 0xAC00;
      want.push_back(0x1100 + s / 588);
      want.push_back(0x1161 + s % 588 / 28);
      if (s % 28) want.push_back(0x11A7 + s % 28);
    } else if (!marks[cp]) {
      const auto it = u["decompositions"].find(std::to_string(cp));
      if (it == u["decompositions"].end()) {
        want.push_back(cp);
      } else {
        for (const auto& c : *it) want.push_back(static_cast<char32_t>(c.get<uint32_t>()));
      }
    }
    out.clear();
    text::bert_chars::append_stripped(cp, out);
    expect(out == want, "strip_accents", cp);
    want.clear();
    if (const auto it = u["lowercase"].find(std::to_string(cp)); it != u["lowercase"].end()) {
      for (const auto& c : *it) want.push_back(static_cast<char32_t>(c.get<uint32_t>()));
    } else {
      want.push_back(cp);
    }
    out.clear();
    text::bert_chars::append_lowercase(cp, out);
    expect(out == want, "lowercase", cp);
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(BertScore, IdenticalSentencesScoreOne) {
  const std::vector<std::string> sentences = {"squats - Keep your back straight.", "Caf\xC3\xA9 stretch, 3x12!",
                                              "glute bridge - Keep the heel on the floor."};
  for (const bool idf : {false, true}) {
    BertScoreOptions o;
    o.idf = idf;
    for (const BertScoreResult& r : BertScorer(kTiny, o).score(sentences, sentences)) {
      EXPECT_NEAR(r.precision, 1.0, 1e-6);
      EXPECT_NEAR(r.recall, 1.0, 1e-6);
      EXPECT_NEAR(r.f1, 1.0, 1e-6);
    }
  }
}

TEST(BertScore, EmptySentencesScoreZeroAndMeanAverages) {
  const BertScorer scorer(kTiny);
  EXPECT_EQ(scorer.num_layers(), 3);  // -1: the last layer
  const auto r = scorer.score({"", "keep going", " \t", "keep going"}, {"keep going", "", "keep going", "keep going"});
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r[i].precision, 0.0);
    EXPECT_EQ(r[i].recall, 0.0);
    EXPECT_EQ(r[i].f1, 0.0);
  }
  const BertScoreResult mean = bertscore_mean(r);
  EXPECT_NEAR(mean.f1, r[3].f1 / 4, 1e-12);
  EXPECT_TRUE(scorer.score({}, {}).empty());
  expect_error([] { bertscore_mean({}); }, {"[bertscore]"});
}

TEST(BertScore, IdfWeightsAreGetIdfDict) {
  BertScoreOptions o;
  o.idf = true;
  const BertScorer scorer(kTiny, o);
  const std::vector<std::string> refs = {"keep going", "keep your back straight", "keep going"};
  const BertScoreWeights w = scorer.weights(refs);
  const int32_t keep = scorer.encode("keep")[1], going = scorer.encode("going")[1];
  EXPECT_DOUBLE_EQ(w.weight(scorer.tokenizer().cls_id()), 0.0);  // in every reference
  EXPECT_DOUBLE_EQ(w.weight(keep), 0.0);
  EXPECT_DOUBLE_EQ(w.weight(going), std::log(4.0 / 3.0));
  EXPECT_DOUBLE_EQ(w.weight(999999), std::log(4.0));  // in no reference
  const BertScoreWeights plain = BertScorer(kTiny).weights(refs);
  EXPECT_EQ(plain.weight(scorer.tokenizer().sep_id()), 0.0);
  EXPECT_EQ(plain.weight(keep), 1.0);
}

TEST(BertScore, GroupPaddingCountsAsSimilarityZero) {
  // Two-dimensional unit vectors: the candidate's middle token points away from every reference token.
  BertScoreTokens cand{{2, 10, 3}, {0, 1, 0}, {1, 0, -1, 0, 1, 0}};
  BertScoreTokens ref{{2, 11, 3}, {0, 1, 0}, {1, 0, 0.6f, 0.8f, 1, 0}};
  const BertScoreResult alone = bertscore_match(cand, ref, 2);
  EXPECT_NEAR(alone.precision, -0.6, 1e-7);
  EXPECT_NEAR(alone.recall, 0.6, 1e-7);
  const BertScoreResult padded = bertscore_match(cand, ref, 2, /*reference_padded=*/true);
  EXPECT_NEAR(padded.precision, 0.0, 1e-7);
  EXPECT_NEAR(padded.recall, 0.6, 1e-7);
  cand.weights = {0, 0, 0};
  EXPECT_TRUE(std::isnan(bertscore_match(cand, ref, 2).precision));  // bert_score divides by a zero sum
  // Orthogonal one-token sentences: P = R = 0, so F is 0 / 0, which bert_score reports as 0.
  const BertScoreResult orthogonal = bertscore_match({{7}, {1}, {0, 1}}, {{8}, {1}, {1, 0}}, 2);
  EXPECT_EQ(orthogonal.precision, 0.0);
  EXPECT_EQ(orthogonal.f1, 0.0);
}

TEST(BertScore, BaselineFile) {
  const BertScoreBaseline b = read_bertscore_baseline(kBaseline, 3);
  EXPECT_DOUBLE_EQ(b.precision, 0.365);
  EXPECT_DOUBLE_EQ(b.recall, 0.3675);
  EXPECT_DOUBLE_EQ(b.f1, 0.363);
  const std::string dir = temp_folder("baselines");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  expect_error([&] { read_bertscore_baseline(dir + "/missing.tsv", 0); },
               {"[bertscore]", "missing.tsv", "cannot read"});
  expect_error([&] { read_bertscore_baseline(write("tabs.tsv", "LAYER\tP\tR\tF\n0\t0.1\t0.2\t0.3\n"), 0); },
               {"[bertscore]", "tabs.tsv", "header should be LAYER,P,R,F"});
  expect_error([&] { read_bertscore_baseline(write("text.tsv", "LAYER,P,R,F\n0,0.1,x,0.3\n"), 0); },
               {"[bertscore]", "text.tsv", "row 1", "four numbers"});
  expect_error([&] { read_bertscore_baseline(write("order.tsv", "LAYER,P,R,F\n1,0.1,0.2,0.3\n"), 1); },
               {"[bertscore]", "order.tsv", "numbered 0, 1, 2"});
  expect_error([&] { read_bertscore_baseline(write("short.tsv", "LAYER,P,R,F\n0,0.1,0.2,0.3\n"), 3); },
               {"[bertscore]", "short.tsv", "no baseline for layer 3", "0..0"});
  expect_error([&] { read_bertscore_baseline(write("empty.tsv", ""), 0); }, {"[bertscore]", "empty.tsv", "empty"});
  fs::remove_all(dir);
}

TEST(BertScore, BadModelFoldersAndOptionsAreClearErrors) {
  expect_error([] { const BertScorer scorer("/nonexistent/model"); },
               {"[bertscore]", "/nonexistent/model", "no such folder"});
  const std::string no_tokenizer = temp_folder("no_tokenizer");
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(kTiny + "/" + f, no_tokenizer + "/" + f);
  expect_error([&] { const BertScorer scorer(no_tokenizer); }, {"[bertscore]", no_tokenizer, "no tokenizer.json"});
  // A byte-level BPE tokenizer (RoBERTa, GPT-2) is refused by name.
  fs::copy_file(kTiny + "/tokenizer.json", no_tokenizer + "/tokenizer.json");
  std::string json = io::read_text_file(no_tokenizer + "/tokenizer.json");
  json.replace(json.find("\"WordPiece\"", json.find("\"model\"")), 11, "\"BPE\"");
  std::ofstream(no_tokenizer + "/tokenizer.json", std::ios::trunc) << json;
  expect_error([&] { const BertScorer scorer(no_tokenizer); },
               {"[wordpiece]", "tokenizer.json", "model type 'BPE'", "WordPiece"});
  expect_error(
      [] {
        text::WordPieceTokenizer::from_json(R"({"model": {"type": "WordPiece", "vocab": {"a": 0}, )"
                                            R"("unk_token": "[UNK]"}})");
      },
      {"[wordpiece]", "unk_token '[UNK]' is not in the vocabulary"});
  expect_error(
      [] {
        text::WordPieceTokenizer::from_json(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, )"
                                            R"("unk_token": "[UNK]"}, "normalizer": {"type": "NFKC"}})");
      },
      {"[wordpiece]", "normalizer type 'NFKC' is not supported"});
  for (const int64_t layer : {4L, -2L}) {
    BertScoreOptions o;
    o.num_layers = layer;
    expect_error([&] { const BertScorer scorer(kTiny, o); },
                 {"[bertscore]", "num_layers " + std::to_string(layer), "out of range", "3 layers"});
  }
  BertScoreOptions o;
  o.batch_size = 0;
  expect_error([&] { const BertScorer scorer(kTiny, o); }, {"[bertscore]", "batch_size 0"});
  expect_error([] { BertScorer(kTiny).score({"a"}, {}); }, {"[bertscore]", "1", "0"});
  fs::remove_all(no_tokenizer);
}

}  // namespace
}  // namespace vg::eval
