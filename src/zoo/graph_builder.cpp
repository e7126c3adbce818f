#include "zoo/graph_builder.h"

#include <cmath>

#include "graph/op_schema.h"
#include "graph/shape_inference.h"

namespace fluidedge::zoo {

GraphBuilder::Scope::Scope(GraphBuilder& b, const std::string& name) : b_(b) { b_.scope_.push_back(name); }
GraphBuilder::Scope::~Scope() { b_.scope_.pop_back(); }

GraphBuilder::GraphBuilder(std::string name, graph::Shape input_shape, uint64_t seed) : rng_(seed) {
  g_.name = std::move(name);
  input_ = "input";
  g_.inputs = {input_};
  g_.values[input_] = graph::ValueInfo{graph::DType::kFloat32, std::move(input_shape), true};
}

const graph::Shape& GraphBuilder::shape(const std::string& value) const { return g_.value(value).shape; }

std::string GraphBuilder::path(const std::string& name) const {
  std::string p;
  for (const auto& s : scope_) p += s + ".";
  return p + name;
}

std::string GraphBuilder::node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                               std::map<std::string, graph::Attribute> attrs, int outputs) {
  graph::Node n;
  n.name = fmt::format("/{}/{}_{}", path(name), op, counter_++);
  n.op_type = op;
  if (const graph::OpSchema* schema = graph::find_op_schema(op)) n.domain = schema->domain;  // com.microsoft ops
  n.inputs = std::move(inputs);
  for (int i = 0; i < outputs; ++i) n.outputs.push_back(fmt::format("{}_output_{}", n.name, i));
  n.attrs = std::move(attrs);
  for (const auto& o : n.outputs) g_.values.try_emplace(o);
  g_.nodes.push_back(n);
  graph::infer_node(g_, g_.nodes.back());
  return g_.nodes.back().outputs[0];
}

std::string GraphBuilder::param(const std::string& name, graph::Shape shape, float bound) {
  std::uniform_real_distribution<float> u(-bound, bound);
  graph::Tensor t(graph::DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng_);
  std::string full = path(name);
  g_.set_initializer(full, t);
  return full;
}

std::string GraphBuilder::constant(const std::string& name, graph::Tensor t) {
  std::string full = g_.unique_name(path(name));
  g_.set_initializer(full, std::move(t));
  return full;
}

