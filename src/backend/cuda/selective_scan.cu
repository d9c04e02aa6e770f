// CUDA selective scan with the CPU's contract (src/backend/cpu/selective_scan.h; the recurrence
// and its gradients are specs/vision-encoders.md C.2 and C.3), forward and backward, f32 math.
//
// Layout: one warp per (b, d) row; lane l holds states l, l + 32, ... (N <= 256, as mamba_ssm's
// MAX_DSTATE), so y_t = <C_t, h_t> is a warp sum. The sequence is walked step by step; the
// per-step values every state needs (delta', delta' u, ...) are computed once per step, by the
// lane whose index is the step's place in its chunk, and broadcast with shuffles.
//
// The backward recomputes the states, as the CPU does, but in chunks: a forward pass saves h at
// the start of every chunk of kChunk steps (f32, [Bt*D, chunks, N]); the reverse pass takes the
// chunks last to first, recomputes the chunk's h from its checkpoint into registers and runs the
// adjoint lam_t = ghat_t C_t + Abar_{t+1} lam_{t+1} back through it.
//
// Determinism: nothing is summed with atomics. dB and dC sum over the channels of a group: the 8
// warps of a block are 8 channels of one group, which add their terms in shared memory in warp
// order into f32 partials per (b, group, tile of 8 channels); a second kernel sums the tiles in
// order. dA, dD and ddelta_bias sum over the batch through per-(b, d) partials, likewise.
#include <algorithm>
#include <cmath>

#include "backend/cuda/common.cuh"
#include "backend/cuda/partial_sums.cuh"
#include "backend/cuda/scan_kernels.h"

