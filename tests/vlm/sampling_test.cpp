// Token sampling: processed logits against transformers' own logits processors
// (tools/reference/make_sampling_goldens.py), the sampled distribution, determinism, greedy
// ties and the errors.
#include "vlm/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::expect_error;
using testing::open_golden;

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor row_f64(const std::vector<double>& values) {
  return Tensor::from_vector(values, {static_cast<int64_t>(values.size())});
}

std::vector<int32_t> to_ids(const Tensor& t) {
  std::vector<int64_t> v = t.to_vector<int64_t>();
  return {v.begin(), v.end()};
}

// Logits whose softmax is `probs`.
Tensor logits_of(const std::vector<double>& probs) {
  std::vector<double> logits;
  for (double p : probs) logits.push_back(std::log(p));
  return row_f64(logits);
}

// Draws n tokens and counts them per id.
std::vector<int64_t> histogram(Sampler& sampler, const Tensor& row, int n, const std::vector<int32_t>& previous = {}) {
  std::vector<int64_t> counts(static_cast<size_t>(row.size(0)), 0);
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(sampler.next(row, previous))];
  return counts;
}

// Every count within 5 binomial standard deviations of n * p (and exactly 0 where p = 0).
void expect_follows(const std::vector<int64_t>& counts, const std::vector<double>& probs, int n) {
  ASSERT_EQ(counts.size(), probs.size());
  for (size_t i = 0; i < probs.size(); ++i) {
    const double mean = n * probs[i], sd = std::sqrt(n * probs[i] * (1 - probs[i]));
    if (probs[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i;
    } else {
      EXPECT_NEAR(static_cast<double>(counts[i]), mean, 5 * sd) << "token " << i;
    }
  }
}

std::vector<double> normalized(std::vector<double> w) {
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& x : w) x /= sum;
  return w;
}

// ---- goldens from transformers ----