// He-uniform weights (variance 2 / fan_in) keep activations of deep random networks finite.
std::string GraphBuilder::conv(const std::string& x, const std::string& name, int64_t out_channels, int64_t kernel,
                               int64_t stride, int64_t pad, int64_t groups, bool bias) {
  int64_t in = channels(x);
  int64_t fan_in = in / groups * kernel * kernel;
  float bound = std::sqrt(6.f / static_cast<float>(fan_in));
  std::vector<std::string> inputs = {x, param(name + ".weight", {out_channels, in / groups, kernel, kernel}, bound)};
  if (bias) inputs.push_back(param(name + ".bias", {out_channels}, 1.f / std::sqrt(static_cast<float>(fan_in))));
  std::map<std::string, graph::Attribute> attrs = {{"kernel_shape", std::vector<int64_t>{kernel, kernel}},
                                                   {"strides", std::vector<int64_t>{stride, stride}},
                                                   {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                                                   {"dilations", std::vector<int64_t>{1, 1}},
                                                   {"group", groups}};
  return node("Conv", name, inputs, attrs);
}

std::string GraphBuilder::batch_norm(const std::string& x, const std::string& name, float epsilon) {
  int64_t c = channels(x);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  auto vec = [&](float lo, float hi) {
    graph::Tensor t(graph::DType::kFloat32, {c});
    for (int64_t i = 0; i < c; ++i) t.data<float>()[i] = lo + (hi - lo) * u(rng_);
    return t;
  };
  std::string scale = path(name + ".weight"), bias = path(name + ".bias");
  std::string mean = path(name + ".running_mean"), var = path(name + ".running_var");
  g_.set_initializer(scale, vec(0.5f, 1.0f));
  g_.set_initializer(bias, vec(-0.1f, 0.1f));
  g_.set_initializer(mean, vec(-0.1f, 0.1f));
  g_.set_initializer(var, vec(0.8f, 1.2f));
  return node("BatchNormalization", name, {x, scale, bias, mean, var}, {{"epsilon", epsilon}, {"momentum", 0.9f}});
}

std::string GraphBuilder::relu(const std::string& x) { return node("Relu", "relu", {x}); }

std::string GraphBuilder::relu6(const std::string& x) {
  std::string lo = constant("relu6.min", graph::Tensor::scalar<float>(0.f));
  std::string hi = constant("relu6.max", graph::Tensor::scalar<float>(6.f));
  return node("Clip", "relu6", {x, lo, hi});
}

std::string GraphBuilder::sigmoid(const std::string& x) { return node("Sigmoid", "sigmoid", {x}); }

std::string GraphBuilder::activation(const std::string& op, const std::string& x) {
  if (op == "Swish") return silu(x);
  if (op == "LeakyRelu") return node(op, "leaky_relu", {x}, {{"alpha", 0.07f}});
  if (op == "HardSigmoid") return node(op, "hard_sigmoid", {x}, {{"alpha", 0.3f}, {"beta", 0.4f}});
  if (op == "Clip") {
    std::string lo = constant("clip.min", graph::Tensor::scalar<float>(-1.f));
    std::string hi = constant("clip.max", graph::Tensor::scalar<float>(1.5f));
    return node(op, "clip", {x, lo, hi});
  }
  return node(op, "activation", {x});
}

std::string GraphBuilder::silu(const std::string& x) { return node("Mul", "silu", {x, sigmoid(x)}); }

std::string GraphBuilder::max_pool(const std::string& x, int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode) {
  return node("MaxPool", "maxpool", {x},
              {{"kernel_shape", std::vector<int64_t>{kernel, kernel}},
               {"strides", std::vector<int64_t>{stride, stride}},
               {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
               {"ceil_mode", int64_t{ceil_mode ? 1 : 0}}});
}

std::string GraphBuilder::global_avg_pool(const std::string& x) { return node("GlobalAveragePool", "avgpool", {x}); }

std::string GraphBuilder::flatten(const std::string& x) {
  return node("Flatten", "flatten", {x}, {{"axis", int64_t{1}}});
}

std::string GraphBuilder::linear(const std::string& x, const std::string& name, int64_t out_features) {
  int64_t in = shape(x).at(1);
  float bound = 1.f / std::sqrt(static_cast<float>(in));
  std::string w = param(name + ".weight", {out_features, in}, bound);
  std::string b = param(name + ".bias", {out_features}, bound);
  return node("Gemm", name, {x, w, b}, {{"alpha", 1.f}, {"beta", 1.f}, {"transB", int64_t{1}}});
}

std::string GraphBuilder::add(const std::string& a, const std::string& b) { return node("Add", "add", {a, b}); }
std::string GraphBuilder::mul(const std::string& a, const std::string& b) { return node("Mul", "mul", {a, b}); }

std::string GraphBuilder::concat(const std::vector<std::string>& parts) {
  return node("Concat", "concat", parts, {{"axis", int64_t{1}}});
}

graph::Graph GraphBuilder::finish(const std::string& value) {
  for (auto& n : g_.nodes)
    for (auto& o : n.outputs)
      if (o == value) o = "output";
  g_.values["output"] = g_.values.at(value);
  g_.values.erase(value);
  g_.outputs = {"output"};
  graph::infer_shapes(g_);
  return std::move(g_);
}

graph::Graph GraphBuilder::finish(const std::vector<std::string>& values) {
  g_.outputs = values;
  graph::infer_shapes(g_);
  return std::move(g_);
}

}  // namespace fluidedge::zoo
