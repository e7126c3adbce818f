// Hand-made quantized graphs in ONNX's QDQ format, as PyTorch exports them: shared by the graph
// tests of the QDQ rewrites and the backend tests that run them (with the comparison those use).
#pragma once

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

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

struct QdqGemmOptions {
  int64_t rows = 3, inputs = 40, outputs = 24;
  bool per_channel = true;
  bool transposed = true;  // Gemm's transB: weights [outputs, inputs] (PyTorch's Linear), else [inputs, outputs]
  bool bias = true;        // DequantizeLinear(int32) at x_scale * w_scale
  uint32_t seed = 1;
};

namespace qdq_graph_parts {

// A node named after its op and its place in `g`; returns its output.
inline std::string add_node(graph::Graph& g, std::string op, std::vector<std::string> in, std::string out,
                            std::map<std::string, graph::Attribute> attrs = {}) {
  graph::Node n;
  n.name = op + "_" + std::to_string(g.nodes.size());
  n.op_type = std::move(op);
  n.inputs = std::move(in);
  n.outputs = {out};
  n.attrs = std::move(attrs);
  g.values.try_emplace(out);
  g.nodes.push_back(std::move(n));
  return out;
}

// Random symmetric int8 weights "wq" of `shape` behind DequantizeLinear -> "w", with one scale
// per channel along `axis` (`channels` of them) or one for all; returns the scales.
inline std::vector<float> add_int8_weights(graph::Graph& g, std::mt19937& rng, const graph::Shape& shape,
                                           bool per_channel, int64_t channels, int64_t axis) {
  std::uniform_real_distribution<float> u(0.7f, 1.4f);
  std::uniform_int_distribution<int> w8(-127, 127);
  const int64_t scales = per_channel ? channels : 1;
  std::vector<float> ws(static_cast<size_t>(scales));
  for (auto& s : ws) s = 0.004f * u(rng);
  std::vector<int8_t> w(static_cast<size_t>(graph::shape_numel(shape)));
  for (auto& v : w) v = static_cast<int8_t>(w8(rng));
  g.set_initializer("wq", graph::Tensor::from_vector<int8_t>(shape, w));
  g.set_initializer("ws", per_channel ? graph::Tensor::from_vector<float>({scales}, ws) : graph::Tensor::scalar(ws[0]));
  g.set_initializer("wz", per_channel ? graph::Tensor::from_vector<int8_t>({scales}, std::vector<int8_t>(ws.size(), 0))
                                      : graph::Tensor::scalar<int8_t>(0));
  add_node(g, "DequantizeLinear", {"wq", "ws", "wz"}, "w", {{"axis", axis}});
  return ws;
}

// The int32 bias "bq" at x_scale * w_scale behind DequantizeLinear -> "b" (returned).
inline std::string add_int32_bias(graph::Graph& g, const std::vector<int32_t>& bias, float x_scale,
                                  const std::vector<float>& w_scales, bool per_channel) {
  std::vector<float> bs(w_scales.size());
  for (size_t c = 0; c < w_scales.size(); ++c) bs[c] = x_scale * w_scales[c];
  const auto scales = static_cast<int64_t>(bs.size());
  g.set_initializer("bq", graph::Tensor::from_vector<int32_t>({static_cast<int64_t>(bias.size())}, bias));
  g.set_initializer("bs", per_channel ? graph::Tensor::from_vector<float>({scales}, bs) : graph::Tensor::scalar(bs[0]));
  g.set_initializer("bz", graph::Tensor::from_vector<int32_t>({scales}, std::vector<int32_t>(bs.size(), 0)));
  return add_node(g, "DequantizeLinear", {"bq", "bs", "bz"}, "b", {{"axis", int64_t{0}}});
}

inline std::vector<int32_t> random_bias(std::mt19937& rng, int64_t count) {
  std::uniform_int_distribution<int> b32(-3000, 3000);
  std::vector<int32_t> bias(static_cast<size_t>(count));
  for (auto& b : bias) b = b32(rng);
  return bias;
}

}  // namespace qdq_graph_parts

