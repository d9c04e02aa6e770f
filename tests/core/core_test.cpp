// Core pieces: tensors and views, devices, errors, logging, random numbers, the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "core/allocator.h"
#include "core/log.h"
#include "core/random.h"
#include "core/thread_pool.h"
#include "ops/ops.h"

namespace vg {
namespace {

TEST(Tensor, MetadataOfViews) {
  Tensor x = arange(24, DType::F32).reshape({2, 3, 4});
  EXPECT_TRUE(x.is_contiguous());
  EXPECT_EQ(x.strides(), (Shape{12, 4, 1}));
  Tensor t = x.transpose(0, 2);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.storage(), x.storage());
  Tensor s = x.slice(2, 1, 3);
  EXPECT_EQ(s.offset(), 1);
  EXPECT_EQ(s.to_vector<float>()[0], 1.0f);
  EXPECT_TRUE(x.unsqueeze(0).squeeze(0).is_contiguous());
  EXPECT_THROW(x.view({5, 5}), Error);
  EXPECT_THROW(t.view({24}), Error);  // needs a copy: reshape does it
  EXPECT_EQ(t.reshape({24}).to_vector<float>()[1], 12.0f);
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(x.reshape({1, 2, 3, 4, 1, 1, 1}), Error);  // rank 7
}

TEST(Tensor, SixDimensionsAndZeroSizes) {
  Tensor x = ones({1, 2, 1, 3, 1, 2});
  EXPECT_EQ(sum(x).item(), 12.0);
  Tensor empty = zeros({0, 3});
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_EQ(sum(empty, 0).to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

TEST(Device, ParseAndStubErrors) {
  EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_THROW(Device::parse("tpu"), Error);
  if (!cuda_is_available()) {
    try {
      ones({2}).to(Device::cuda());
      FAIL() << "expected an error without a GPU";
    } catch (const Error& e) {
      EXPECT_EQ(e.component(), "cuda");
    }
  }
}

TEST(Error, MessageNamesTheComponent) {
  Error e("safetensors", "tensor 'w' is missing");
  EXPECT_STREQ(e.what(), "[safetensors] tensor 'w' is missing");
  EXPECT_EQ(e.component(), "safetensors");
}

TEST(Log, LevelsAndSink) {
  std::vector<std::string> seen;
  logging::set_sink([&](logging::Level, const std::string& m) { seen.push_back(m); });
  const logging::Level before = logging::level();
  logging::set_level(logging::Level::Warn);
  logging::info("hidden");
  logging::warn("shown ", 42);
  logging::set_level(before);
  logging::set_sink({});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "shown 42");
  EXPECT_THROW(logging::parse_level("loud"), Error);
}

TEST(Random, PhiloxKnownAnswers) {
  // Random123's published known-answer vectors for philox4x32-10.
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
            (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}),
            (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Random, NormalsHaveTheRightMomentsAndAreReproducible) {
  Generator g(123);
  std::vector<double> v = randn({20000}, g, DType::F64).to_vector<double>();
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) s += (x - m) * (x - m);
  s /= static_cast<double>(v.size());
  EXPECT_NEAR(m, 0.0, 0.03);
  EXPECT_NEAR(s, 1.0, 0.03);
  Generator g2(123);
  EXPECT_EQ(randn({20000}, g2, DType::F64).to_vector<double>(), v);
  EXPECT_NE(randn({4}, g2, DType::F64).to_vector<double>(), std::vector<double>(v.begin(), v.begin() + 4));
}

TEST(ThreadPool, CoversEveryIndexOnceAndPropagatesErrors) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(10007);
  pool.parallel_for(10007, 3, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_THROW(pool.parallel_for(100, 1,
                                 [](int64_t b, int64_t) {
                                   if (b >= 50) throw Error("test", "boom");
                                 }),
               Error);
  // Nested calls run inline instead of deadlocking.
  std::atomic<int64_t> total{0};
  pool.parallel_for(8, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      pool.parallel_for(10, 1, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
    }
  });
  EXPECT_EQ(total.load(), 80);
}

TEST(Allocator, CountsLiveBytes) {
  const int64_t before = cpu_allocator().stats().current_bytes;
  {
    Tensor t = Tensor::empty({1000}, DType::F64);
    EXPECT_EQ(cpu_allocator().stats().current_bytes, before + 8000);
  }
  EXPECT_EQ(cpu_allocator().stats().current_bytes, before);
}

}  // namespace
}  // namespace vg
