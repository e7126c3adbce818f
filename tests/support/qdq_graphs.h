// Hand-made quantized graphs in ONNX's QDQ format, as PyTorch exports them: shared by the graph
// tests of the QDQ rewrites and the backend tests that run them (with the comparison those use).
#pragma once

#include <cmath>
#include <random>
#include <string>

#include "graph/graph.h"
#include "graph/shape_inference.h"
#include "graph/tensor.h"

namespace fluidedge::testing {

struct QdqConvOptions {
  int64_t channels = 8, outputs = 16, size = 9, kernel = 3, stride = 1, pad = 1, group = 1;
  bool per_channel = true;
  bool int8_activations = false;  // else uint8 (PyTorch's)
  bool relu = true;
  int32_t output_zero_point = 0;  // with relu, 0 (uint8) or -128 (int8) lets the saturation do it
  enum class Bias { kNone, kInt32, kFloat } bias = Bias::kInt32;
  uint32_t seed = 1;
};

// input (float [1, channels, size, size]) -> Q -> DQ -> Conv(DQ(int8 W), DQ(int32 bias)) ->
// [Relu] -> Q -> DQ -> "output".
inline graph::Graph qdq_conv_graph(const QdqConvOptions& o) {
  using graph::DType;
  using graph::Tensor;
  graph::Graph g;
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<float> u(0.7f, 1.4f);
  std::uniform_int_distribution<int> w8(-127, 127), b32(-3000, 3000);
  int node_count = 0;
  auto node = [&](std::string op, std::vector<std::string> in, std::string out,
                  std::map<std::string, graph::Attribute> attrs = {}) {
    graph::Node n;
    n.name = op + "_" + std::to_string(node_count++);
    n.op_type = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    g.values.try_emplace(out);
    g.nodes.push_back(std::move(n));
    return out;
  };
  DType act = o.int8_activations ? DType::kInt8 : DType::kUInt8;
  auto zero_point = [&](int32_t v, DType t) { return Tensor::scalar<int32_t>(v).cast(t); };
  g.inputs = {"input"};
  g.values["input"] = graph::ValueInfo{DType::kFloat32, {1, o.channels, o.size, o.size}, true};
  const float xs = 0.02f, ys = 0.05f;
  g.set_initializer("xs", Tensor::scalar(xs));
  g.set_initializer("xz", zero_point(o.int8_activations ? -3 : 120, act));
  g.set_initializer("ys", Tensor::scalar(ys));
  g.set_initializer("yz", zero_point(o.output_zero_point, act));
  node("QuantizeLinear", {"input", "xs", "xz"}, "xq");
  node("DequantizeLinear", {"xq", "xs", "xz"}, "x");

  int64_t scales = o.per_channel ? o.outputs : 1;
  std::vector<float> ws(static_cast<size_t>(scales));
  for (auto& s : ws) s = 0.004f * u(rng);
  std::vector<int8_t> w(static_cast<size_t>(o.outputs * o.channels / o.group * o.kernel * o.kernel));
  for (auto& v : w) v = static_cast<int8_t>(w8(rng));
  g.set_initializer("wq", Tensor::from_vector<int8_t>({o.outputs, o.channels / o.group, o.kernel, o.kernel}, w));
  g.set_initializer("ws", o.per_channel ? Tensor::from_vector<float>({scales}, ws) : Tensor::scalar(ws[0]));
  g.set_initializer("wz", o.per_channel ? Tensor::from_vector<int8_t>({scales}, std::vector<int8_t>(ws.size(), 0))
                                        : Tensor::scalar<int8_t>(0));
  node("DequantizeLinear", {"wq", "ws", "wz"}, "w", {{"axis", int64_t{0}}});
  std::vector<std::string> conv_in = {"x", "w"};
  std::vector<int32_t> bias(static_cast<size_t>(o.outputs));
  for (auto& b : bias) b = b32(rng);
  if (o.bias == QdqConvOptions::Bias::kInt32) {
    std::vector<float> bs(ws.size());
    for (size_t c = 0; c < ws.size(); ++c) bs[c] = xs * ws[c];
    g.set_initializer("bq", Tensor::from_vector<int32_t>({o.outputs}, bias));
    g.set_initializer("bs", o.per_channel ? Tensor::from_vector<float>({scales}, bs) : Tensor::scalar(bs[0]));
    g.set_initializer("bz", Tensor::from_vector<int32_t>({scales}, std::vector<int32_t>(bs.size(), 0)));
    conv_in.push_back(node("DequantizeLinear", {"bq", "bs", "bz"}, "b", {{"axis", int64_t{0}}}));
  } else if (o.bias == QdqConvOptions::Bias::kFloat) {
    std::vector<float> f(bias.size());
    for (size_t c = 0; c < f.size(); ++c) f[c] = static_cast<float>(bias[c]) * 1e-4f;
    g.set_initializer("bf", Tensor::from_vector<float>({o.outputs}, f));
    conv_in.push_back("bf");
  }
  std::string y = node("Conv", conv_in, "conv",
                       {{"kernel_shape", std::vector<int64_t>{o.kernel, o.kernel}},
                        {"strides", std::vector<int64_t>{o.stride, o.stride}},
                        {"pads", std::vector<int64_t>{o.pad, o.pad, o.pad, o.pad}},
                        {"group", o.group}});
  if (o.relu) y = node("Relu", {y}, "relu");
  node("QuantizeLinear", {y, "ys", "yz"}, "yq");
  node("DequantizeLinear", {"yq", "ys", "yz"}, "output");
  g.outputs = {"output"};
  graph::infer_shapes(g);
  return g;
}

struct QdqGemmOptions {
  int64_t rows = 3, inputs = 40, outputs = 24;
  bool per_channel = true;
  bool transposed = true;  // Gemm's transB: weights [outputs, inputs] (PyTorch's Linear), else [inputs, outputs]
  bool bias = true;        // DequantizeLinear(int32) at x_scale * w_scale
  uint32_t seed = 1;
};

// input (float [rows, inputs]) -> Q -> DQ -> Gemm(DQ(int8 W), DQ(int32 bias)) -> Q -> DQ -> "output",
// uint8 activations (PyTorch's Linear, as exported).
inline graph::Graph qdq_gemm_graph(const QdqGemmOptions& o) {
  using graph::DType;
  using graph::Tensor;
  graph::Graph g;
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<float> u(0.7f, 1.4f);
  std::uniform_int_distribution<int> w8(-127, 127), b32(-3000, 3000);
  auto node = [&](std::string op, std::vector<std::string> in, std::string out,
                  std::map<std::string, graph::Attribute> attrs = {}) {
    graph::Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op_type = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    g.values.try_emplace(out);
    g.nodes.push_back(std::move(n));
  };
  g.inputs = {"input"};
  g.values["input"] = graph::ValueInfo{DType::kFloat32, {o.rows, o.inputs}, true};
  const float xs = 0.02f;
  g.set_initializer("xs", Tensor::scalar(xs));
  g.set_initializer("xz", Tensor::scalar<uint8_t>(120));
  g.set_initializer("ys", Tensor::scalar(0.05f));
  g.set_initializer("yz", Tensor::scalar<uint8_t>(128));
  node("QuantizeLinear", {"input", "xs", "xz"}, "xq");
  node("DequantizeLinear", {"xq", "xs", "xz"}, "x");
  const int64_t scales = o.per_channel ? o.outputs : 1;
  std::vector<float> ws(static_cast<size_t>(scales));
  for (auto& v : ws) v = 0.004f * u(rng);
  std::vector<int8_t> w(static_cast<size_t>(o.outputs * o.inputs));
  for (auto& v : w) v = static_cast<int8_t>(w8(rng));
  g.set_initializer("wq", Tensor::from_vector<int8_t>(
                              o.transposed ? graph::Shape{o.outputs, o.inputs} : graph::Shape{o.inputs, o.outputs}, w));
  g.set_initializer("ws", o.per_channel ? Tensor::from_vector<float>({scales}, ws) : Tensor::scalar(ws[0]));
  g.set_initializer("wz", o.per_channel ? Tensor::from_vector<int8_t>({scales}, std::vector<int8_t>(ws.size(), 0))
                                        : Tensor::scalar<int8_t>(0));
  node("DequantizeLinear", {"wq", "ws", "wz"}, "w", {{"axis", int64_t{o.transposed ? 0 : 1}}});
  std::vector<std::string> gemm_in = {"x", "w"};
  if (o.bias) {
    std::vector<int32_t> bias(static_cast<size_t>(o.outputs));
    for (auto& b : bias) b = b32(rng);
    std::vector<float> bs(ws.size());
    for (size_t c = 0; c < ws.size(); ++c) bs[c] = xs * ws[c];
    g.set_initializer("bq", Tensor::from_vector<int32_t>({o.outputs}, bias));
    g.set_initializer("bs", o.per_channel ? Tensor::from_vector<float>({scales}, bs) : Tensor::scalar(bs[0]));
    g.set_initializer("bz", Tensor::from_vector<int32_t>({scales}, std::vector<int32_t>(bs.size(), 0)));
    node("DequantizeLinear", {"bq", "bs", "bz"}, "b", {{"axis", int64_t{0}}});
    gemm_in.push_back("b");
  }
  node("Gemm", gemm_in, "gemm", {{"transB", int64_t{o.transposed ? 1 : 0}}});
  node("QuantizeLinear", {"gemm", "ys", "yz"}, "yq");
  node("DequantizeLinear", {"yq", "ys", "yz"}, "output");
  g.outputs = {"output"};
  graph::infer_shapes(g);
  return g;
}

// How far an integer kernel's output is from the reference's (ONNX's definition computed in
// float): the integer kernel rounds once, so a value on a rounding boundary may land one
// quantization step (`step`) away. Returns the share of exactly equal elements, or -1 when an
// element is more than a step away or the shapes differ.
inline double share_exact_within_one_step(const graph::Tensor& got, const graph::Tensor& want, float step) {
  if (got.shape() != want.shape()) return -1;
  auto a = got.to_float(), b = want.to_float();
  int64_t exact = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= step * 1.001f)) return -1;
    exact += d == 0;
  }
  return a.empty() ? 1.0 : static_cast<double>(exact) / static_cast<double>(a.size());
}

}  // namespace fluidedge::testing
