#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/vector_math.h"

namespace vg::cpu {
namespace {

// Tile sizes: forward query tiles meet key blocks of kFwdKeys (online softmax); the backward uses
// square 64 x 64 tiles so that its key-block tasks are small enough to spread over threads.
constexpr int64_t kFwdRows = 32;
constexpr int64_t kFwdKeys = 256;
constexpr int64_t kBwdRows = 64;
constexpr int64_t kBwdKeys = 64;

// A rank-4 operand whose rows (b, h, i) have unit element stride: row pointer plus BLAS leading dim.
template <class T>
struct Mat {
  T* p = nullptr;
  int64_t s0 = 0, s1 = 0, s2 = 0, ld = 1;
  T* row(int64_t b, int64_t h, int64_t i) const { return p + b * s0 + h * s1 + i * s2; }
};

template <class T>
Mat<T> mat(const Tensor& t) {
  VG_ASSERT(t.rank() == 4);
  VG_ASSERT(t.size(3) <= 1 || t.stride(3) == 1);
  VG_ASSERT(t.size(2) <= 1 || t.stride(2) >= t.size(3));
  Mat<T> m;
  m.p = t.data<T>();
  m.s0 = t.stride(0);
  m.s1 = t.stride(1);
  m.s2 = t.stride(2);
  m.ld = t.size(2) <= 1 ? std::max<int64_t>(1, t.size(3)) : std::max<int64_t>(1, t.stride(2));
  return m;
}

// The optional user mask, read through broadcast strides over [B, Hq, Lq, Lk].
template <class T>
struct UserMask {
  const uint8_t* keep = nullptr;  // bool/u8: nonzero = may attend
  const T* add = nullptr;         // additive, added to the scaled scores
  Strides s;
  int64_t at(int64_t b, int64_t h, int64_t i, int64_t j) const { return b * s[0] + h * s[1] + i * s[2] + j * s[3]; }
};

template <class T>
UserMask<T> user_mask(const Tensor* mask, const Shape& full) {
  UserMask<T> m;
  if (mask == nullptr) return m;
  m.s = broadcast_strides(*mask, full);
  if (mask->dtype() == DType::Bool || mask->dtype() == DType::U8) {
    m.keep = static_cast<const uint8_t*>(mask->data_ptr());
  } else {
    m.add = mask->data<T>();
  }
  return m;
}

struct Geometry {
  int64_t B = 0, Hq = 0, Hkv = 0, Lq = 0, Lk = 0, D = 0, Dv = 0, rep = 1;
  bool causal = false;
  int64_t window = 0, off = 0;
  double scale = 1.0;

