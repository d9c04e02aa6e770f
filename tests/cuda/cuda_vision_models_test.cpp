// The vision towers and the projector on the GPU against the goldens their CPU tests meet
// (tools/reference/make_clip_goldens.py, make_videomamba_goldens.py, make_etp_goldens.py), in
// f32: outputs and parameter gradients. Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "io/safetensors.h"
#include "models/clip/model.h"
#include "models/common/weight_source.h"
#include "models/projector/etp.h"
#include "models/videomamba/model.h"
#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::open_golden;
using testing::test_data_path;

// max |a - e| over max(1e-6, max |e|).
double relative_error(const Tensor& actual, const Tensor& expected) {
  EXPECT_EQ(actual.shape(), expected.shape());
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double scale = 1e-6, worst = 0;
  for (double v : e) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < a.size() && i < e.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  return worst / scale;
}

TEST(CudaVisionModels, ClipHiddenStatesAndGradientsMatchTransformers) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("clip/tiny_golden.safetensors");
  clip::LoadOptions options;
  options.device = Device::cuda();
  clip::Model m = clip::Model::load(test_data_path("clip/tiny3"), options);
  ASSERT_TRUE(m.device().is_cuda());
  const Tensor pixels = g.get("tiny3.pixels");
  std::vector<Tensor> all = m.all_hidden_states(pixels);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(all[i].device().is_cuda());
    EXPECT_LE(relative_error(all[i], g.get("tiny3.hidden." + std::to_string(i))), 1e-5) << "hidden " << i;
  }
  EXPECT_LE(relative_error(m.pooled(pixels), g.get("tiny3.pooled")), 1e-5);

  Tensor gpu_pixels = pixels.to(Device::cuda()).set_requires_grad(true);
  Tensor& patch = m.weights().patch_embedding;
  Tensor& q0 = m.weights().layers[0].q.weight;
  patch.set_requires_grad(true);
  q0.set_requires_grad(true);
  sum(mul(m.features(gpu_pixels), g.get("tiny3.gout").to(Device::cuda()))).backward();
  EXPECT_LE(relative_error(gpu_pixels.grad(), g.get("tiny3.grad.pixels")), 1e-4);
  EXPECT_LE(relative_error(patch.grad(), g.get("tiny3.grad.patch_embedding")), 1e-4);
  EXPECT_LE(relative_error(q0.grad(), g.get("tiny3.grad.q_proj0")), 1e-4);
}

TEST(CudaVisionModels, VideoMambaOutputAndEveryGradientMatchTheReference) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("videomamba/tiny_golden.safetensors");
  models::MapSource source(io::load_safetensors(test_data_path("videomamba/tiny_weights.safetensors")));
  videomamba::LoadOptions options;
  options.device = Device::cuda();
  videomamba::Model m = videomamba::Model::from_source(source, options);
  ASSERT_TRUE(m.device().is_cuda());
  std::vector<Tensor*> params = m.weights().parameters();
  for (Tensor* p : params) p->set_requires_grad(true);
  Tensor x_vis = m.forward(g.get("input.video").to(DType::F32));
  EXPECT_TRUE(x_vis.device().is_cuda());
  EXPECT_LE(relative_error(x_vis, g.get("bi.x_vis")), 1e-4);
  x_vis.backward(g.get("bi.gout").to(DType::F32).to(Device::cuda()));
  double worst = 0;
  for (Tensor* p : params) {
    SCOPED_TRACE(p->name());
    ASSERT_TRUE(p->grad().defined());
    const double error = relative_error(p->grad(), g.get("bi.grad." + p->name()));
    EXPECT_LE(error, 1e-4);
    worst = std::max(worst, error);
  }
  std::printf("VideoMamba on the GPU: %zu parameter gradients, worst relative error %.3g\n", params.size(), worst);
}

TEST(CudaVisionModels, EtpProjectorsMatchTheReference) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("vlm/etp.safetensors");
  for (auto [name, config] : {std::pair<std::string, projector::EtpConfig>{"image", {24, 16, 14, 12}},
                              std::pair<std::string, projector::EtpConfig>{"video", {20, 16, 14, 7}}}) {
    SCOPED_TRACE(name);
    std::map<std::string, Tensor> weights;
    for (const char* p : {"mlp.mlp.0.weight", "mlp.mlp.0.bias", "mlp.mlp.2.weight", "mlp.mlp.2.bias",
                          "peg.peg.0.weight", "peg.peg.0.bias"}) {
      weights[std::string("model.mm_projector.") + p] = g.get(name + ".w." + p);
    }
    models::MapSource source(weights);
    projector::Etp etp = projector::Etp::load(source, "model.mm_projector.", config, DType::F32);
    etp.to(Device::cuda());
    for (auto& [n, t] : etp.parameters()) t->set_requires_grad(true);
    Tensor x = g.get(name + ".x").to(DType::F32).to(Device::cuda()).set_requires_grad(true);
    Tensor out = etp.forward(x);
    EXPECT_LE(relative_error(out, g.get(name + ".out")), 1e-5);
    out.backward(g.get(name + ".gout").to(DType::F32).to(Device::cuda()));
    EXPECT_LE(relative_error(x.grad(), g.get(name + ".gx")), 1e-5);
    for (auto& [n, t] : etp.parameters()) {
      SCOPED_TRACE(n);
      EXPECT_LE(relative_error(t->grad(), g.get(name + ".g." + n)), 1e-5);
    }
  }
}

}  // namespace
}  // namespace vg