namespace vg::cuda {
namespace {

constexpr const char* kOp = "selective_scan";
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpsPerBlock = 8;  // rows (forward) or channels of one group (backward) per block
constexpr int kThreadsPerBlock = 32 * kWarpsPerBlock;
constexpr int kMaxSlots = 8;      // states per lane: N <= 32 * kMaxSlots = 256
constexpr int kChunk = 16;        // backward: steps recomputed per checkpoint, held in registers
constexpr int kForwardTile = 32;  // forward: steps prepared at once, one per lane

// The CPU's extents (cpu::dims_of) plus what the kernels choose their loops by.
struct ScanShape : cpu::ScanDims {
  int slots = 0;  // ceil(nstate / 32)
  bool softplus = false;
};

ScanShape shape_of(const cpu::ScanArgs& a) {
  ScanShape s;
  static_cast<cpu::ScanDims&>(s) = cpu::dims_of(a);
  s.slots = static_cast<int>((s.nstate + 31) / 32);
  s.softplus = a.delta_softplus;
  VG_CHECK(s.nstate <= 32 * kMaxSlots, kOp, "A ", a.A.describe(), " has ", s.nstate, " states; cuda supports up to ",
           32 * kMaxSlots);
  return s;
}

// u, delta, z: [Bt, D, L]; A: [D, N]; B, C: [Bt, G, N, L]; D_skip, delta_bias: [D] or null.
template <class T>
struct ScanInputs {
  const T *u, *delta, *A, *B, *C, *D_skip, *z, *delta_bias;
};

template <class T>
ScanInputs<T> inputs_of(const cpu::ScanArgs& a) {
  VG_ASSERT(a.u.is_contiguous() && a.delta.is_contiguous() && a.A.is_contiguous() && a.B.is_contiguous() &&
            a.C.is_contiguous());
  return {optional_ptr<const T>(&a.u), optional_ptr<const T>(&a.delta),     optional_ptr<const T>(&a.A),
          optional_ptr<const T>(&a.B), optional_ptr<const T>(&a.C),         optional_ptr<const T>(&a.D_skip),
          optional_ptr<const T>(&a.z), optional_ptr<const T>(&a.delta_bias)};
}

__device__ __forceinline__ float sigmoid_f32(float v) { return 1.0f / (1.0f + expf(-v)); }

// delta' = softplus(delta + bias) (linear above 20, as PyTorch) or delta + bias, and its slope
// d delta' / d(delta + bias) for the backward.
struct DeltaPrime {
  float value, slope;
};

__device__ __forceinline__ DeltaPrime delta_prime(float raw, bool softplus) {
  if (!softplus || raw > 20.0f) return {raw, 1.0f};
  return {log1pf(expf(raw)), sigmoid_f32(raw)};
}

// h_t = Abar_t h_{t-1} + (delta'_t u_t) B_t: one form for every pass, so that the backward's
// recomputed states are the ones its checkpoints continue.
__device__ __forceinline__ float scan_step(float h, float abar, float dtu, float b) { return fmaf(abar, h, dtu * b); }

__device__ __forceinline__ float from_lane(float v, int lane) { return __shfl_sync(kFullMask, v, lane); }

// ---- forward ----

// u, delta, z, out: [Bt, D, L]; A: [D, N]; B, C: [Bt, G, N, L]. One warp per row b * D + d,
// kWarpsPerBlock rows per block. The sequence goes by tiles of 32 steps: lane i prepares step i
// of the tile and keeps its y, so the tile's loads and stores are coalesced.
template <class T>
__global__ void __launch_bounds__(kThreadsPerBlock) scan_forward_kernel(ScanInputs<T> in, ScanShape s, T* out) {
  const int lane = threadIdx.x % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (row >= s.batch * s.dim) return;  // the whole warp leaves together
  const int64_t N = s.nstate, L = s.len;
  const int64_t b = row / s.dim, d = row % s.dim, g = d / s.per_group;
  const T* B = in.B + (b * s.groups + g) * N * L;
  const T* C = in.C + (b * s.groups + g) * N * L;
  const float bias = in.delta_bias != nullptr ? load(in.delta_bias + d) : 0.0f;
  const float skip = in.D_skip != nullptr ? load(in.D_skip + d) : 0.0f;
  float a[kMaxSlots], h[kMaxSlots];
#pragma unroll
  for (int k = 0; k < kMaxSlots; ++k) {
    const int64_t n = k * 32 + lane;
    a[k] = n < N ? load(in.A + d * N + n) : 0.0f;
    h[k] = 0.0f;
  }
  for (int64_t t0 = 0; t0 < L; t0 += kForwardTile) {
    const int len = static_cast<int>(L - t0 < kForwardTile ? L - t0 : kForwardTile);
    const int64_t at = row * L + t0 + lane;  // this lane's step
    float u = 0.0f, dt = 0.0f;
    if (lane < len) {
      u = load(in.u + at);
      dt = delta_prime(load(in.delta + at) + bias, s.softplus).value;
    }
    const float dtu = dt * u;
    float y_mine = 0.0f;
    for (int i = 0; i < len; ++i) {
      const float dt_i = from_lane(dt, i), dtu_i = from_lane(dtu, i);
      const int64_t t = t0 + i;
      float ch = 0.0f;  // this lane's part of <C_t, h_t>
#pragma unroll
      for (int k = 0; k < kMaxSlots; ++k) {
        const int64_t n = k * 32 + lane;
        if (n < N) {
          h[k] = scan_step(h[k], expf(dt_i * a[k]), dtu_i, load(B + n * L + t));
          ch += load(C + n * L + t) * h[k];
        }
      }
      const float y = warp_sum(ch);
      if (lane == i) y_mine = y;
    }
    if (lane < len) {
      float y = y_mine + skip * u;
      if (in.z != nullptr) {
        const float z = load(in.z + at);
        y *= z * sigmoid_f32(z);
      }
      store(out + at, y);
    }
  }
}

// ---- backward ----

// Outputs of the backward kernel; any may be null to skip it. Partials are f32:
// dB_part, dC_part [Bt, G, tiles, N, L]; dA_part [Bt, D, N]; dD_part, dbias_part [Bt, D].
template <class T>
struct ScanGradOutputs {
  T *du, *ddelta, *dz;
  float *dB_part, *dC_part, *dA_part, *dD_part, *dbias_part;
};

// What every state needs of one step t of a row, held by one lane and broadcast.
struct Step {
  float u = 0.0f, dt = 0.0f, dsp = 0.0f, dtu = 0.0f;   // delta', its slope, delta' u
  float g = 0.0f, z = 0.0f, gate = 0.0f, ghat = 0.0f;  // upstream g; silu(z) = z sigmoid(z); ghat = dL/dy
};

template <class T>
__device__ Step load_step(const ScanInputs<T>& in, const T* gout, int64_t at, float bias, bool softplus) {
  Step st;
  st.u = load(in.u + at);
  const DeltaPrime dp = delta_prime(load(in.delta + at) + bias, softplus);
  st.dt = dp.value;
  st.dsp = dp.slope;
  st.dtu = st.dt * st.u;
  st.g = load(gout + at);
  if (in.z != nullptr) {
    st.z = load(in.z + at);
    st.gate = sigmoid_f32(st.z);
    st.ghat = st.g * (st.z * st.gate);
  } else {
    st.ghat = st.g;
  }
  return st;
}

// u, delta, z, gout, du, ddelta, dz: [Bt, D, L]; A: [D, N]; B, C: [Bt, G, N, L];
// checkpoints: [Bt * D, chunks, N] f32 scratch.
// Grid (tiles, G, Bt) with tiles = ceil(D/G / 8): warp w of block (tile, g, b) owns channel
// d = g * D/G + tile * 8 + w; a warp past its group's last channel computes zeros and writes
// nothing, but keeps the block's barriers.
template <class T>
__global__ void __launch_bounds__(kThreadsPerBlock)
    scan_backward_kernel(ScanInputs<T> in, const T* gout, ScanShape s, ScanGradOutputs<T> o, float* checkpoints) {
  // dB and dC terms of one chunk and state slot: [warp][state lane][step], padded against bank conflicts.
  __shared__ float dB_terms[kWarpsPerBlock][32][kChunk + 1];
  __shared__ float dC_terms[kWarpsPerBlock][32][kChunk + 1];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t tile = blockIdx.x, g = blockIdx.y, b = blockIdx.z;
  const int64_t N = s.nstate, L = s.len, chunks = (L + kChunk - 1) / kChunk;
  const int64_t tiles = gridDim.x;
  const int64_t channel_in_group = tile * kWarpsPerBlock + warp;
  const bool active = channel_in_group < s.per_group;
  const int64_t d = g * s.per_group + (active ? channel_in_group : 0);
  const int64_t row = b * s.dim + d;
  const T* B = in.B + (b * s.groups + g) * N * L;
  const T* C = in.C + (b * s.groups + g) * N * L;
  const float bias = in.delta_bias != nullptr ? load(in.delta_bias + d) : 0.0f;
  const float skip = in.D_skip != nullptr ? load(in.D_skip + d) : 0.0f;
  float* ckpt = checkpoints + row * chunks * N;  // [chunks, N] of this row

  // Pass 1, forward: save h at the start of every chunk; with dz wanted, y_t gives dz_t. dD's
  // sum of ghat u goes along.
  if (active) {
    float a[kMaxSlots], h[kMaxSlots];
#pragma unroll
    for (int k = 0; k < kMaxSlots; ++k) {
      const int64_t n = k * 32 + lane;
      a[k] = n < N ? load(in.A + d * N + n) : 0.0f;
      h[k] = 0.0f;
    }
    const bool want_y = o.dz != nullptr;
    float dD_lane = 0.0f;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t t0 = c * kChunk;
      const int len = static_cast<int>(L - t0 < kChunk ? L - t0 : kChunk);
      const Step st = lane < len ? load_step(in, gout, row * L + t0 + lane, bias, s.softplus) : Step{};
      dD_lane += st.ghat * st.u;
#pragma unroll
      for (int k = 0; k < kMaxSlots; ++k) {
        const int64_t n = k * 32 + lane;
        if (n < N) ckpt[c * N + n] = h[k];
      }
      float y_mine = 0.0f;
      for (int i = 0; i < len; ++i) {
        const float dt_i = from_lane(st.dt, i), dtu_i = from_lane(st.dtu, i);
        const int64_t t = t0 + i;
        float ch = 0.0f;
#pragma unroll
        for (int k = 0; k < kMaxSlots; ++k) {
          const int64_t n = k * 32 + lane;
          if (n < N) {
            h[k] = scan_step(h[k], expf(dt_i * a[k]), dtu_i, load(B + n * L + t));
            if (want_y) ch += load(C + n * L + t) * h[k];
          }
        }
        if (want_y) {
          const float y = warp_sum(ch);
          if (lane == i) y_mine = y;
        }
      }
      if (want_y && lane < len) {
        // dz = g y silu'(z) with y = <C, h> + D u before the gate.
        const float y = y_mine + skip * st.u;
        store(o.dz + row * L + t0 + lane, st.g * y * st.gate * (1.0f + st.z * (1.0f - st.gate)));
      }
    }
    const float dD = warp_sum(dD_lane);
    if (o.dD_part != nullptr && lane == 0) o.dD_part[row] = dD;
  }

