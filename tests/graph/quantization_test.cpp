// Linear quantization as ONNX defines it (graph/quantization.h), and the errors a quantized
// model's mistakes end in: each names the node and the input at fault.
#include <cmath>

#include <gtest/gtest.h>

#include "common/error.h"
#include "graph/quantization.h"
#include "graph/shape_inference.h"
#include "graph_test_util.h"

namespace fluidedge::graph {
namespace {

using testing::add_input;
using testing::add_node;

TEST(Quantization, RoundsHalfToEvenAndSaturates) {
  EXPECT_EQ(quantize_scaled(2.5f, 0, 0, 255), 2);
  EXPECT_EQ(quantize_scaled(3.5f, 0, 0, 255), 4);
  EXPECT_EQ(quantize_scaled(-2.5f, 10, 0, 255), 8);
  EXPECT_EQ(quantize_scaled(300.f, 0, 0, 255), 255);
  EXPECT_EQ(quantize_scaled(-300.f, 0, -128, 127), -128);
  EXPECT_EQ(quantize_scaled(std::nanf(""), 7, 0, 255), 7);  // NaN to the zero point, as ONNX Runtime
  EXPECT_EQ(dtype_min(DType::kInt8), -128);
  EXPECT_EQ(dtype_max(DType::kUInt8), 255);
}

// QuantizeLinear(x, scale, zero point) with the given scale and zero point tensors.
Graph quantize(Tensor scale, Tensor zero_point, bool scale_constant = true) {
  Graph g;
  add_input(g, "x", {1, 3, 2, 2});
  if (scale_constant)
    g.set_initializer("s", std::move(scale));
  else
    add_input(g, "s", scale.shape());
  g.set_initializer("z", std::move(zero_point));
  add_node(g, "QuantizeLinear", {"x", "s", "z"}, {"q"});
  g.outputs = {"q"};
  return g;
}

std::string error_of(Graph g) {
  try {
    infer_shapes(g);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Quantization, ScaleComputedAtRunTimeIsAnError) {
  std::string e = error_of(quantize(Tensor::scalar(0.1f), Tensor::scalar<uint8_t>(0), false));
  EXPECT_NE(e.find("QuantizeLinear"), std::string::npos) << e;
  EXPECT_NE(e.find("constant"), std::string::npos) << e;
}

TEST(Quantization, NonPositiveScaleIsAnError) {
  std::string e = error_of(quantize(Tensor::scalar(-0.1f), Tensor::scalar<uint8_t>(0)));
  EXPECT_NE(e.find("'s'"), std::string::npos) << e;
  EXPECT_NE(e.find("positive"), std::string::npos) << e;
}

TEST(Quantization, PerChannelScaleOfTheWrongLengthIsAnError) {
  std::string e = error_of(quantize(Tensor::from_vector<float>({2}, {0.1f, 0.2f}), Tensor::scalar<uint8_t>(0)));
  EXPECT_NE(e.find("one per channel"), std::string::npos) << e;
  EXPECT_NE(e.find("3 values"), std::string::npos) << e;
}

TEST(Quantization, ZeroPointNotLikeItsScaleIsAnError) {
  std::string e = error_of(
      quantize(Tensor::from_vector<float>({3}, {0.1f, 0.2f, 0.3f}), Tensor::from_vector<uint8_t>({2}, {0, 0})));
  EXPECT_NE(e.find("zero point 'z'"), std::string::npos) << e;
}

TEST(Quantization, QLinearAddOfMixedTypesIsAnError) {
  Graph g;
  add_input(g, "a", {1, 4}, DType::kUInt8);
  add_input(g, "b", {1, 4}, DType::kInt8);
  g.set_initializer("s", Tensor::scalar(0.1f));
  g.set_initializer("zu", Tensor::scalar<uint8_t>(0));
  g.set_initializer("zs", Tensor::scalar<int8_t>(0));
  add_node(g, "QLinearAdd", {"a", "s", "zu", "b", "s", "zs", "s", "zu"}, {"y"}).domain = "com.microsoft";
  g.outputs = {"y"};
  std::string e = error_of(g);
  EXPECT_NE(e.find("QLinearAdd"), std::string::npos) << e;
  EXPECT_NE(e.find("A is uint8 but B is int8"), std::string::npos) << e;
}

TEST(Quantization, ContribOpOutsideItsDomainIsNotSupported) {
  Graph g;
  add_input(g, "a", {1, 4}, DType::kUInt8);
  g.set_initializer("s", Tensor::scalar(0.1f));
  g.set_initializer("z", Tensor::scalar<uint8_t>(0));
  add_node(g, "QLinearAdd", {"a", "s", "z", "a", "s", "z", "s", "z"}, {"y"});  // default domain
  g.outputs = {"y"};
  std::string e = error_of(g);
  EXPECT_NE(e.find("'QLinearAdd' is not supported"), std::string::npos) << e;
}

}  // namespace
}  // namespace fluidedge::graph
