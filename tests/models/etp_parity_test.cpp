// The ETP projectors against the reference module rebuilt in PyTorch (tools/reference/make_etp_goldens.py):
// outputs and the gradients of the input and every parameter, for the image (12x12) and video
// (7x7) variants; plus the parameter counts of the spec at the Gemma 3n width.
#include <gtest/gtest.h>

#include "models/projector/etp.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using projector::Etp;
using projector::EtpConfig;

void check_case(const std::string& name, const EtpConfig& config) {
  SCOPED_TRACE(name);
  io::SafetensorsFile g = testing::open_golden("vlm/etp.safetensors");
  std::map<std::string, Tensor> weights;
  for (const char* p : {"mlp.mlp.0.weight", "mlp.mlp.0.bias", "mlp.mlp.2.weight", "mlp.mlp.2.bias", "peg.peg.0.weight",
                        "peg.peg.0.bias"}) {
    weights[std::string("model.mm_projector.") + p] = g.get(name + ".w." + p);
  }
  models::MapSource source(weights);
  Etp etp = Etp::load(source, "model.mm_projector.", config, DType::F64);
  for (auto& [n, t] : etp.parameters()) t->set_requires_grad(true);
  Tensor x = g.get(name + ".x").clone().set_requires_grad(true);
  Tensor out = etp.forward(x);
  EXPECT_ALL_CLOSE(out, g.get(name + ".out"), 1e-10, 1e-12);
  out.backward(g.get(name + ".gout"));
  EXPECT_ALL_CLOSE(x.grad(), g.get(name + ".gx"), 1e-10, 1e-12);
  for (auto& [n, t] : etp.parameters()) {
    SCOPED_TRACE(n);
    EXPECT_ALL_CLOSE(t->grad(), g.get(name + ".g." + n), 1e-10, 1e-12);
  }
}

TEST(Etp, ImageProjectorMatchesTheReference) { check_case("image", {24, 16, 14, 12}); }
TEST(Etp, VideoProjectorMatchesTheReference) { check_case("video", {20, 16, 14, 7}); }

TEST(Etp, ParameterCountsAndTokenBudgetOfTheSpec) {
  // specs/mobile-videogpt-reference.md §1.7 at H = 2048 (Gemma 3n E2B).
  EXPECT_EQ(EtpConfig::video(576, 2048).parameter_count(), 5398528);
  EXPECT_EQ(EtpConfig::image(768, 2048).parameter_count(), 5791744);
  EXPECT_EQ(EtpConfig::image(768, 2048).output_tokens(), 144);
  EXPECT_EQ(EtpConfig::video(576, 2048).output_tokens(), 49);
  Generator gen(1);
  Etp etp = Etp::initialize(EtpConfig::video(576, 64), gen);
  int64_t n = 0;
  for (auto& [name, t] : etp.parameters()) n += t->numel();
  EXPECT_EQ(n, EtpConfig::video(576, 64).parameter_count());
  NoGradGuard no_grad;
  EXPECT_EQ(etp.forward(zeros({3, 196, 576})).shape(), (Shape{3, 49, 64}));
  testing::expect_error([&] { etp.forward(zeros({3, 195, 576})); }, {"[etp]", "[B, 196, 576]"});
  testing::expect_error([&] { etp.forward(zeros({3, 196, 768})); }, {"[etp]"});
}

}  // namespace
}  // namespace vg
