#include "vlm/sampling.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace vg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Top-k finds the k-th largest value with a bounded min-heap when k is this small against the
// vocabulary (one pass, almost no heap work), and with nth_element otherwise.
constexpr int64_t kHeapSelectRatio = 64;
// Top-p sorts only the last stretch of this many tokens around its cut; the rest is placed by
// selection.
constexpr size_t kTopPSortBelow = 32;

// A token as top-p ranks it: contiguous, so selecting among many of them stays in cache.
struct RankedToken {
  double score;
  double prob;
  int32_t id;
};

// Copies the row into `scores` (rejecting NaN) and applies the repetition penalty, reading each
// penalised logit from the row itself so that a repeated id is penalised once.
template <class T>
void load_scores(const T* row, int64_t vocab, const std::vector<int32_t>& previous, double penalty,
                 std::vector<double>& scores) {
  scores.resize(static_cast<size_t>(vocab));
  bool has_nan = false;
  for (int64_t i = 0; i < vocab; ++i) {
    const double v = static_cast<double>(row[i]);
    has_nan |= std::isnan(v);
    scores[static_cast<size_t>(i)] = v;
  }
  if (has_nan) {
    const auto first = std::find_if(scores.begin(), scores.end(), [](double v) { return std::isnan(v); });
    const int64_t count = std::count_if(scores.begin(), scores.end(), [](double v) { return std::isnan(v); });
    throw Error("sampling", str("the logits contain NaN (", count, " of ", vocab, ", the first at id ",
                                first - scores.begin(), "): the model's forward pass produced invalid values"));
  }
  for (const int32_t id : previous) {
    VG_CHECK(id >= 0 && id < vocab, "sampling", "previous token id ", id, " is outside the vocabulary [0, ", vocab,
             ")");
  }
  if (penalty == 1.0) return;
  for (const int32_t id : previous) {
    const double v = static_cast<double>(row[id]);
    scores[static_cast<size_t>(id)] = v < 0 ? v * penalty : v / penalty;  // as transformers: 0 stays 0
  }
}

// Softmax over the kept ids into probs[id], computed as torch does (exp(x - max) * (1 / sum)).
// +inf logits share all the probability equally. Returns the largest probability.
double softmax_kept(const std::vector<double>& scores, const std::vector<int32_t>& kept, std::vector<double>& probs) {
  double top = -kInf;
  for (const int32_t id : kept) top = std::max(top, scores[static_cast<size_t>(id)]);
  if (top == kInf) {
    const auto infinite =
        std::count_if(kept.begin(), kept.end(), [&](int32_t id) { return scores[static_cast<size_t>(id)] == kInf; });
    const double share = 1.0 / static_cast<double>(infinite);
    for (const int32_t id : kept) probs[static_cast<size_t>(id)] = scores[static_cast<size_t>(id)] == kInf ? share : 0;
    return share;
  }
  double sum = 0;
  for (const int32_t id : kept) {
    const double e = std::exp(scores[static_cast<size_t>(id)] - top);
    probs[static_cast<size_t>(id)] = e;
    sum += e;
  }
  const double inv = 1.0 / sum;  // sum >= 1: the top token contributes exp(0)
  for (const int32_t id : kept) probs[static_cast<size_t>(id)] *= inv;
  return inv;
}

// The k-th largest finite-or-+inf score, or -inf when fewer than k scores are above -inf.
double kth_largest(const std::vector<double>& scores, int64_t k, std::vector<double>& values) {
  values.clear();
  const int64_t vocab = static_cast<int64_t>(scores.size());
  if (k * kHeapSelectRatio <= vocab) {
    std::vector<double>& heap = values;  // a min-heap of the k largest seen so far
    for (const double v : scores) {
      if (!(v > -kInf)) continue;
      if (static_cast<int64_t>(heap.size()) < k) {
        heap.push_back(v);
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
      } else if (v > heap.front()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        heap.back() = v;
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
      }
    }
    return static_cast<int64_t>(heap.size()) < k ? -kInf : heap.front();
  }
  for (const double v : scores) {
    if (v > -kInf) values.push_back(v);
  }
  if (static_cast<int64_t>(values.size()) <= k) return -kInf;
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<>());
  return values[static_cast<size_t>(k - 1)];
}

// Removes the ids whose score has become -inf from `kept`, keeping id order.
void drop_removed(const std::vector<double>& scores, std::vector<int32_t>& kept) {
  kept.erase(
      std::remove_if(kept.begin(), kept.end(), [&](int32_t id) { return scores[static_cast<size_t>(id)] == -kInf; }),
      kept.end());
}