  // Keys [lo, hi) that query rows at positions [p_first, p_last] may see (causal / window only).
  std::pair<int64_t, int64_t> key_range(int64_t p_first, int64_t p_last) const {
    int64_t lo = window > 0 ? std::max<int64_t>(0, p_first - window + 1) : 0;
    int64_t hi = causal ? std::min<int64_t>(Lk, std::max<int64_t>(0, p_last + 1)) : Lk;
    return {std::min(lo, hi), hi};
  }
  // Query rows [lo, hi) that may see some key in [j_first, j_last].
  std::pair<int64_t, int64_t> query_range(int64_t j_first, int64_t j_last) const {
    int64_t lo = causal ? std::clamp<int64_t>(j_first - off, 0, Lq) : 0;
    int64_t hi = window > 0 ? std::clamp<int64_t>(j_last + window - off, 0, Lq) : Lq;
    return {std::min(lo, hi), hi};
  }
};

Geometry geometry(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p) {
  Geometry g;
  g.B = q.size(0);
  g.Hq = q.size(1);
  g.Lq = q.size(2);
  g.D = q.size(3);
  g.Hkv = k.size(1);
  g.Lk = k.size(2);
  g.Dv = v.size(3);
  g.rep = g.Hq / std::max<int64_t>(1, g.Hkv);
  g.causal = p.causal;
  g.window = p.window;
  g.off = p.query_offset;
  g.scale = p.scale;
  return g;
}

// S [rows, nk] holds scaled scores of query rows i0.. against keys j0..; masked entries become -inf
// and the additive mask is added, so that every visibility rule lives in this one place.
template <class T>
void apply_masks(T* s, int64_t rows, int64_t nk, int64_t b, int64_t h, int64_t i0, int64_t j0, const Geometry& g,
                 const UserMask<T>& um) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    T* sr = s + r * nk;
    const int64_t p = g.off + i0 + r;
    // Structural limits: window keeps j > p - window, causal keeps j <= p.
    const int64_t c_lo = g.window > 0 ? std::clamp<int64_t>(p - g.window + 1 - j0, 0, nk) : 0;
    const int64_t c_hi = std::max(c_lo, g.causal ? std::clamp<int64_t>(p + 1 - j0, 0, nk) : nk);
    std::fill(sr, sr + c_lo, kNegInf);
    std::fill(sr + c_hi, sr + nk, kNegInf);
    if (um.keep) {
      const uint8_t* m = um.keep + um.at(b, h, i0 + r, j0);
      for (int64_t c = c_lo; c < c_hi; ++c) {
        if (m[c * um.s[3]] == 0) sr[c] = kNegInf;
      }
    } else if (um.add) {
      const T* m = um.add + um.at(b, h, i0 + r, j0);
      for (int64_t c = c_lo; c < c_hi; ++c) sr[c] += m[c * um.s[3]];
    }
  }
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                       const AttentionParams& params, const Tensor& out, const Tensor& lse) {
  dispatch_float(q.dtype(), "scaled_dot_product_attention", [&](auto tag) {
    using T = decltype(tag);
    constexpr T kNegInf = -std::numeric_limits<T>::infinity();
    const Geometry g = geometry(q, k, v, params);
    const Mat<T> Q = mat<T>(q), K = mat<T>(k), V = mat<T>(v), O = mat<T>(out);
    const UserMask<T> um = user_mask<T>(mask, Shape{g.B, g.Hq, g.Lq, g.Lk});
    T* lse_p = lse.data<T>();
    const T scale = static_cast<T>(g.scale);
    const int64_t tiles = (g.Lq + kFwdRows - 1) / kFwdRows;

    // One task per (batch, query head, query tile of kFwdRows rows).
    parallel_for(g.B * g.Hq * tiles, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> s(static_cast<size_t>(kFwdRows * kFwdKeys));  // scores, then probabilities
      std::vector<T> acc(static_cast<size_t>(kFwdRows * g.Dv));    // unnormalised output rows
      std::vector<T> m(kFwdRows);                                  // running row max
      std::vector<double> l(kFwdRows);                             // running row sum of exp
      for (int64_t u = begin; u < end; ++u) {
        const int64_t tile = u % tiles, h = (u / tiles) % g.Hq, b = u / (tiles * g.Hq), kvh = h / g.rep;
        const int64_t i0 = tile * kFwdRows, rows = std::min(kFwdRows, g.Lq - i0);
        std::fill(m.begin(), m.end(), kNegInf);
        std::fill(l.begin(), l.end(), 0.0);
        std::fill(acc.begin(), acc.end(), T(0));
        // Keys outside [klo, khi) are hidden from every row of the tile by causality or the window.
        const auto [klo, khi] = g.key_range(g.off + i0, g.off + i0 + rows - 1);
        for (int64_t j0 = klo; j0 < khi; j0 += kFwdKeys) {
          const int64_t nk = std::min(kFwdKeys, khi - j0);
          // S[rows, nk] = scale * Q_tile[rows, D] @ K_blk[nk, D]^T
          gemm<T>(false, true, rows, nk, g.D, scale, Q.row(b, h, i0), Q.ld, K.row(b, kvh, j0), K.ld, T(0), s.data(),
                  nk);
          apply_masks(s.data(), rows, nk, b, h, i0, j0, g, um);
          for (int64_t r = 0; r < rows; ++r) {
            T* sr = s.data() + r * nk;
            T mx = kNegInf;
            for (int64_t c = 0; c < nk; ++c) mx = std::max(mx, sr[c]);
            if (mx == kNegInf) {  // nothing visible in this block
              std::fill(sr, sr + nk, T(0));
              continue;
            }
            const size_t rr = static_cast<size_t>(r);
            if (mx > m[rr]) {
              if (m[rr] != kNegInf) {  // rescale what was accumulated under the old max
                const T alpha = std::exp(m[rr] - mx);
                l[rr] *= alpha;
                T* ar = acc.data() + r * g.Dv;
                for (int64_t c = 0; c < g.Dv; ++c) ar[c] *= alpha;
              }
              m[rr] = mx;
            }
            double sum = 0.0;
            for (int64_t c = 0; c < nk; ++c) {
              const T e = sr[c] == kNegInf ? T(0) : exp_of(sr[c] - m[rr]);
              sr[c] = e;
              sum += e;
            }
            l[rr] += sum;
          }
          // acc[rows, Dv] += P[rows, nk] @ V_blk[nk, Dv]
          gemm<T>(false, false, rows, g.Dv, nk, T(1), s.data(), nk, V.row(b, kvh, j0), V.ld, T(1), acc.data(), g.Dv);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const size_t rr = static_cast<size_t>(r);
          T* orow = O.row(b, h, i0 + r);
          T* lrow = lse_p + (b * g.Hq + h) * g.Lq + i0 + r;
          if (l[rr] > 0.0) {
            const double inv = 1.0 / l[rr];
            const T* ar = acc.data() + r * g.Dv;
            for (int64_t c = 0; c < g.Dv; ++c) orow[c] = static_cast<T>(ar[c] * inv);
            *lrow = static_cast<T>(static_cast<double>(m[rr]) + std::log(l[rr]));
          } else {  // a row that sees no key outputs zeros
            std::fill(orow, orow + g.Dv, T(0));
            *lrow = kNegInf;
          }
        }
      }
    });
  });
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                        const AttentionParams& params, const Tensor& out, const Tensor& lse, const Tensor& dout,
                        const Tensor* dq, const Tensor* dk, const Tensor* dv) {
  dispatch_float(q.dtype(), "scaled_dot_product_attention_backward", [&](auto tag) {
    using T = decltype(tag);
    constexpr T kNegInf = -std::numeric_limits<T>::infinity();
    const Geometry g = geometry(q, k, v, params);
    const Mat<T> Q = mat<T>(q), K = mat<T>(k), V = mat<T>(v), O = mat<T>(out), dO = mat<T>(dout);
    const Mat<T> dQ = dq ? mat<T>(*dq) : Mat<T>{}, dK = dk ? mat<T>(*dk) : Mat<T>{}, dV = dv ? mat<T>(*dv) : Mat<T>{};
    const UserMask<T> um = user_mask<T>(mask, Shape{g.B, g.Hq, g.Lq, g.Lk});
    const T* lse_p = lse.data<T>();
    const T scale = static_cast<T>(g.scale);

    // Zero the outputs (they accumulate over tiles), row by row since they may be strided views.
    auto zero_rows = [](const Mat<T>& m, int64_t heads, int64_t len, int64_t cols, int64_t batch) {
      parallel_for(batch * heads, 1, [&](int64_t begin, int64_t end) {
        for (int64_t bh = begin; bh < end; ++bh) {
          for (int64_t i = 0; i < len; ++i) std::fill_n(m.row(bh / heads, bh % heads, i), cols, T(0));
        }
      });
    };
    if (dq) zero_rows(dQ, g.Hq, g.Lq, g.D, g.B);
    if (dk) zero_rows(dK, g.Hkv, g.Lk, g.D, g.B);
    if (dv) zero_rows(dV, g.Hkv, g.Lk, g.Dv, g.B);

    // delta[b, h, i] = rowsum(dO * O): the softmax backward's per-row term.
    std::vector<T> delta(static_cast<size_t>(g.B * g.Hq * g.Lq));
    parallel_for(g.B * g.Hq * g.Lq, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.Dv)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) {
                     const int64_t i = r % g.Lq, h = (r / g.Lq) % g.Hq, b = r / (g.Lq * g.Hq);
                     const T* o = O.row(b, h, i);
                     const T* d = dO.row(b, h, i);
                     double sum = 0.0;
                     for (int64_t c = 0; c < g.Dv; ++c) sum += static_cast<double>(o[c]) * d[c];
                     delta[static_cast<size_t>(r)] = static_cast<T>(sum);
                   }
                 });

    // P[rows, nk] = exp(scale * Q_tile K_blk^T (masked) - lse); false when the tile is all zero.
    auto probabilities = [&](T* p, int64_t b, int64_t h, int64_t i0, int64_t rows, int64_t j0, int64_t nk) {
      const int64_t kvh = h / g.rep;
      gemm<T>(false, true, rows, nk, g.D, scale, Q.row(b, h, i0), Q.ld, K.row(b, kvh, j0), K.ld, T(0), p, nk);
      apply_masks(p, rows, nk, b, h, i0, j0, g, um);
      bool any = false;
      for (int64_t r = 0; r < rows; ++r) {
        const T lse_r = lse_p[(b * g.Hq + h) * g.Lq + i0 + r];
        T* pr = p + r * nk;
        for (int64_t c = 0; c < nk; ++c) {
          pr[c] = (pr[c] == kNegInf || lse_r == kNegInf) ? T(0) : exp_of(pr[c] - lse_r);
          any = any | (pr[c] != T(0));  // not ||: a branch would stop the loop vectorising
        }
      }
      return any;
    };
    // dS = P * (dP - delta), in place over dP [rows, nk].
    auto score_grad = [&](const T* p, T* dp, int64_t b, int64_t h, int64_t i0, int64_t rows, int64_t nk) {
      for (int64_t r = 0; r < rows; ++r) {
        const T dr = delta[static_cast<size_t>((b * g.Hq + h) * g.Lq + i0 + r)];
        for (int64_t c = 0; c < nk; ++c) dp[r * nk + c] = p[r * nk + c] * (dp[r * nk + c] - dr);
      }
    };

    const bool need_kv = dk != nullptr || dv != nullptr;
    // With enough (batch, kv head) pairs to fill the threads, one pass per pair computes dK, dV and
    // the dQ of the group's query heads without races; otherwise dK/dV run per key block and dQ per
    // query tile, which recomputes P once more but keeps every thread busy.
    const bool fused = need_kv && dq != nullptr && g.B * g.Hkv >= num_threads();

    // Gradients of kv head (b, kvh) rows [j0, j0+nk), from every query row of its group that sees them.
    auto kv_block = [&](T* p, T* dp, int64_t b, int64_t kvh, int64_t j0, int64_t nk, bool with_dq) {
      const auto [qlo, qhi] = g.query_range(j0, j0 + nk - 1);
      for (int64_t h = kvh * g.rep; h < (kvh + 1) * g.rep; ++h) {
        for (int64_t i0 = qlo; i0 < qhi; i0 += kBwdRows) {
          const int64_t rows = std::min(kBwdRows, qhi - i0);
          if (!probabilities(p, b, h, i0, rows, j0, nk)) continue;
          // dV_blk[nk, Dv] += P^T[nk, rows] @ dO_tile[rows, Dv]
          if (dv) {
            gemm<T>(true, false, nk, g.Dv, rows, T(1), p, nk, dO.row(b, h, i0), dO.ld, T(1), dV.row(b, kvh, j0), dV.ld);
          }
          if (!dk && !with_dq) continue;
          // dP[rows, nk] = dO_tile[rows, Dv] @ V_blk[nk, Dv]^T, then dS = P * (dP - delta)
          gemm<T>(false, true, rows, nk, g.Dv, T(1), dO.row(b, h, i0), dO.ld, V.row(b, kvh, j0), V.ld, T(0), dp, nk);
          score_grad(p, dp, b, h, i0, rows, nk);
          // dK_blk[nk, D] += scale * dS^T[nk, rows] @ Q_tile[rows, D]
          if (dk) {
            gemm<T>(true, false, nk, g.D, rows, scale, dp, nk, Q.row(b, h, i0), Q.ld, T(1), dK.row(b, kvh, j0), dK.ld);
          }
          // dQ_tile[rows, D] += scale * dS[rows, nk] @ K_blk[nk, D]
          if (with_dq) {
            gemm<T>(false, false, rows, g.D, nk, scale, dp, nk, K.row(b, kvh, j0), K.ld, T(1), dQ.row(b, h, i0), dQ.ld);
          }
        }
      }
    };

    const size_t buf = static_cast<size_t>(kBwdRows * kBwdKeys);
    const int64_t kblocks = (g.Lk + kBwdKeys - 1) / kBwdKeys;
    if (fused) {
      parallel_for(g.B * g.Hkv, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> p(buf), dp(buf);
        for (int64_t u = begin; u < end; ++u) {
          for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t j0 = kb * kBwdKeys;
            kv_block(p.data(), dp.data(), u / g.Hkv, u % g.Hkv, j0, std::min(kBwdKeys, g.Lk - j0), true);
          }
        }
      });
      return;
    }
    if (need_kv) {
      parallel_for(g.B * g.Hkv * kblocks, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> p(buf), dp(buf);
        for (int64_t u = begin; u < end; ++u) {
          const int64_t kb = u % kblocks, kvh = (u / kblocks) % g.Hkv, b = u / (kblocks * g.Hkv);
          const int64_t j0 = kb * kBwdKeys;
          kv_block(p.data(), dp.data(), b, kvh, j0, std::min(kBwdKeys, g.Lk - j0), false);
        }
      });
    }
    if (dq) {
      // dQ per (batch, query head, query tile): its rows are written by this task only.
      const int64_t tiles = (g.Lq + kBwdRows - 1) / kBwdRows;
      parallel_for(g.B * g.Hq * tiles, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> p(buf), dp(buf);
        for (int64_t u = begin; u < end; ++u) {
          const int64_t tile = u % tiles, h = (u / tiles) % g.Hq, b = u / (tiles * g.Hq), kvh = h / g.rep;
          const int64_t i0 = tile * kBwdRows, rows = std::min(kBwdRows, g.Lq - i0);
          const auto [klo, khi] = g.key_range(g.off + i0, g.off + i0 + rows - 1);
          for (int64_t j0 = klo; j0 < khi; j0 += kBwdKeys) {
            const int64_t nk = std::min(kBwdKeys, khi - j0);
            if (!probabilities(p.data(), b, h, i0, rows, j0, nk)) continue;
            gemm<T>(false, true, rows, nk, g.Dv, T(1), dO.row(b, h, i0), dO.ld, V.row(b, kvh, j0), V.ld, T(0),
                    dp.data(), nk);
            score_grad(p.data(), dp.data(), b, h, i0, rows, nk);
            gemm<T>(false, false, rows, g.D, nk, scale, dp.data(), nk, K.row(b, kvh, j0), K.ld, T(1), dQ.row(b, h, i0),
                    dQ.ld);
          }
        }
      });
    }
  });
}

}  // namespace vg::cpu
