#include <gtest/gtest.h>

#include "graph/tensor.h"

namespace fluidedge::graph {
namespace {

TEST(Tensor, FromVectorChecksCount) {
  auto t = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(t.numel(), 4);
  EXPECT_EQ(t.data<float>()[3], 4.f);
  EXPECT_THROW(Tensor::from_vector<float>({2, 3}, {1, 2}), Error);
}

TEST(Tensor, CastAndCompare) {
  auto t = Tensor::from_vector<float>({3}, {1.7f, -2.2f, 3.f});
  auto i = t.cast(DType::kInt64);
  EXPECT_EQ(i.to_int64(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_FALSE(i.equals(t));
  EXPECT_TRUE(t.equals(t.clone()));
}

TEST(Tensor, ReadingAsWrongTypeIsAnError) {
  auto t = Tensor::from_vector<int64_t>({1}, {5});
  EXPECT_THROW(t.data<float>(), Error);
}

TEST(Tensor, ReshapeKeepsData) {
  auto t = Tensor::from_vector<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  auto r = t.reshaped({3, 2});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.data<float>()[5], 5.f);
  EXPECT_THROW(t.reshaped({4, 2}), Error);
}

TEST(Tensor, BufferIsAligned) {
  Tensor t(DType::kFloat32, {7});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
}

}  // namespace
}  // namespace fluidedge::graph

namespace fluidedge::graph {
namespace {

TEST(Tensor, Float16RoundTrip) {
  // Exactly representable values survive; others round to nearest even; overflow is infinity.
  auto t = Tensor::from_vector<float>({6}, {1.f, -2.5f, 65504.f, 1e-7f, 1e6f, 0.1f});
  auto back = t.cast(DType::kFloat16).cast(DType::kFloat32).to_float();
  EXPECT_EQ(back[0], 1.f);
  EXPECT_EQ(back[1], -2.5f);
  EXPECT_EQ(back[2], 65504.f);
  EXPECT_NEAR(back[3], 1.19209e-7f, 1e-9f);  // nearest subnormal half (2 * 2^-24)
  EXPECT_TRUE(std::isinf(back[4]));
  EXPECT_NEAR(back[5], 0.0999755859375f, 1e-9f);
}

}  // namespace
}  // namespace fluidedge::graph
