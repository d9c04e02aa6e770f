// bert_score 0.3.13 (bert_score/utils.py: sent_encode, get_idf_dict, bert_cos_score_idf,
// greedy_cos_idf; score.py: the baseline); see bertscore.h.
#include "eval/bertscore.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "io/mapped_file.h"
#include "text/utf8.h"

namespace vg::eval {
namespace {

constexpr const char* kComponent = "bertscore";

std::string in_folder(const std::string& folder, const char* name) {
  return folder + (folder.ends_with('/') ? "" : "/") + name;
}

std::vector<std::string> split_csv_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, ',');) {
    const auto first = field.find_first_not_of(" \t");
    const auto last = field.find_last_not_of(" \t");
    fields.push_back(first == std::string::npos ? "" : field.substr(first, last - first + 1));
  }
  return fields;
}

bool parse_double(const std::string& text, double& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

// The folder's checks that come before anything is loaded, and num_layers resolved against config.json.
BertScoreOptions checked_options(const std::string& folder, BertScoreOptions options) {
  VG_CHECK(io::is_directory(folder), kComponent, folder,
           io::file_exists(folder) ? " is not a folder" : ": no such folder",
           " (BERTScore needs a Hugging Face BERT folder: config.json, model.safetensors, tokenizer.json)");
  VG_CHECK(io::file_exists(in_folder(folder, "tokenizer.json")), kComponent, "folder ", folder,
           " has no tokenizer.json: BERTScore needs the model's own tokenizer (the tokenizer.json that Hugging Face "
           "BERT models ship)");
  const bert::Config config = bert::Config::load(folder);
  const int64_t L = config.num_hidden_layers, requested = options.num_layers;
  options.num_layers = requested == -1 ? L : requested;
  VG_CHECK(options.num_layers >= 0 && options.num_layers <= L, kComponent, "num_layers ", requested,
           " is out of range: ", folder, " has ", L, " layers (0 = the embeddings, 1..", L,
           " = the output of that layer, -1 = the last)");
  VG_CHECK(options.batch_size > 0 && options.encoder_batch_size > 0, kComponent, "batch_size ", options.batch_size,
           " and encoder_batch_size ", options.encoder_batch_size, " must be positive");
  return options;
}

// transformers truncates to the tokenizer's model_max_length; a model without one would not
// truncate at all, and fail past its positions: here the positions are the limit then.
size_t max_length_of(const std::string& folder, const bert::Config& config) {
  auto limit = static_cast<double>(config.max_position_embeddings);
  const std::string path = in_folder(folder, "tokenizer_config.json");
  if (io::file_exists(path)) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(io::read_text_file(path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(kComponent, str(path, ": not valid JSON: ", e.what()));
    }
    auto it = doc.find("model_max_length");
    if (it != doc.end() && it->is_number() && it->get<double>() >= 1) limit = std::min(limit, it->get<double>());
  }
  return static_cast<size_t>(limit);
}

// sum_i w_i s_i / sum_i w_i, NaN when every weight is 0 (bert_score divides by the zero sum).
double weighted_mean(const std::vector<double>& best, const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  if (total == 0) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (size_t i = 0; i < best.size(); ++i) sum += best[i] * (weights[i] / total);
  return sum;
}

double rescale(double value, double baseline) {
  const double b = static_cast<float>(baseline);  // bert_score reads the baselines as float32
  return (value - b) / (1 - b);
}

}  // namespace

BertScoreBaseline read_bertscore_baseline(const std::string& path, int64_t layer) {
  std::ifstream in(path, std::ios::binary);
  VG_CHECK(in.good(), kComponent, path,
           ": cannot read the baseline file (bert_score's rescale_baseline/<lang>/<model>.tsv format: "
           "a header LAYER,P,R,F and one row per layer)");
  std::string line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rows.push_back(split_csv_line(line));
  }
  VG_CHECK(!rows.empty(), kComponent, path, ": the baseline file is empty (expected a header LAYER,P,R,F)");
  if (rows[0] != std::vector<std::string>{"LAYER", "P", "R", "F"}) {
    std::string header;
    for (const std::string& field : rows[0]) header += (header.empty() ? "" : ",") + field;
    throw Error(kComponent, str(path, ": the header should be LAYER,P,R,F (comma-separated), found '", header, "'"));
  }
  BertScoreBaseline found;
  bool have = false;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::vector<std::string>& row = rows[r];
    double values[4];
    VG_CHECK(row.size() == 4 && parse_double(row[0], values[0]) && parse_double(row[1], values[1]) &&
                 parse_double(row[2], values[2]) && parse_double(row[3], values[3]),
             kComponent, path, ": row ", r, " should be LAYER,P,R,F with four numbers, found ", row.size(), " fields");
    // bert_score picks the row by position (iloc[num_layers]); numbered rows make that the LAYER value.
    VG_CHECK(values[0] == static_cast<double>(r - 1), kComponent, path, ": row ", r, " has LAYER ", row[0],
             "; rows should be numbered 0, 1, 2, ... in order, as bert_score picks row number num_layers");
    if (static_cast<int64_t>(r - 1) == layer) {
      found = {values[1], values[2], values[3]};
      have = true;
    }
  }
  VG_CHECK(have, kComponent, path, ": no baseline for layer ", layer, " (the file has layers 0..",
           static_cast<int64_t>(rows.size()) - 2, ")");
  return found;
}

