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
