// CUDA against CPU for the Mamba ops (tests/support/cuda_conformance.h): the selective scan and
// the depthwise causal conv1d, forward and every gradient, in f32 and bf16. Odd sizes, grouped
// B/C, each optional input on and off, more than 32 states (two per lane), more channels per
// group than one block holds, and sequences of many backward chunks. Skipped without a GPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::for_both_dtypes;
using testing::positive;
using testing::rnd;

struct ScanCase {
  std::string name;
  int64_t batch, dim, nstate, len;
  int64_t groups;  // 0: B and C as [Bt, N, L]; else [Bt, G, N, L]
  bool skip, gate, bias, softplus;
};

// Inputs as the models make them: A negative (a decaying scan); without softplus delta' is
// positive, so that exp(delta' A) < 1 over long sequences too.
void expect_scan_conformant(const ScanCase& c, uint64_t seed) {
  const int64_t Bt = c.batch, D = c.dim, N = c.nstate, L = c.len;
  const Shape bc = c.groups == 0 ? Shape{Bt, N, L} : Shape{Bt, c.groups, N, L};
  std::vector<Tensor> in = {rnd({Bt, D, L}, seed),
                            c.softplus ? rnd({Bt, D, L}, seed + 1) : positive({Bt, D, L}, seed + 1),
                            mul(positive({D, N}, seed + 2), -1.0), rnd(bc, seed + 3), rnd(bc, seed + 4)};
  auto optional_input = [&](bool wanted, const Tensor& t) {
    if (!wanted) return -1;
    in.push_back(t);
    return static_cast<int>(in.size()) - 1;
  };
  const int skip = optional_input(c.skip, rnd({D}, seed + 5));
  const int gate = optional_input(c.gate, rnd({Bt, D, L}, seed + 6));
  const int bias = optional_input(c.bias, c.softplus ? rnd({D}, seed + 7) : mul(positive({D}, seed + 7), 0.25));
  const bool softplus = c.softplus;
  for_both_dtypes(c.name, in, [=](const std::vector<Tensor>& v) {
    auto opt = [&](int i) { return i < 0 ? Tensor() : v[static_cast<size_t>(i)]; };
    return selective_scan(v[0], v[1], v[2], v[3], v[4], opt(skip), opt(gate), opt(bias), softplus);
  });
}

TEST(CudaSsm, SelectiveScanWithEachOptionalInput) {
  VG_REQUIRE_GPU();
  const std::vector<ScanCase> cases = {
      {"no optional inputs, B and C as [Bt, N, L]", 2, 6, 5, 37, 0, false, false, false, false},
      {"every optional input, two groups", 2, 6, 5, 37, 2, true, true, true, true},
      {"skip and bias without softplus", 2, 6, 5, 37, 1, true, false, true, false},
      {"gate and softplus only", 2, 6, 5, 37, 0, false, true, false, true},
      {"bias and softplus without gate", 2, 6, 5, 37, 2, false, false, true, true},
  };
  uint64_t seed = 100;
  for (const ScanCase& c : cases) expect_scan_conformant(c, seed += 10);
}

TEST(CudaSsm, SelectiveScanAtLengthsStatesAndGroupsThatSpanTheKernelsTiles) {
  VG_REQUIRE_GPU();
  const std::vector<ScanCase> cases = {
      // VideoMamba's 16 states; 300 steps are 19 backward chunks; 10 channels are two blocks.
      {"16 states over 300 steps", 2, 10, 16, 300, 1, true, true, true, true},
      // 40 states: two per lane, the second slot partly empty; groups of 4 channels.
      {"40 states, 3 groups", 2, 12, 40, 45, 3, true, true, true, true},
      // 19 channels in one group: three blocks add into dB and dC.
      {"19 channels in one group", 3, 19, 7, 50, 0, true, false, true, true},
      // One step, one state.
      {"one step and one state", 2, 3, 1, 1, 0, true, true, true, true},
  };
  uint64_t seed = 200;
  for (const ScanCase& c : cases) expect_scan_conformant(c, seed += 10);
}