BertScoreResult bertscore_match(const BertScoreTokens& candidate, const BertScoreTokens& reference, int64_t dim,
                                bool reference_padded, bool candidate_padded) {
  const size_t nc = candidate.ids.size(), nr = reference.ids.size(), D = static_cast<size_t>(dim);
  VG_CHECK(nc > 0 && nr > 0 && candidate.weights.size() == nc && reference.weights.size() == nr &&
               candidate.embeddings.size() == nc * D && reference.embeddings.size() == nr * D,
           kComponent, "inconsistent token data: ", nc, " and ", nr, " tokens of dimension ", dim);
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  std::vector<double> best_c(nc, reference_padded ? 0.0 : kNegInf), best_r(nr, candidate_padded ? 0.0 : kNegInf);
  for (size_t i = 0; i < nc; ++i) {
    const float* c = candidate.embeddings.data() + i * D;
    for (size_t j = 0; j < nr; ++j) {
      const float* r = reference.embeddings.data() + j * D;
      double s = 0;
      for (size_t d = 0; d < D; ++d) s += static_cast<double>(c[d]) * r[d];  // cosine: both unit length
      best_c[i] = std::max(best_c[i], s);
      best_r[j] = std::max(best_r[j], s);
    }
  }
  BertScoreResult out;
  out.precision = weighted_mean(best_c, candidate.weights);
  out.recall = weighted_mean(best_r, reference.weights);
  out.f1 = 2 * out.precision * out.recall / (out.precision + out.recall);
  if (std::isnan(out.f1)) out.f1 = 0;                      // F before the masks below, as bert_score computes it
  if (nc == 2 || nr == 2) out.precision = out.recall = 0;  // only [CLS] and [SEP]: an empty sentence
  return out;
}

BertScorer::BertScorer(const std::string& model_folder, BertScoreOptions options)
    : options_(checked_options(model_folder, options)),
      tokenizer_(text::WordPieceTokenizer::load(model_folder)),
      model_(bert::Model::load(model_folder, {DType::F32, options_.num_layers})),
      max_length_(max_length_of(model_folder, model_.config())) {
  VG_CHECK(tokenizer_.cls_id() >= 0 && tokenizer_.sep_id() >= 0, kComponent, tokenizer_.source(),
           ": the tokenizer adds no [CLS] ... [SEP] around a sentence (post_processor), which BERTScore relies on");
  VG_CHECK(tokenizer_.vocab_size() <= model_.config().vocab_size, kComponent, tokenizer_.source(), " has ",
           tokenizer_.vocab_size(), " token ids but the model only ", model_.config().vocab_size,
           " embeddings: the tokenizer and the model do not belong together");
}

std::vector<int32_t> BertScorer::encode(std::string_view sentence) const {
  std::string storage;
  if (!text::is_valid_utf8(sentence)) {
    storage = text::sanitize_utf8(sentence);
    sentence = storage;
  }
  const std::string_view stripped = text::trim_python_whitespace(sentence);  // str.strip()
  if (stripped.empty()) {
    std::vector<int32_t> ids = tokenizer_.prefix();
    ids.insert(ids.end(), tokenizer_.suffix().begin(), tokenizer_.suffix().end());
    return ids;
  }
  return tokenizer_.encode(stripped, /*add_special_tokens=*/true, max_length_);
}

BertScoreWeights BertScorer::weights(const std::vector<std::string>& references) const {
  BertScoreWeights w;
  if (!options_.idf) {
    w.by_id[tokenizer_.sep_id()] = 0;
    w.by_id[tokenizer_.cls_id()] = 0;
    return w;
  }
  // get_idf_dict: document frequencies over the references, log((M + 1) / (df + 1)).
  std::unordered_map<int32_t, int64_t> df;
  for (const std::string& reference : references) {
    const std::vector<int32_t> ids = encode(reference);
    for (int32_t id : std::set<int32_t>(ids.begin(), ids.end())) ++df[id];
  }
  const auto M = static_cast<double>(references.size());
  w.fallback = std::log((M + 1) / 1);
  for (const auto& [id, count] : df) w.by_id[id] = std::log((M + 1) / (static_cast<double>(count) + 1));
  return w;
}

