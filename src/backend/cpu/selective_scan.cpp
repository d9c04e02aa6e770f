#include "backend/cpu/selective_scan.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/loops.h"
#include "backend/cpu/vector_math.h"

namespace vg::cpu {

ScanDims dims_of(const ScanArgs& a) {
  ScanDims s{};
  s.batch = a.u.size(0);
  s.dim = a.u.size(1);
  s.len = a.u.size(2);
  s.nstate = a.A.size(1);
  s.groups = a.B.size(1);
  s.per_group = s.dim / s.groups;
  return s;
}

namespace {

// Tasks the backward aims for when it splits a group's channels into slices (a constant, not
// the thread count, so that results do not depend on the machine).
constexpr int64_t kBackwardTasks = 64;

template <class T>
const T* opt_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Delta' for one (b, d) row: delta + bias, then softplus (linear above 20, as PyTorch). When
// `dsp` is given it receives dDelta'/d(delta + bias) for the backward.
template <class T>
void row_delta(const T* delta, const T* bias, int64_t d, bool softplus, int64_t len, T* dt, double* dsp) {
  const T b = bias ? bias[d] : T(0);
  for (int64_t t = 0; t < len; ++t) {
    const T raw = delta[t] + b;
    const bool linear = !softplus || raw > T(20);
    dt[t] = linear ? raw : std::log1p(std::exp(raw));
    if (dsp) dsp[t] = linear ? 1.0 : sigmoid_of<double>(raw);
  }
}

template <class T>
void forward_impl(const ScanArgs& a, const Tensor& out) {
  const ScanDims s = dims_of(a);
  const int64_t L = s.len, N = s.nstate;
  const T *up = a.u.data<T>(), *dp = a.delta.data<T>(), *Ap = a.A.data<T>();
  const T *Bp = a.B.data<T>(), *Cp = a.C.data<T>();
  const T *Dp = opt_data<T>(a.D_skip), *zp = opt_data<T>(a.z), *bp = opt_data<T>(a.delta_bias);
  T* op = out.data<T>();
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, L * N));
  // One task per (b, d) row; the states are walked one at a time so that B and C rows stream.
  parallel_for(s.batch * s.dim, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> dt(static_cast<size_t>(L)), dtu(static_cast<size_t>(L));
    std::vector<double> yacc(static_cast<size_t>(L));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / s.dim, d = row % s.dim, g = d / s.per_group;
      const T* u = up + row * L;
      row_delta<T>(dp + row * L, bp, d, a.delta_softplus, L, dt.data(), nullptr);
      for (int64_t t = 0; t < L; ++t) dtu[t] = dt[t] * u[t];
      std::fill(yacc.begin(), yacc.end(), 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const T an = Ap[d * N + n];
        const T* Bn = Bp + ((b * s.groups + g) * N + n) * L;
        const T* Cn = Cp + ((b * s.groups + g) * N + n) * L;
        T h = 0;
        for (int64_t t = 0; t < L; ++t) {
          h = std::exp(dt[t] * an) * h + dtu[t] * Bn[t];
          yacc[t] += static_cast<double>(Cn[t]) * h;  // the C.h sum in double
        }
      }
      T* o = op + row * L;
      const T* z = zp ? zp + row * L : nullptr;
      for (int64_t t = 0; t < L; ++t) {
        double y = yacc[t];
        if (Dp) y += static_cast<double>(Dp[d]) * u[t];
        if (z) y *= z[t] * sigmoid_of<double>(z[t]);
        o[t] = static_cast<T>(y);
      }
    }
  });
}

