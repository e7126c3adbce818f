// The QDQ rewrites (graph/qdq_transforms.h): which patterns become integer ops, with which
// parameters, and which stay as they are.
#include <algorithm>

#include <gtest/gtest.h>

#include "graph/qdq_transforms.h"
#include "graph/transforms.h"
#include "qdq_graphs.h"

namespace fluidedge::graph {
namespace {

using fluidedge::testing::qdq_conv_graph;
using fluidedge::testing::QdqConvOptions;

int count(const Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op;
  return n;
}

const Node& only(const Graph& g, const std::string& op) {
  for (const auto& node : g.nodes)
    if (node.op_type == op) return node;
  throw std::runtime_error("no " + op);
}

TEST(QdqTransforms, ConvWithReluAndInt32BiasBecomesOneQLinearConv) {
  Graph g = qdq_conv_graph({});
  Tensor bq = g.initializer("bq")->clone();
  ASSERT_EQ(fuse_qdq_convolutions(g), 1);
  EXPECT_EQ(count(g, "Conv"), 0);
  EXPECT_EQ(count(g, "Relu"), 0);  // its output's zero point is 0: the saturation is the Relu
  const Node& q = only(g, "QLinearConv");
  ASSERT_EQ(q.inputs.size(), 9u);
  EXPECT_EQ(q.inputs[0], "xq");  // reads the integers, not their dequantized floats
  EXPECT_EQ(q.inputs[3], "wq");
  EXPECT_EQ(q.outputs[0], "yq");
  // The bias is the model's own int32 one (its scale is x_scale * w_scale exactly).
  EXPECT_TRUE(g.initializer(q.inputs[8])->equals(bq));
  EXPECT_EQ(g.initializer(q.inputs[4])->numel(), 16);  // per-channel weight scales
  EXPECT_EQ(q.attr_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  // What is left: Q before, DQ after.
  EXPECT_EQ(g.nodes.size(), 3u);
}

TEST(QdqTransforms, QuantizedGemmBecomesAOneByOneQLinearConvBetweenReshapes) {
  for (bool transposed : {true, false}) {
    fluidedge::testing::QdqGemmOptions o;
    o.transposed = transposed;
    o.per_channel = transposed;
    Graph g = fluidedge::testing::qdq_gemm_graph(o);
    const Tensor w = g.initializer("wq")->clone();
    ASSERT_GT(fuse_qdq(g), 0);
    EXPECT_EQ(count(g, "Gemm"), 0) << transposed;
    const Node& conv = only(g, "QLinearConv");
    EXPECT_EQ(conv.name, "Gemm_4") << "the convolution keeps the Gemm's name (profiles find it)";
    EXPECT_EQ(count(g, "Reshape"), 2);
    // Weights as [outputs, inputs, 1, 1]: row r is output feature r's, whichever way W was stored.
    const Tensor& w4 = *g.initializer(conv.inputs[3]);
    ASSERT_EQ(w4.shape(), (Shape{24, 40, 1, 1}));
    for (int64_t r = 0; r < 24; ++r)
      for (int64_t c = 0; c < 40; ++c)
        ASSERT_EQ(w4.data<int8_t>()[r * 40 + c],
                  transposed ? w.data<int8_t>()[r * 40 + c] : w.data<int8_t>()[c * 24 + r]);
    EXPECT_EQ(g.initializer(conv.inputs[4])->numel(), transposed ? 24 : 1);
    EXPECT_EQ(g.value("yq").shape, (Shape{3, 24}));
  }
  // A Gemm that scales or transposes its input stays in float.
  Graph scaled = fluidedge::testing::qdq_gemm_graph({});
  for (auto& n : scaled.nodes)
    if (n.op_type == "Gemm") n.attrs["alpha"] = 0.5f;
  fuse_qdq(scaled);
  EXPECT_EQ(count(scaled, "Gemm"), 1);
}

TEST(QdqTransforms, ReluIsKeptOutOfTheFusionWhenTheZeroPointIsNotTheMinimum) {
  QdqConvOptions o;
  o.output_zero_point = 7;
  Graph g = qdq_conv_graph(o);
  EXPECT_EQ(fuse_qdq_convolutions(g), 0);
  EXPECT_EQ(count(g, "Conv"), 1);
  o.relu = false;  // without the Relu the same zero point is fine
  Graph h = qdq_conv_graph(o);
  EXPECT_EQ(fuse_qdq_convolutions(h), 1);
}

TEST(QdqTransforms, FloatBiasIsRoundedToTheAccumulatorScale) {
  QdqConvOptions o;
  o.bias = QdqConvOptions::Bias::kFloat;
  o.per_channel = false;
  Graph g = qdq_conv_graph(o);
  auto want = g.initializer("bf")->to_float();
  ASSERT_EQ(fuse_qdq_convolutions(g), 1);
  const Node& q = only(g, "QLinearConv");
  float acc_scale = 0.02f * g.initializer(q.inputs[4])->to_float()[0];
  auto got = g.initializer(q.inputs[8])->to_int64();
  ASSERT_EQ(got.size(), want.size());
  for (size_t c = 0; c < got.size(); ++c) EXPECT_EQ(got[c], std::llround(want[c] / acc_scale)) << c;
}

TEST(QdqTransforms, PerChannelActivationsStayInFloat) {
  Graph g = qdq_conv_graph({});
  // Make the input's DequantizeLinear per channel: QLinearConv has one x_scale.
  g.set_initializer("xs2", Tensor::from_vector<float>({8}, std::vector<float>(8, 0.02f)));
  g.set_initializer("xz2", Tensor::from_vector<uint8_t>({8}, std::vector<uint8_t>(8, 120)));
  for (auto& n : g.nodes)
    if (n.op_type == "DequantizeLinear" && n.inputs[0] == "xq") n.inputs = {"xq", "xs2", "xz2"};
  EXPECT_EQ(fuse_qdq_convolutions(g), 0);
}

TEST(QdqTransforms, ConvWhoseOutputIsReadTwiceIsKept) {
  Graph g = qdq_conv_graph({});
  g.outputs.push_back("conv");
  EXPECT_EQ(fuse_qdq_convolutions(g), 0);
}

// DQ, DQ -> Add -> Relu -> Q and DQ -> GlobalAveragePool -> Q (ResNet's residual and head).
Graph residual_and_head(int32_t add_zero_point) {
  Graph g;
  g.inputs = {"a", "b"};
  g.values["a"] = ValueInfo{DType::kUInt8, {1, 4, 3, 3}, true};
  g.values["b"] = ValueInfo{DType::kUInt8, {1, 4, 3, 3}, true};
  for (const char* p : {"a", "b", "c", "p"}) {
    g.set_initializer(std::string(p) + "s", Tensor::scalar(0.01f));
    g.set_initializer(std::string(p) + "z", Tensor::scalar<uint8_t>(std::string(p) == "c" ? add_zero_point : 3));
  }
  auto node = [&](std::string op, std::vector<std::string> in, std::string out) {
    Node n;
    n.name = op + std::to_string(g.nodes.size());
    n.op_type = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {out};
    g.values.try_emplace(out);
    g.nodes.push_back(n);
  };
  node("DequantizeLinear", {"a", "as", "az"}, "fa");
  node("DequantizeLinear", {"b", "bs", "bz"}, "fb");
  node("Add", {"fa", "fb"}, "sum");
  node("Relu", {"sum"}, "r");
  node("QuantizeLinear", {"r", "cs", "cz"}, "c");
  node("DequantizeLinear", {"c", "cs", "cz"}, "fc");
  node("GlobalAveragePool", {"fc"}, "pooled");
  node("QuantizeLinear", {"pooled", "ps", "pz"}, "p");
  g.outputs = {"p"};
  infer_shapes(g);
  return g;
}

TEST(QdqTransforms, ResidualAddAndAveragePoolBecomeOnnxRuntimesContribOps) {
  Graph g = residual_and_head(0);
  EXPECT_EQ(fuse_qdq(g), 2);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op_type, "QLinearAdd");
  EXPECT_EQ(g.nodes[0].domain, "com.microsoft");
  EXPECT_EQ(g.nodes[0].inputs[0], "a");
  EXPECT_EQ(g.nodes[0].inputs[3], "b");
  EXPECT_EQ(g.nodes[0].outputs[0], "c");
  EXPECT_EQ(g.nodes[1].op_type, "QLinearGlobalAveragePool");
  EXPECT_EQ(g.nodes[1].inputs[0], "c");
  EXPECT_EQ(g.value("p").shape, (Shape{1, 4, 1, 1}));
  EXPECT_EQ(g.value("p").dtype, DType::kUInt8);
}

TEST(QdqTransforms, ResidualAddWithAReluTheSaturationDoesNotDoStaysInFloat) {
  Graph g = residual_and_head(9);
  EXPECT_EQ(fuse_qdq(g), 1);  // the pool only
  EXPECT_EQ(count(g, "Add"), 1);
  EXPECT_EQ(count(g, "QLinearAdd"), 0);
}

// Conv -> Clip(0, 6) -> Q: the Clip goes when Q's own saturation does it.
Graph relu6(float output_scale) {
  QdqConvOptions o;
  o.relu = false;
  Graph g = qdq_conv_graph(o);
  g.set_initializer("six", Tensor::scalar(6.f));
  g.set_initializer("zero", Tensor::scalar(0.f));
  g.set_initializer("ys", Tensor::scalar(output_scale));
  for (auto& n : g.nodes)
    if (n.op_type == "QuantizeLinear" && n.inputs[0] == "conv") n.inputs[0] = "clipped";
  Node clip;
  clip.name = "clip";
  clip.op_type = "Clip";
  clip.inputs = {"conv", "zero", "six"};
  clip.outputs = {"clipped"};
  g.values.try_emplace("clipped");
  auto conv = std::find_if(g.nodes.begin(), g.nodes.end(), [](const Node& n) { return n.op_type == "Conv"; });
  g.nodes.insert(conv + 1, clip);
  infer_shapes(g);
  return g;
}

TEST(QdqTransforms, Relu6GoesWhereTheQuantizationSaturatesAtItsBounds) {
  Graph exact = relu6(6.f / 255.f), narrower = relu6(4.f / 255.f), wider = relu6(8.f / 255.f);
  EXPECT_EQ(fuse_qdq(exact), 1);
  EXPECT_EQ(count(exact, "Clip"), 0);
  EXPECT_EQ(fuse_qdq(narrower), 1);  // everything above 4 saturates anyway
  EXPECT_EQ(fuse_qdq(wider), 0);     // 6 quantizes to 191: the Clip matters
  EXPECT_EQ(count(wider, "Clip"), 1);
}

TEST(QdqTransforms, MaxPoolBetweenEqualParametersPoolsTheIntegers) {
  Graph g = residual_and_head(0);
  // Replace the average pool by a max pool whose Q has the DQ's parameters.
  for (auto& n : g.nodes)
    if (n.op_type == "GlobalAveragePool") {
      n.op_type = "MaxPool";
      n.attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
    }
  for (auto& n : g.nodes)
    if (n.op_type == "QuantizeLinear" && n.inputs[0] == "pooled") n.inputs = {"pooled", "cs", "cz"};
  infer_shapes(g);
  EXPECT_EQ(fuse_qdq(g), 2);
  const Node& pool = only(g, "MaxPool");
  EXPECT_EQ(pool.inputs[0], "c");
  EXPECT_EQ(g.value("p").dtype, DType::kUInt8);
  EXPECT_EQ(count(g, "DequantizeLinear"), 0);
}

TEST(QdqTransforms, Uint8ActivationsBecomeInt8WithTheirZeroPoints128Lower) {
  Graph g = qdq_conv_graph({});  // uint8 activations, zero points 120 (input) and 0 (output)
  ASSERT_EQ(fuse_qdq(g), 1);
  EXPECT_GT(to_signed_activations(g), 0);
  for (const auto& [name, v] : g.values) {
    if (g.is_initializer(name)) continue;
    EXPECT_NE(v.dtype, DType::kUInt8) << name;
  }
  const Node& conv = only(g, "QLinearConv");
  EXPECT_EQ(g.initializer(conv.inputs[2])->to_int64(), std::vector<int64_t>{120 - 128});
  EXPECT_EQ(g.initializer(conv.inputs[7])->to_int64(), std::vector<int64_t>{-128});
  EXPECT_EQ(g.initializer(conv.inputs[3])->dtype(), DType::kInt8);  // the weights are untouched
}

TEST(QdqTransforms, Uint8GraphOutputsKeepTheirType) {
  Graph g = residual_and_head(0);  // its output 'p' is uint8
  EXPECT_EQ(to_signed_activations(g), 0);
  EXPECT_EQ(g.value("p").dtype, DType::kUInt8);
}

TEST(QdqTransforms, ConstantDequantizeFoldsToItsFloats) {
  QdqConvOptions o;
  o.per_channel = true;
  Graph g = qdq_conv_graph(o);
  auto wq = g.initializer("wq")->to_int64();
  auto ws = g.initializer("ws")->to_float();
  EXPECT_EQ(fold_constant_dequantize(g), 2);  // weights and bias
  const Tensor* w = g.initializer("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype(), DType::kFloat32);
  int64_t per_channel = w->numel() / 16;
  for (int64_t i = 0; i < w->numel(); ++i)
    ASSERT_EQ(w->data<float>()[i], static_cast<float>(wq[i] * static_cast<double>(ws[i / per_channel]))) << i;
  EXPECT_EQ(count(g, "DequantizeLinear"), 2);  // the activations' stay
}

}  // namespace
}  // namespace fluidedge::graph