std::vector<std::string> golden_cases(const io::SafetensorsFile& golden) {
  std::vector<std::string> cases;
  const std::string suffix = ".options";
  for (const io::TensorInfo& t : golden.tensors()) {
    if (t.name.size() > suffix.size() && t.name.ends_with(suffix))
      cases.push_back(t.name.substr(0, t.name.size() - suffix.size()));
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

SamplingOptions options_from(const Tensor& t, uint64_t seed) {
  std::vector<double> o = t.to_vector<double>();
  SamplingOptions options;
  options.temperature = o[0];
  options.top_k = static_cast<int64_t>(o[1]);
  options.top_p = o[2];
  options.min_p = o[3];
  options.repetition_penalty = o[4];
  options.seed = seed;
  return options;
}

TEST(SamplingGolden, ProcessedLogitsMatchTransformers) {
  io::SafetensorsFile golden = open_golden("vlm/sampling.safetensors");
  const std::vector<std::string> cases = golden_cases(golden);
  ASSERT_GE(cases.size(), 15u);
  for (const std::string& name : cases) {
    SCOPED_TRACE(name);
    const Tensor logits = golden.get(name + ".logits");
    const std::vector<int32_t> previous = to_ids(golden.get(name + ".previous"));
    Sampler sampler(options_from(golden.get(name + ".options"), 1));
    const Tensor out = sampler.processed_logits(logits, previous);
    ASSERT_EQ(out.dtype(), DType::F64);
    const std::vector<double> actual = out.to_vector<double>();
    const std::vector<double> expected = golden.get(name + ".out").to_vector<double>();
    ASSERT_EQ(actual.size(), expected.size());
    int64_t kept = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (std::isinf(expected[i])) {
        EXPECT_EQ(actual[i], expected[i]) << "id " << i;
      } else {
        ++kept;
        EXPECT_NEAR(actual[i], expected[i], 1e-12 * (1 + std::abs(expected[i]))) << "id " << i;
      }
    }
    // The draws land on kept tokens only.
    for (int draw = 0; draw < 50; ++draw) {
      const int32_t id = sampler.next(logits, previous);
      if (!std::isfinite(expected[static_cast<size_t>(id)])) {
        ADD_FAILURE() << "drew removed id " << id;
        break;
      }
    }
    EXPECT_GE(kept, 1);
  }
}

// ---- the sampled distribution ----

const std::vector<double> kFive = {0.1, 0.2, 0.3, 0.25, 0.15};
constexpr int kDraws = 20000;

TEST(Sampler, DrawsFollowTheSoftmax) {
  Sampler sampler({.seed = 11});
  expect_follows(histogram(sampler, logits_of(kFive), kDraws), kFive, kDraws);
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  for (double t : {0.5, 2.0}) {
    SCOPED_TRACE(t);
    std::vector<double> expected;
    for (double p : kFive) expected.push_back(std::pow(p, 1 / t));
    Sampler sampler({.temperature = t, .seed = 12});
    expect_follows(histogram(sampler, logits_of(kFive), kDraws), normalized(expected), kDraws);
  }
}

TEST(Sampler, TopKTopPAndMinPRenormaliseWhatTheyKeep) {
  const Tensor row = logits_of(kFive);
  {
    Sampler sampler({.top_k = 3, .seed = 13});  // keeps 0.3, 0.25, 0.2
    expect_follows(histogram(sampler, row, kDraws), normalized({0, 0.2, 0.3, 0.25, 0}), kDraws);
  }
  {
    // Ascending 0.1, 0.15, 0.2, 0.25, 0.3: cumulative 0.1, 0.25, 0.45 are <= 1 - 0.5 and go.
    Sampler sampler({.top_p = 0.5, .seed = 14});
    expect_follows(histogram(sampler, row, kDraws), normalized({0, 0, 0.3, 0.25, 0}), kDraws);
  }
  {
    Sampler sampler({.min_p = 0.6, .seed = 15});  // keeps p >= 0.18
    expect_follows(histogram(sampler, row, kDraws), normalized({0, 0.2, 0.3, 0.25, 0}), kDraws);
  }
}

TEST(Sampler, RepetitionPenaltyLowersRepeatedTokens) {
  // Logits 2, 1, -1: the penalty 2 makes them 1 (repeated id 0, penalised once), 1, -2.
  Sampler sampler({.repetition_penalty = 2.0, .seed = 16});
  const Tensor row = row_f64({2.0, 1.0, -1.0});
  const std::vector<int32_t> previous = {0, 0, 2, 0};
  EXPECT_EQ(sampler.processed_logits(row, previous).to_vector<double>(), (std::vector<double>{1.0, 1.0, -2.0}));
  const std::vector<double> expected = normalized({std::exp(1.0), std::exp(1.0), std::exp(-2.0)});
  expect_follows(histogram(sampler, row, kDraws, previous), expected, kDraws);
}

TEST(Sampler, SameSeedSameTokensAndTheStateReplays) {
  const Tensor row = testing::random_tensor({1000}, 5);
  auto run = [&](uint64_t seed) {
    Sampler sampler({.top_k = 100, .top_p = 0.95, .seed = seed});
    std::vector<int32_t> tokens;
    for (int i = 0; i < 200; ++i) tokens.push_back(sampler.next(row, tokens));
    return tokens;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));

  Sampler sampler({.seed = 3});
  sampler.next(row, {});
  const Generator::State state = sampler.generator().state();
  std::vector<int32_t> first, second;
  for (int i = 0; i < 20; ++i) first.push_back(sampler.next(row, {}));
  sampler.generator().set_state(state);
  for (int i = 0; i < 20; ++i) second.push_back(sampler.next(row, {}));
  EXPECT_EQ(first, second);
}

TEST(Sampler, F32AndF64RowsGiveTheSameTokens) {
  const Tensor row = testing::random_tensor({500}, 6);
  Sampler a({.top_p = 0.9, .seed = 4}), b({.top_p = 0.9, .seed = 4});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(row, {}), b.next(row.to(DType::F32), {}));
  EXPECT_EQ(a.processed_logits(row.to(DType::F32), {}).dtype(), DType::F32);
}