TEST(CudaSsm, SelectiveScanSoftplusLinearBranchAndFlippedViews) {
  VG_REQUIRE_GPU();
  // Biases around PyTorch's threshold 20: delta + bias falls on both sides of it.
  const Tensor bias = Tensor::from_vector<float>({0.0f, 25.0f, -1.0f, 20.5f, 0.5f, 30.0f}, {6});
  const std::vector<Tensor> in = {rnd({2, 6, 29}, 300),
                                  rnd({2, 6, 29}, 301),
                                  mul(positive({6, 5}, 302), -1.0),
                                  rnd({2, 5, 29}, 303),
                                  rnd({2, 5, 29}, 304),
                                  rnd({6}, 305),
                                  rnd({2, 6, 29}, 306),
                                  bias};
  for_both_dtypes("softplus linear above 20", in, [](const std::vector<Tensor>& v) {
    return selective_scan(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], true);
  });
  // The bidirectional mixer's backward branch: every sequence reversed (views, copied by the op).
  for_both_dtypes("flipped sequences", in, [](const std::vector<Tensor>& v) {
    return selective_scan(flip(v[0], {2}), flip(v[1], {2}), v[2], flip(v[3], {2}), flip(v[4], {2}), v[5],
                          flip(v[6], {2}), v[7], true);
  });
}

TEST(CudaSsm, SelectiveScanBackwardIsBitwiseDeterministic) {
  VG_REQUIRE_GPU();
  // dB and dC sum 19 channels over three blocks, dA and the rest over the batch.
  const std::vector<Tensor> host = {rnd({3, 19, 70}, 400), rnd({3, 19, 70}, 401), mul(positive({19, 16}, 402), -1.0),
                                    rnd({3, 16, 70}, 403), rnd({3, 16, 70}, 404), rnd({19}, 405),
                                    rnd({3, 19, 70}, 406), rnd({19}, 407)};
  const Tensor seed = rnd({3, 19, 70}, 408).to(Device::cuda());
  auto gradients = [&] {
    std::vector<Tensor> v;
    for (const Tensor& t : host) v.push_back(t.to(Device::cuda()).set_requires_grad());
    selective_scan(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], true).backward(seed);
    std::vector<std::vector<float>> grads;
    for (const Tensor& t : v) grads.push_back(t.grad().to(Device::cpu()).to_vector<float>());
    return grads;
  };
  EXPECT_EQ(gradients(), gradients());
}

TEST(CudaSsm, CausalConv1dWidthsBiasAndSilu) {
  VG_REQUIRE_GPU();
  const Tensor x = rnd({2, 6, 37}, 500);
  for_both_dtypes("width 4 with bias and silu", {x, rnd({6, 4}, 501), rnd({6}, 502)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0], v[1], v[2], true); });
  for_both_dtypes("width 3 without bias or silu", {x, rnd({6, 3}, 503)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0], v[1]); });
  for_both_dtypes("width 3 with silu, no bias", {x, rnd({6, 3}, 504)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0], v[1], Tensor(), true); });
  for_both_dtypes("width 4 with bias, no silu, 3 batches of 300 steps",
                  {rnd({3, 5, 300}, 505), rnd({5, 4}, 506), rnd({5}, 507)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0], v[1], v[2]); });
  for_both_dtypes("sequence shorter than the kernel", {rnd({2, 3, 2}, 508), rnd({3, 4}, 509), rnd({3}, 510)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0], v[1], v[2], true); });
  for_both_dtypes("width 1", {x, rnd({6, 1}, 511), rnd({6}, 512)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0], v[1], v[2], true); });
  // VideoMamba's layout: x from a [B, L, D] tensor (a transposed view).
  for_both_dtypes("x as a transposed view", {rnd({2, 37, 6}, 513), rnd({6, 4}, 514), rnd({6}, 515)},
                  [](const std::vector<Tensor>& v) { return causal_conv1d(v[0].transpose(1, 2), v[1], v[2], true); });
}

}  // namespace
}  // namespace vg