template <class T>
void backward_impl(const ScanArgs& a, const Tensor& gout, const ScanGrads& out) {
  const ScanDims s = dims_of(a);
  const int64_t L = s.len, N = s.nstate, G = s.groups, Dg = s.per_group;
  if (s.batch == 0) {
    // Nothing flows back, but the parameter gradients still exist (as zeros).
    for (const Tensor* t : {&out.dA, &out.dD, &out.ddelta_bias}) {
      if (t->defined()) std::fill_n(t->data<T>(), t->numel(), T(0));
    }
    return;
  }
  const T *up = a.u.data<T>(), *dp = a.delta.data<T>(), *Ap = a.A.data<T>();
  const T *Bp = a.B.data<T>(), *Cp = a.C.data<T>();
  const T *Dp = opt_data<T>(a.D_skip), *zp = opt_data<T>(a.z), *bp = opt_data<T>(a.delta_bias);
  const T* gp = gout.data<T>();
  T* du = out.du.defined() ? out.du.data<T>() : nullptr;
  T* ddelta = out.ddelta.defined() ? out.ddelta.data<T>() : nullptr;
  T* dz = out.dz.defined() ? out.dz.data<T>() : nullptr;
  const bool want_dB = out.dB.defined(), want_dC = out.dC.defined();

  // dB/dC sum over the channels of a group, and dA/dD/ddelta_bias over the batch. Each task owns
  // one slice of one group's channels for one batch element and writes only its own partials;
  // fixed-order reductions afterwards keep the result deterministic.
  const int64_t slices = Dg <= 1 ? 1 : std::min(Dg, (kBackwardTasks + s.batch * G - 1) / (s.batch * G));
  const size_t group_elems = static_cast<size_t>(N * L);
  std::vector<double> dB_part(want_dB ? static_cast<size_t>(s.batch * G * slices) * group_elems : 0, 0.0);
  std::vector<double> dC_part(want_dC ? static_cast<size_t>(s.batch * G * slices) * group_elems : 0, 0.0);
  std::vector<double> dA_part(static_cast<size_t>(s.batch * s.dim * N), 0.0);  // [Bt, D, N]
  std::vector<double> dD_part(static_cast<size_t>(s.batch * s.dim), 0.0);      // [Bt, D]
  std::vector<double> dbias_part(static_cast<size_t>(s.batch * s.dim), 0.0);   // [Bt, D]

  parallel_for(s.batch * G * slices, 1, [&](int64_t begin, int64_t end) {
    // Per-row scratch of length L; h and Abar hold one state's recomputed sequence.
    std::vector<T> dt(static_cast<size_t>(L)), h(static_cast<size_t>(L)), abar(static_cast<size_t>(L));
    std::vector<double> dsp(static_cast<size_t>(L)), ghat(static_cast<size_t>(L)), yacc(static_cast<size_t>(L));
    std::vector<double> du_acc(static_cast<size_t>(L)), ddt_acc(static_cast<size_t>(L));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / (G * slices), g = (task / slices) % G, k = task % slices;
      double* dBk = want_dB ? dB_part.data() + task * group_elems : nullptr;
      double* dCk = want_dC ? dC_part.data() + task * group_elems : nullptr;
      const int64_t d_begin = g * Dg + k * Dg / slices, d_end = g * Dg + (k + 1) * Dg / slices;
      for (int64_t d = d_begin; d < d_end; ++d) {
        const int64_t row = b * s.dim + d;
        const T *u = up + row * L, *go = gp + row * L, *z = zp ? zp + row * L : nullptr;
        row_delta<T>(dp + row * L, bp, d, a.delta_softplus, L, dt.data(), dsp.data());
        double dD_sum = 0.0;
        for (int64_t t = 0; t < L; ++t) {
          // ghat = dL/dy: the gate silu(z) folded into the upstream gradient.
          ghat[t] = z ? go[t] * (z[t] * sigmoid_of<double>(z[t])) : static_cast<double>(go[t]);
          dD_sum += ghat[t] * u[t];
        }
        std::fill(yacc.begin(), yacc.end(), 0.0);
        std::fill(du_acc.begin(), du_acc.end(), 0.0);
        std::fill(ddt_acc.begin(), ddt_acc.end(), 0.0);
        for (int64_t n = 0; n < N; ++n) {
          const T an = Ap[d * N + n];
          const T* Bn = Bp + ((b * G + g) * N + n) * L;
          const T* Cn = Cp + ((b * G + g) * N + n) * L;
          // Recompute h_t and Abar_t exactly as the forward did.
          T hv = 0;
          for (int64_t t = 0; t < L; ++t) {
            abar[t] = std::exp(dt[t] * an);
            hv = abar[t] * hv + (dt[t] * u[t]) * Bn[t];
            h[t] = hv;
            if (z) yacc[t] += static_cast<double>(Cn[t]) * hv;
          }
          // Reverse adjoint scan: lam_t = ghat_t C_t + Abar_{t+1} lam_{t+1}.
          T lam = 0;
          double dA_sum = 0.0;
          double* dBn = dBk ? dBk + n * L : nullptr;
          double* dCn = dCk ? dCk + n * L : nullptr;
          for (int64_t t = L - 1; t >= 0; --t) {
            lam = static_cast<T>(ghat[t] * Cn[t]) + (t + 1 < L ? abar[t + 1] * lam : T(0));
            const double lam_d = lam, hprev = t > 0 ? static_cast<double>(h[t - 1]) : 0.0;
            const double ah = static_cast<double>(abar[t]) * hprev;  // Abar_t h_{t-1}
            if (dCn) dCn[t] += ghat[t] * h[t];
            if (dBn) dBn[t] += lam_d * dt[t] * u[t];
            du_acc[t] += lam_d * dt[t] * Bn[t];
            ddt_acc[t] += lam_d * (static_cast<double>(Bn[t]) * u[t] + an * ah);
            dA_sum += lam_d * dt[t] * ah;
          }
          dA_part[static_cast<size_t>(row * N + n)] = dA_sum;
        }
        double dbias_sum = 0.0;
        for (int64_t t = 0; t < L; ++t) {
          const double dD = Dp ? static_cast<double>(Dp[d]) : 0.0;
          if (du) du[row * L + t] = static_cast<T>(dD * ghat[t] + du_acc[t]);
          const double ddt = ddt_acc[t] * dsp[t];  // through softplus (1 on the linear branch)
          if (ddelta) ddelta[row * L + t] = static_cast<T>(ddt);
          dbias_sum += ddt;
          if (dz) {
            const double y = yacc[t] + dD * u[t], sz = sigmoid_of<double>(z[t]);
            dz[row * L + t] = static_cast<T>(go[t] * y * sz * (1.0 + z[t] * (1.0 - sz)));
          }
        }
        dD_part[static_cast<size_t>(row)] = dD_sum;
        dbias_part[static_cast<size_t>(row)] = dbias_sum;
      }
    }
  });

  // dB/dC [Bt, G, N, L]: sum the slices of each (b, g).
  auto slice_sum = [&](const std::vector<double>& part, const Tensor& dst) {
    if (!dst.defined()) return;
    T* o = dst.data<T>();
    const double* p = part.data();
    parallel_for(s.batch * G * N * L, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t bg = i / (N * L), e = i % (N * L);
        double acc = 0.0;
        for (int64_t k = 0; k < slices; ++k) acc += p[(bg * slices + k) * (N * L) + e];
        o[i] = static_cast<T>(acc);
      }
    });
  };
  slice_sum(dB_part, out.dB);
  slice_sum(dC_part, out.dC);
  // dA [D, N], dD and ddelta_bias [D]: sum over the batch.
  auto batch_sum = [&](const std::vector<double>& part, const Tensor& dst, int64_t per_batch) {
    if (!dst.defined()) return;
    T* o = dst.data<T>();
    for (int64_t i = 0; i < per_batch; ++i) {
      double acc = 0.0;
      for (int64_t b = 0; b < s.batch; ++b) acc += part[static_cast<size_t>(b * per_batch + i)];
      o[i] = static_cast<T>(acc);
    }
  };
  batch_sum(dA_part, out.dA, s.dim * N);
  batch_sum(dD_part, out.dD, s.dim);
  batch_sum(dbias_part, out.ddelta_bias, s.dim);
}

}  // namespace

void selective_scan(const ScanArgs& a, const Tensor& out) {
  dispatch_float(a.u.dtype(), "selective_scan", [&](auto tag) { forward_impl<decltype(tag)>(a, out); });
}

void selective_scan_backward(const ScanArgs& a, const Tensor& g, const ScanGrads& grads) {
  dispatch_float(a.u.dtype(), "selective_scan_backward", [&](auto tag) { backward_impl<decltype(tag)>(a, g, grads); });
}

}  // namespace vg::cpu