  // Pass 2, reverse. Carried across chunks per state slot: lam_{t+1}, Abar_{t+1} and the dA sum.
  float lam[kMaxSlots], abar_next[kMaxSlots], dA[kMaxSlots];
#pragma unroll
  for (int k = 0; k < kMaxSlots; ++k) lam[k] = abar_next[k] = dA[k] = 0.0f;  // lam_L = 0
  const bool want_BC = o.dB_part != nullptr || o.dC_part != nullptr;
  float dbias_lane = 0.0f;
  for (int64_t c = chunks - 1; c >= 0; --c) {
    const int64_t t0 = c * kChunk;
    const int len = static_cast<int>(L - t0 < kChunk ? L - t0 : kChunk);
    const Step st = active && lane < len ? load_step(in, gout, row * L + t0 + lane, bias, s.softplus) : Step{};
    // This lane's states' terms of du_t and d delta'_t for step t0 + i, summed over the warp below.
    float du_terms[kChunk], ddt_terms[kChunk];
#pragma unroll
    for (int i = 0; i < kChunk; ++i) du_terms[i] = ddt_terms[i] = 0.0f;
    for (int k = 0; k < s.slots; ++k) {
      const int64_t n = k * 32 + lane;
      const bool has = active && n < N;  // other lanes carry zeros: every term they add is 0
      const float an = has ? load(in.A + d * N + n) : 0.0f;
      const float h_start = has ? ckpt[c * N + n] : 0.0f;
      // Recompute h_t, Abar_t and B_t of the chunk (steps past L leave h unchanged).
      float hs[kChunk], abar[kChunk], bs[kChunk];
      float h = h_start;
#pragma unroll
      for (int i = 0; i < kChunk; ++i) {
        bs[i] = has && i < len ? load(B + n * L + t0 + i) : 0.0f;
        abar[i] = expf(from_lane(st.dt, i) * an);
        h = scan_step(h, abar[i], from_lane(st.dtu, i), bs[i]);
        hs[i] = h;
      }
      float l = lam[k], a_next = abar_next[k], dA_sum = dA[k];
#pragma unroll
      for (int i = kChunk - 1; i >= 0; --i) {
        if (i >= len) continue;  // the same for the whole warp
        const float dt = from_lane(st.dt, i), u = from_lane(st.u, i), dtu = from_lane(st.dtu, i);
        const float ghat = from_lane(st.ghat, i);
        const float cv = has ? load(C + n * L + t0 + i) : 0.0f;
        l = ghat * cv + a_next * l;
        const float h_prev = i > 0 ? hs[i - 1] : h_start;
        const float ah = abar[i] * h_prev;  // Abar_t h_{t-1}
        du_terms[i] += l * dt * bs[i];
        ddt_terms[i] += l * (bs[i] * u + an * ah);
        dA_sum += l * dt * ah;
        if (want_BC) {
          dB_terms[warp][lane][i] = l * dtu;
          dC_terms[warp][lane][i] = ghat * hs[i];
        }
        a_next = abar[i];
      }
      lam[k] = l;
      abar_next[k] = a_next;
      dA[k] = dA_sum;
      if (want_BC) {
        // Sum the block's channels, warp by warp, into this tile's partials of states k*32...
        __syncthreads();
        for (int e = threadIdx.x; e < 32 * kChunk; e += blockDim.x) {
          const int n_local = e / kChunk, i = e % kChunk;
          const int64_t state = k * 32 + n_local;
          if (state >= N || i >= len) continue;
          float sum_B = 0.0f, sum_C = 0.0f;
          for (int w = 0; w < kWarpsPerBlock; ++w) {
            sum_B += dB_terms[w][n_local][i];
            sum_C += dC_terms[w][n_local][i];
          }
          const int64_t at = (((b * s.groups + g) * tiles + tile) * N + state) * L + t0 + i;
          if (o.dB_part != nullptr) o.dB_part[at] = sum_B;
          if (o.dC_part != nullptr) o.dC_part[at] = sum_C;
        }
        __syncthreads();  // the terms are overwritten by the next slot or chunk
      }
    }
    // du_t = D ghat_t + sum_n (...), d delta_t = slope_t sum_n (...): lane i keeps step t0 + i.
    float du_mine = 0.0f, ddt_mine = 0.0f;
#pragma unroll
    for (int i = 0; i < kChunk; ++i) {
      if (i >= len) continue;
      const float du_sum = warp_sum(du_terms[i]), ddt_sum = warp_sum(ddt_terms[i]);
      if (lane == i) {
        du_mine = du_sum;
        ddt_mine = ddt_sum;
      }
    }
    if (active && lane < len) {
      const int64_t at = row * L + t0 + lane;
      const float ddelta = ddt_mine * st.dsp;
      if (o.du != nullptr) store(o.du + at, skip * st.ghat + du_mine);
      if (o.ddelta != nullptr) store(o.ddelta + at, ddelta);
      dbias_lane += ddelta;
    }
  }
  if (!active) return;
  const float dbias = warp_sum(dbias_lane);
  if (o.dbias_part != nullptr && lane == 0) o.dbias_part[row] = dbias;
  if (o.dA_part != nullptr) {
    for (int k = 0; k < s.slots; ++k) {
      const int64_t n = k * 32 + lane;
      if (n < N) o.dA_part[row * N + n] = dA[k];
    }
  }
}

template <class T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.data_ptr()) : nullptr;
}

}  // namespace