// transformers' TopPLogitsWarper: in ascending order of logits (equal logits by ascending id, a
// stable sort), remove the tokens whose cumulative probability is <= 1 - top_p, but never the
// highest. The cut is found by selection (a quickselect that halves the range holding it,
// weighing each half), so only a few tokens are ever sorted: O(V) instead of O(V log V).
void apply_top_p(double top_p, std::vector<double>& scores, std::vector<double>& probs, std::vector<int32_t>& kept,
                 std::vector<RankedToken>& ranked) {
  const size_t n = kept.size();
  if (n <= 1) return;
  softmax_kept(scores, kept, probs);
  const double cutoff = 1.0 - top_p;

  // Tokens with p <= cutoff / n go: at their place in the order, the cumulative sum holds only
  // tokens at least as small, at most n of them. Splitting them off first leaves few tokens to
  // select among for peaked distributions. Should rounding make their sum pass the cutoff,
  // every token takes part in the selection.
  const double small = cutoff / static_cast<double>(n);
  double below = 0;
  for (const int32_t id : kept) {
    const double p = probs[static_cast<size_t>(id)];
    if (p <= small) below += p;
  }
  const bool split_small = below <= cutoff;
  if (!split_small) below = 0;
  ranked.clear();
  for (const int32_t id : kept) {
    const double p = probs[static_cast<size_t>(id)];
    if (split_small && p <= small) {
      scores[static_cast<size_t>(id)] = -kInf;
    } else {
      ranked.push_back({scores[static_cast<size_t>(id)], p, id});
    }
  }
  auto ascending = [](const RankedToken& a, const RankedToken& b) {
    return a.score < b.score || (a.score == b.score && a.id < b.id);
  };

  // Invariant: ranked[0, lo) are removed (their sum with the small ones, `below`, is <= cutoff)
  // and ranked[hi, end) are kept.
  size_t lo = 0, hi = ranked.size();
  while (hi - lo > kTopPSortBelow) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(ranked.begin() + static_cast<std::ptrdiff_t>(lo),
                     ranked.begin() + static_cast<std::ptrdiff_t>(mid),
                     ranked.begin() + static_cast<std::ptrdiff_t>(hi), ascending);
    double sum = below;
    for (size_t j = lo; j < mid; ++j) sum += ranked[j].prob;
    if (sum <= cutoff) {
      below = sum;
      lo = mid;
    } else {
      hi = mid;
    }
  }
  std::sort(ranked.begin() + static_cast<std::ptrdiff_t>(lo), ranked.begin() + static_cast<std::ptrdiff_t>(hi),
            ascending);
  size_t cut = lo;  // ranked[0, cut) are removed
  for (; cut < hi; ++cut) {
    below += ranked[cut].prob;
    if (!(below <= cutoff)) break;
  }
  cut = std::min(cut, ranked.size() - 1);  // the highest token always stays
  for (size_t j = 0; j < cut; ++j) scores[static_cast<size_t>(ranked[j].id)] = -kInf;
  drop_removed(scores, kept);
}

// transformers' MinPLogitsWarper: remove tokens with prob < min_p * (the largest prob).
void apply_min_p(double min_p, std::vector<double>& scores, std::vector<double>& probs, std::vector<int32_t>& kept) {
  if (kept.size() <= 1) return;
  const double bar = min_p * softmax_kept(scores, kept, probs);
  for (const int32_t id : kept) {
    if (probs[static_cast<size_t>(id)] < bar) scores[static_cast<size_t>(id)] = -kInf;
  }
  drop_removed(scores, kept);
}

}  // namespace

struct Sampler::Workspace {
  std::vector<double> scores;       // [V] processed logits
  std::vector<double> probs;        // [V] probabilities (or weights) of the kept ids
  std::vector<double> values;       // top-k's selection of the k-th value
  std::vector<int32_t> kept;        // ids still in play, in id order (all with a score above -inf)
  std::vector<RankedToken> ranked;  // top-p's selection
};

Sampler::Sampler(SamplingOptions options)
    : options_(options), generator_(options.seed), workspace_(std::make_unique<Workspace>()) {
  VG_CHECK(std::isfinite(options_.temperature) && options_.temperature >= 0, "sampling",
           "temperature must be a finite number >= 0 (0 means greedy), got ", options_.temperature);
  VG_CHECK(options_.top_k >= 0, "sampling", "top_k must be >= 0 (0 turns it off), got ", options_.top_k);
  VG_CHECK(options_.top_p > 0 && options_.top_p <= 1, "sampling", "top_p must be in (0, 1] (1 turns it off), got ",
           options_.top_p);
  VG_CHECK(options_.min_p >= 0 && options_.min_p < 1, "sampling", "min_p must be in [0, 1) (0 turns it off), got ",
           options_.min_p);
  VG_CHECK(std::isfinite(options_.repetition_penalty) && options_.repetition_penalty > 0, "sampling",
           "repetition_penalty must be a finite number > 0 (1 turns it off), got ", options_.repetition_penalty);
}

Sampler::~Sampler() = default;
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;