// input (float [1, channels, size, size]) -> Q -> DQ -> Conv(DQ(int8 W), DQ(int32 bias)) ->
// [Relu] -> Q -> DQ -> "output".
inline graph::Graph qdq_conv_graph(const QdqConvOptions& o) {
  using graph::DType;
  using graph::Tensor;
  using namespace qdq_graph_parts;
  graph::Graph g;
  std::mt19937 rng(o.seed);
  DType act = o.int8_activations ? DType::kInt8 : DType::kUInt8;
  auto zero_point = [&](int32_t v, DType t) { return Tensor::scalar<int32_t>(v).cast(t); };
  g.inputs = {"input"};
  g.values["input"] = graph::ValueInfo{DType::kFloat32, {1, o.channels, o.size, o.size}, true};
  const float xs = 0.02f, ys = 0.05f;
  g.set_initializer("xs", Tensor::scalar(xs));
  g.set_initializer("xz", zero_point(o.int8_activations ? -3 : 120, act));
  g.set_initializer("ys", Tensor::scalar(ys));
  g.set_initializer("yz", zero_point(o.output_zero_point, act));
  add_node(g, "QuantizeLinear", {"input", "xs", "xz"}, "xq");
  add_node(g, "DequantizeLinear", {"xq", "xs", "xz"}, "x");

  const std::vector<float> ws =
      add_int8_weights(g, rng, {o.outputs, o.channels / o.group, o.kernel, o.kernel}, o.per_channel, o.outputs, 0);
  std::vector<std::string> conv_in = {"x", "w"};
  const std::vector<int32_t> bias = random_bias(rng, o.outputs);
  if (o.bias == QdqConvOptions::Bias::kInt32) {
    conv_in.push_back(add_int32_bias(g, bias, xs, ws, o.per_channel));
  } else if (o.bias == QdqConvOptions::Bias::kFloat) {
    std::vector<float> f(bias.size());
    for (size_t c = 0; c < f.size(); ++c) f[c] = static_cast<float>(bias[c]) * 1e-4f;
    g.set_initializer("bf", Tensor::from_vector<float>({o.outputs}, f));
    conv_in.push_back("bf");
  }
  std::string y = add_node(g, "Conv", conv_in, "conv",
                           {{"kernel_shape", std::vector<int64_t>{o.kernel, o.kernel}},
                            {"strides", std::vector<int64_t>{o.stride, o.stride}},
                            {"pads", std::vector<int64_t>{o.pad, o.pad, o.pad, o.pad}},
                            {"group", o.group}});
  if (o.relu) y = add_node(g, "Relu", {y}, "relu");
  add_node(g, "QuantizeLinear", {y, "ys", "yz"}, "yq");
  add_node(g, "DequantizeLinear", {"yq", "ys", "yz"}, "output");
  g.outputs = {"output"};
  graph::infer_shapes(g);
  return g;
}

// input (float [rows, inputs]) -> Q -> DQ -> Gemm(DQ(int8 W), DQ(int32 bias)) -> Q -> DQ -> "output",
// uint8 activations (PyTorch's Linear, as exported).
inline graph::Graph qdq_gemm_graph(const QdqGemmOptions& o) {
  using graph::DType;
  using graph::Tensor;
  using namespace qdq_graph_parts;
  graph::Graph g;
  std::mt19937 rng(o.seed);
  g.inputs = {"input"};
  g.values["input"] = graph::ValueInfo{DType::kFloat32, {o.rows, o.inputs}, true};
  const float xs = 0.02f;
  g.set_initializer("xs", Tensor::scalar(xs));
  g.set_initializer("xz", Tensor::scalar<uint8_t>(120));
  g.set_initializer("ys", Tensor::scalar(0.05f));
  g.set_initializer("yz", Tensor::scalar<uint8_t>(128));
  add_node(g, "QuantizeLinear", {"input", "xs", "xz"}, "xq");
  add_node(g, "DequantizeLinear", {"xq", "xs", "xz"}, "x");
  const graph::Shape shape = o.transposed ? graph::Shape{o.outputs, o.inputs} : graph::Shape{o.inputs, o.outputs};
  const std::vector<float> ws = add_int8_weights(g, rng, shape, o.per_channel, o.outputs, o.transposed ? 0 : 1);
  std::vector<std::string> gemm_in = {"x", "w"};
  if (o.bias) gemm_in.push_back(add_int32_bias(g, random_bias(rng, o.outputs), xs, ws, o.per_channel));
  add_node(g, "Gemm", gemm_in, "gemm", {{"transB", int64_t{o.transposed ? 1 : 0}}});
  add_node(g, "QuantizeLinear", {"gemm", "ys", "yz"}, "yq");
  add_node(g, "DequantizeLinear", {"yq", "ys", "yz"}, "output");
  g.outputs = {"output"};
  graph::infer_shapes(g);
  return g;
}

// The convolutions the backends' int8 tests run: dense per channel, per tensor, int8 activations,
// strided without bias, depthwise, 1x1 without Relu, float bias; each seeded apart.
inline std::vector<QdqConvOptions> qdq_conv_cases() {
  std::vector<QdqConvOptions> cases(7);
  cases[1].per_channel = false;
  cases[2].int8_activations = true, cases[2].output_zero_point = -128;
  cases[3].stride = 2, cases[3].bias = QdqConvOptions::Bias::kNone;
  cases[4].group = 8, cases[4].outputs = 8;  // depthwise
  cases[5].relu = false, cases[5].output_zero_point = 131, cases[5].kernel = 1, cases[5].pad = 0;
  cases[6].bias = QdqConvOptions::Bias::kFloat;
  for (size_t k = 0; k < cases.size(); ++k) cases[k].seed = static_cast<uint32_t>(k + 1);
  return cases;
}

// The inner products they run: per channel (PyTorch's layout), per tensor untransposed, one row
// without bias.
inline std::vector<QdqGemmOptions> qdq_gemm_cases() {
  std::vector<QdqGemmOptions> cases(3);
  cases[1].per_channel = false, cases[1].transposed = false;
  cases[2].bias = false, cases[2].rows = 1;
  return cases;
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