std::vector<BertScoreTokens> BertScorer::embed(const std::vector<std::string>& sentences,
                                               const BertScoreWeights& weights) const {
  autograd::NoGradGuard no_grad;
  std::vector<BertScoreTokens> out(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    out[i].ids = encode(sentences[i]);
    for (int32_t id : out[i].ids) out[i].weights.push_back(weights.weight(id));
  }
  // Longest first, so that each batch pads little.
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return out[a].ids.size() > out[b].ids.size(); });
  const auto D = static_cast<size_t>(model_.config().hidden_size);
  const int32_t pad =
      tokenizer_.pad_id() >= 0 ? tokenizer_.pad_id() : static_cast<int32_t>(model_.config().pad_token_id);
  const auto batch = static_cast<size_t>(options_.encoder_batch_size);
  for (size_t start = 0; start < order.size(); start += batch) {
    const size_t B = std::min(batch, order.size() - start);
    const size_t T = out[order[start]].ids.size();
    std::vector<int64_t> ids(B * T, pad), mask(B * T, 0);
    for (size_t b = 0; b < B; ++b) {
      const std::vector<int32_t>& s = out[order[start + b]].ids;
      std::copy(s.begin(), s.end(), ids.begin() + static_cast<std::ptrdiff_t>(b * T));
      std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(b * T), s.size(), 1);
    }
    const Shape shape{static_cast<int64_t>(B), static_cast<int64_t>(T)};
    const Tensor hidden =
        model_.hidden_states(Tensor::from_vector(ids, shape), Tensor::from_vector(mask, shape),
                             options_.num_layers)
            .back()
            .contiguous();  // [B, T, D]
    const float* h = hidden.data<float>();
    for (size_t b = 0; b < B; ++b) {
      BertScoreTokens& tokens = out[order[start + b]];
      tokens.embeddings.resize(tokens.ids.size() * D);
      for (size_t t = 0; t < tokens.ids.size(); ++t) {
        const float* row = h + (b * T + t) * D;
        double norm = 0;
        for (size_t d = 0; d < D; ++d) norm += static_cast<double>(row[d]) * row[d];
        norm = std::sqrt(norm);
        for (size_t d = 0; d < D; ++d) tokens.embeddings[t * D + d] = static_cast<float>(row[d] / norm);
      }
    }
  }
  return out;
}

std::vector<BertScoreResult> BertScorer::score(const std::vector<std::string>& candidates,
                                               const std::vector<std::string>& references) const {
  VG_CHECK(candidates.size() == references.size(), kComponent, "different numbers of candidates (", candidates.size(),
           ") and references (", references.size(), ")");
  const size_t n = candidates.size();
  if (n == 0) return {};
  const BertScoreWeights weights = this->weights(references);

  // Each distinct sentence is encoded once, as bert_score's stats_dict does.
  std::vector<std::string> unique;
  std::unordered_map<std::string, size_t> index;
  std::vector<size_t> ref_index(n), cand_index(n);
  const auto intern = [&](const std::string& s) {
    auto [it, added] = index.emplace(s, unique.size());
    if (added) unique.push_back(s);
    return it->second;
  };
  for (size_t i = 0; i < n; ++i) ref_index[i] = intern(references[i]);
  for (size_t i = 0; i < n; ++i) cand_index[i] = intern(candidates[i]);
  const std::vector<BertScoreTokens> tokens = embed(unique, weights);

  std::vector<BertScoreResult> results(n);
  const auto group = static_cast<size_t>(options_.batch_size);
  const int64_t D = model_.config().hidden_size;
  for (size_t start = 0; start < n; start += group) {
    const size_t end = std::min(n, start + group);
    size_t longest_ref = 0, longest_cand = 0;
    for (size_t i = start; i < end; ++i) {
      longest_ref = std::max(longest_ref, tokens[ref_index[i]].ids.size());
      longest_cand = std::max(longest_cand, tokens[cand_index[i]].ids.size());
    }
    parallel_for(static_cast<int64_t>(end - start), 1, [&](int64_t begin, int64_t stop) {
      for (auto k = static_cast<size_t>(begin); k < static_cast<size_t>(stop); ++k) {
        const BertScoreTokens& c = tokens[cand_index[start + k]];
        const BertScoreTokens& r = tokens[ref_index[start + k]];
        results[start + k] = bertscore_match(c, r, D, r.ids.size() < longest_ref, c.ids.size() < longest_cand);
      }
    });
  }
  if (options_.baseline) {
    const BertScoreBaseline& b = *options_.baseline;
    for (BertScoreResult& r : results) {
      r.precision = rescale(r.precision, b.precision);
      r.recall = rescale(r.recall, b.recall);
      r.f1 = rescale(r.f1, b.f1);
    }
  }
  return results;
}

BertScoreResult bertscore_mean(const std::vector<BertScoreResult>& results) {
  VG_CHECK(!results.empty(), kComponent, "the mean of no results is undefined");
  BertScoreResult mean;
  for (const BertScoreResult& r : results) {
    mean.precision += r.precision;
    mean.recall += r.recall;
    mean.f1 += r.f1;
  }
  const auto count = static_cast<double>(results.size());
  return {mean.precision / count, mean.recall / count, mean.f1 / count};
}

}  // namespace vg::eval