// ---- greedy ----

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  const Tensor row = row_f64({0.5, 3.0, -1.0, 3.0, 3.0});
  Sampler greedy({.greedy = true});
  Sampler cold({.temperature = 0.0});
  EXPECT_TRUE(cold.is_greedy());
  EXPECT_EQ(greedy.next(row, {}), 1);
  EXPECT_EQ(cold.next(row, {}), 1);
  // The repetition penalty applies; 3 / 2 = 1.5 drops id 1 below ids 3 and 4.
  Sampler penalised({.greedy = true, .repetition_penalty = 2.0});
  EXPECT_EQ(penalised.next(row, {1}), 3);
  // Temperature and filters are not applied: the processed logits are the penalised ones.
  Sampler filtered({.greedy = true, .top_k = 1, .top_p = 0.1, .repetition_penalty = 2.0});
  EXPECT_EQ(filtered.processed_logits(row, {1}).to_vector<double>(), (std::vector<double>{0.5, 1.5, -1.0, 3.0, 3.0}));
}

// ---- infinities ----

TEST(Sampler, InfiniteLogits) {
  // -inf is never drawn.
  Sampler sampler({.seed = 7});
  const Tensor masked = row_f64({-kInf, 0.0, -kInf, 0.0});
  expect_follows(histogram(sampler, masked, 4000), {0, 0.5, 0, 0.5}, 4000);
  // +inf tokens share all the probability.
  const Tensor infinite = row_f64({1.0, kInf, 50.0, kInf, kInf});
  expect_follows(histogram(sampler, infinite, 6000), {0, 1.0 / 3, 0, 1.0 / 3, 1.0 / 3}, 6000);
  Sampler filtered({.top_k = 2, .top_p = 0.5, .min_p = 0.5, .seed = 8});
  for (int i = 0; i < 100; ++i) {
    const int32_t id = filtered.next(infinite, {});
    EXPECT_TRUE(id == 1 || id == 3 || id == 4) << id;
  }
  EXPECT_EQ(Sampler({.greedy = true}).next(infinite, {}), 1);
  // A temperature small enough to overflow finite logits to +inf.
  Sampler tiny({.temperature = 1e-308, .seed = 9});
  EXPECT_EQ(tiny.next(row_f64({-1.0, 2.0, 1.0}), {}), 1);
}

// ---- a real vocabulary, against a plain full-sort reference ----

// transformers' top-p on one row by full stable sort, as the golden script pins it.
std::vector<bool> reference_top_p_kept(const std::vector<double>& scores, double top_p) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double top = *std::max_element(scores.begin(), scores.end()), sum = 0;
  for (double s : scores) sum += std::exp(s - top);
  std::vector<bool> kept(scores.size(), true);
  double cumulative = 0;
  for (size_t j = 0; j + 1 < order.size(); ++j) {
    cumulative += std::exp(scores[order[j]] - top) / sum;
    if (cumulative <= 1 - top_p) kept[order[j]] = false;
  }
  return kept;
}

TEST(Sampler, TopPOnAFullVocabularyMatchesAFullSort) {
  constexpr int64_t kVocab = 262400;
  for (double scale : {1.0, 4.0, 12.0}) {
    for (double top_p : {0.5, 0.9, 0.99}) {
      SCOPED_TRACE(str("scale ", scale, ", top_p ", top_p));
      std::vector<double> logits = testing::random_tensor({kVocab}, 20).to_vector<double>();
      for (double& x : logits) x = std::round(x * scale * 8) / 8;  // ties
      Sampler sampler({.top_p = top_p, .seed = 21});
      const std::vector<double> out = sampler.processed_logits(row_f64(logits), {}).to_vector<double>();
      const std::vector<bool> kept = reference_top_p_kept(logits, top_p);
      int64_t mismatches = 0, count = 0;
      for (size_t i = 0; i < logits.size(); ++i) {
        mismatches += kept[i] != std::isfinite(out[i]);
        count += kept[i];
      }
      EXPECT_EQ(mismatches, 0) << "of " << count << " kept";
      const Tensor row = row_f64(logits);
      for (int draw = 0; draw < 5; ++draw) EXPECT_TRUE(kept[static_cast<size_t>(sampler.next(row, {}))]);
    }
  }
}