void Sampler::process(const Tensor& logits_row, const std::vector<int32_t>& previous, Workspace& ws) const {
  VG_CHECK(logits_row.defined(), "sampling", "the logits row is an undefined tensor");
  VG_CHECK(logits_row.rank() == 1, "sampling", "expects one row of logits [V], got ", logits_row.describe());
  VG_CHECK(is_floating(logits_row.dtype()), "sampling", "expects floating logits, got ", logits_row.describe());
  const int64_t vocab = logits_row.size(0);
  VG_CHECK(vocab > 0 && vocab <= std::numeric_limits<int32_t>::max(), "sampling",
           "the vocabulary size must be in [1, 2^31), got ", logits_row.describe());
  Tensor row = logits_row.device().is_cpu() ? logits_row : logits_row.to(Device::cpu());
  if (row.dtype() != DType::F32 && row.dtype() != DType::F64) row = row.to(DType::F32);
  row = row.contiguous();
  const double penalty = options_.repetition_penalty;
  if (row.dtype() == DType::F64) {
    load_scores(row.data<double>(), vocab, previous, penalty, ws.scores);
  } else {
    load_scores(row.data<float>(), vocab, previous, penalty, ws.scores);
  }
  std::vector<double>& scores = ws.scores;
  const bool greedy = is_greedy();
  if (!greedy && options_.temperature != 1.0) {
    for (double& s : scores) s /= options_.temperature;  // divided, not multiplied, as transformers
  }
  const double top = *std::max_element(scores.begin(), scores.end());
  VG_CHECK(top > -kInf, "sampling", "every one of the ", vocab,
           " logits is -inf (after the repetition penalty and temperature): there is no token to choose");
  ws.kept.clear();
  if (greedy) return;

  double threshold = -kInf;
  if (options_.top_k > 0 && options_.top_k < vocab) threshold = kth_largest(scores, options_.top_k, ws.values);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > -kInf && scores[i] >= threshold) {
      ws.kept.push_back(static_cast<int32_t>(i));
    } else {
      scores[i] = -kInf;
    }
  }
  ws.probs.resize(scores.size());
  if (options_.top_p < 1.0) {
    apply_top_p(options_.top_p, scores, ws.probs, ws.kept, ws.ranked);
  }
  if (options_.min_p > 0.0) apply_min_p(options_.min_p, scores, ws.probs, ws.kept);
}

int32_t Sampler::draw(Workspace& ws) {
  std::vector<int32_t>& kept = ws.kept;
  VG_ASSERT(!kept.empty());
  const auto bits = philox4x32(generator_.seed(), generator_.reserve(1));
  const double u = uint_to_unit_double(bits[0], bits[1]);  // in [0, 1)
  const std::vector<double>& scores = ws.scores;
  double top = -kInf;
  for (const int32_t id : kept) top = std::max(top, scores[static_cast<size_t>(id)]);
  if (top == kInf) {
    // The +inf tokens share all the probability.
    const auto infinite =
        std::count_if(kept.begin(), kept.end(), [&](int32_t id) { return scores[static_cast<size_t>(id)] == kInf; });
    auto pick = std::min<int64_t>(static_cast<int64_t>(u * static_cast<double>(infinite)), infinite - 1);
    for (const int32_t id : kept) {
      if (scores[static_cast<size_t>(id)] == kInf && pick-- == 0) return id;
    }
    VG_ASSERT(false);  // `infinite` counted at least one
    return kept.front();
  }
  // Inverse CDF in id order over unnormalised weights: the first id whose cumulative weight
  // passes u * total. A zero weight never passes, and rounding at the end falls back to the
  // last id with weight.
  std::vector<double>& weights = ws.probs;
  double total = 0;
  for (const int32_t id : kept) {
    const double w = std::exp(scores[static_cast<size_t>(id)] - top);
    weights[static_cast<size_t>(id)] = w;
    total += w;
  }
  const double target = u * total;
  double cumulative = 0;
  int32_t last = kept.front();
  for (const int32_t id : kept) {
    const double w = weights[static_cast<size_t>(id)];
    if (w == 0) continue;
    cumulative += w;
    last = id;
    if (cumulative > target) return id;
  }
  return last;
}

int32_t Sampler::next(const Tensor& logits_row, const std::vector<int32_t>& previous) {
  process(logits_row, previous, *workspace_);
  if (!is_greedy()) return draw(*workspace_);
  const std::vector<double>& scores = workspace_->scores;
  return static_cast<int32_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());  // first maximum
}

Tensor Sampler::processed_logits(const Tensor& logits_row, const std::vector<int32_t>& previous) const {
  Workspace ws;
  process(logits_row, previous, ws);
  Tensor out = Tensor::from_vector(ws.scores, {static_cast<int64_t>(ws.scores.size())});
  return logits_row.dtype() == DType::F64 ? out : out.to(DType::F32);
}

}  // namespace vg