void selective_scan(const cpu::ScanArgs& a, const Tensor& out) {
  const ScanShape s = shape_of(a);
  const int64_t rows = s.batch * s.dim;
  if (rows == 0 || s.len == 0) return;
  const int64_t blocks = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  VG_CHECK(blocks < (int64_t{1} << 31), kOp, "too many rows (", rows, ") for one launch");
  set_device(a.u.device().index);
  dispatch_floating(a.u.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    scan_forward_kernel<T><<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0, stream(a.u.device())>>>(
        inputs_of<T>(a), s, static_cast<T*>(out.data_ptr()));
  });
  check_launch("selective_scan");
}

void selective_scan_backward(const cpu::ScanArgs& a, const Tensor& g, const cpu::ScanGrads& grads) {
  const ScanShape s = shape_of(a);
  const Device device = a.u.device();
  const int64_t rows = s.batch * s.dim, N = s.nstate, L = s.len, G = s.groups;
  const int64_t chunks = (L + kChunk - 1) / kChunk;
  const int64_t tiles = (s.per_group + kWarpsPerBlock - 1) / kWarpsPerBlock;
  VG_CHECK(tiles < (int64_t{1} << 31) && G <= 65535 && s.batch <= 65535, kOp,
           "too many channels, groups or batches for one launch: u ", a.u.describe(), ", B ", a.B.describe());
  set_device(device.index);
  cudaStream_t st = stream(device);
  // f32 scratch: the checkpoints and the partials that the fixed-order sums below reduce.
  Tensor checkpoints = f32_scratch(true, rows * chunks * N, device);
  Tensor dB_part = f32_scratch(grads.dB.defined(), s.batch * G * tiles * N * L, device);
  Tensor dC_part = f32_scratch(grads.dC.defined(), s.batch * G * tiles * N * L, device);
  Tensor dA_part = f32_scratch(grads.dA.defined(), rows * N, device);
  Tensor dD_part = f32_scratch(grads.dD.defined(), rows, device);
  Tensor dbias_part = f32_scratch(grads.ddelta_bias.defined(), rows, device);
  dispatch_floating(a.u.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    if (rows > 0) {
      const ScanGradOutputs<T> o{data_or_null<T>(grads.du),    data_or_null<T>(grads.ddelta),
                                 data_or_null<T>(grads.dz),    data_or_null<float>(dB_part),
                                 data_or_null<float>(dC_part), data_or_null<float>(dA_part),
                                 data_or_null<float>(dD_part), data_or_null<float>(dbias_part)};
      const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(G), static_cast<unsigned>(s.batch));
      scan_backward_kernel<T><<<grid, kThreadsPerBlock, 0, st>>>(inputs_of<T>(a), static_cast<const T*>(g.data_ptr()),
                                                                 s, o, checkpoints.data<float>());
    }
    // Each gradient from its partials: dB and dC [Bt, G, N, L] add each group's tiles in order;
    // dA [D, N], dD and ddelta_bias [D] add over the batch (zeros for an empty batch, as the CPU).
    auto sum_into = [&](const Tensor& part, int64_t outer, int64_t parts, int64_t inner, const Tensor& grad) {
      if (grad.defined()) sum_partials(part.data<float>(), outer, parts, inner, static_cast<T*>(grad.data_ptr()), st);
    };
    sum_into(dB_part, s.batch * G, tiles, N * L, grads.dB);
    sum_into(dC_part, s.batch * G, tiles, N * L, grads.dC);
    sum_into(dA_part, 1, s.batch, s.dim * N, grads.dA);
    sum_into(dD_part, 1, s.batch, s.dim, grads.dD);
    sum_into(dbias_part, 1, s.batch, s.dim, grads.ddelta_bias);
  });
  check_launch("selective_scan backward");
}

}  // namespace vg::cuda