TEST(Sampler, TopKOnAFullVocabularyKeepsTiesAtTheKthValue) {
  constexpr int64_t kVocab = 262400;
  std::vector<double> logits = testing::random_tensor({kVocab}, 22).to_vector<double>();
  for (double& x : logits) x = std::round(x * 100) / 100;
  for (int64_t k : {1, 40, 5000, 200000}) {
    SCOPED_TRACE(k);
    std::vector<double> sorted = logits;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    const double kth = sorted[static_cast<size_t>(k - 1)];
    const int64_t expected = std::count_if(logits.begin(), logits.end(), [&](double x) { return x >= kth; });
    const std::vector<double> out = Sampler({.top_k = k}).processed_logits(row_f64(logits), {}).to_vector<double>();
    EXPECT_EQ(std::count_if(out.begin(), out.end(), [](double x) { return std::isfinite(x); }), expected);
  }
}

// ---- errors ----

TEST(Sampler, RejectsNonsenseOptions) {
  auto build = [](SamplingOptions o) { return [o] { Sampler s(o); }; };
  expect_error(build({.temperature = -0.5}), {"[sampling]", "temperature", "-0.5"});
  expect_error(build({.temperature = std::nan("")}), {"[sampling]", "temperature"});
  expect_error(build({.temperature = kInf}), {"[sampling]", "temperature"});
  expect_error(build({.top_k = -1}), {"[sampling]", "top_k", "-1"});
  expect_error(build({.top_p = 0.0}), {"[sampling]", "top_p", "(0, 1]"});
  expect_error(build({.top_p = 1.5}), {"[sampling]", "top_p", "1.5"});
  expect_error(build({.top_p = std::nan("")}), {"[sampling]", "top_p"});
  expect_error(build({.min_p = -0.1}), {"[sampling]", "min_p", "[0, 1)"});
  expect_error(build({.min_p = 1.0}), {"[sampling]", "min_p"});
  expect_error(build({.repetition_penalty = 0.0}), {"[sampling]", "repetition_penalty", "> 0"});
  expect_error(build({.repetition_penalty = -1.0}), {"[sampling]", "repetition_penalty"});
  EXPECT_NO_THROW(Sampler({.temperature = 0.0, .top_k = 0, .top_p = 1.0, .min_p = 0.0, .repetition_penalty = 1.0}));
}

TEST(Sampler, RejectsBadRows) {
  Sampler sampler({.seed = 1});
  expect_error(
      [&] {
        sampler.next(row_f64({0.0, std::nan(""), 1.0, std::nan("")}), {});
      },
      {"[sampling]", "NaN", "2 of 4", "id 1"});
  expect_error([&] { Sampler({.greedy = true}).next(row_f64({std::nan("")}), {}); }, {"[sampling]", "NaN"});
  expect_error([&] { sampler.next(row_f64({-kInf, -kInf}), {}); }, {"[sampling]", "-inf"});
  expect_error([&] { sampler.next(row_f64({0.0, 1.0}), {0, 2}); }, {"[sampling]", "previous token id 2", "[0, 2)"});
  expect_error([&] { sampler.next(row_f64({0.0, 1.0}), {-1}); }, {"[sampling]", "-1"});
  expect_error([&] { sampler.next(zeros({2, 3}), {}); }, {"[sampling]", "[V]"});
  expect_error([&] { sampler.next(Tensor::from_vector<int64_t>({1, 2}, {2}), {}); }, {"[sampling]", "floating"});
  expect_error([&] { sampler.next(Tensor(), {}); }, {"[sampling]", "undefined"});
  expect_error([&] { sampler.next(zeros({0}), {}); }, {"[sampling]", "vocabulary size"});
}

}  // namespace
}  // namespace vg
