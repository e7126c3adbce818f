// A small layer-level builder of IR graphs: each call adds one PyTorch-style layer as the ONNX
// nodes PyTorch's exporter would write (Conv, BatchNormalization, Clip for ReLU6, Sigmoid+Mul
// for SiLU, Flatten+Gemm for Linear), names values after the module path, infers shapes as it
// goes and draws weights from a seeded generator.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::zoo {

class GraphBuilder {
 public:
  GraphBuilder(std::string name, graph::Shape input_shape, uint64_t seed);

  // Module path prefix for the layers added while the returned guard lives ("layer1.0").
  class Scope {
   public:
    Scope(GraphBuilder& b, const std::string& name);
    ~Scope();

   private:
    GraphBuilder& b_;
  };

  const std::string& input() const { return input_; }
  const graph::Shape& shape(const std::string& value) const;
  int64_t channels(const std::string& value) const { return shape(value).at(1); }

  std::string conv(const std::string& x, const std::string& name, int64_t out_channels, int64_t kernel,
                   int64_t stride = 1, int64_t pad = 0, int64_t groups = 1, bool bias = false);
  std::string batch_norm(const std::string& x, const std::string& name, float epsilon = 1e-5f);
  std::string relu(const std::string& x);
  std::string relu6(const std::string& x);
  std::string silu(const std::string& x);
  std::string sigmoid(const std::string& x);
  // A one-input activation by ONNX op (Relu, LeakyRelu, Sigmoid, Tanh, HardSwish, HardSigmoid
  // with non-default alpha and beta, Clip to [-1, 1.5]) or "Swish" (SiLU as exporters write it).
  std::string activation(const std::string& op, const std::string& x);
  std::string max_pool(const std::string& x, int64_t kernel, int64_t stride, int64_t pad = 0, bool ceil_mode = false);
  std::string global_avg_pool(const std::string& x);
  std::string flatten(const std::string& x);
  std::string linear(const std::string& x, const std::string& name, int64_t out_features);
  std::string add(const std::string& a, const std::string& b);
  std::string mul(const std::string& a, const std::string& b);
  std::string concat(const std::vector<std::string>& parts);

  // Any op (its output 0 is returned; `outputs` > 1 names the rest "<output>.1", ...), a
  // parameter uniform in [-bound, bound], a constant: for layers without their own call above.
  std::string node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                   std::map<std::string, graph::Attribute> attrs = {}, int outputs = 1);
  std::string param(const std::string& name, graph::Shape shape, float bound);
  std::string constant(const std::string& name, graph::Tensor t);

  // Marks `value` as the graph output (renamed "output") and returns the finished graph.
  graph::Graph finish(const std::string& value);
  // Marks several values as outputs, keeping their names.
  graph::Graph finish(const std::vector<std::string>& values);

 private:
  std::string path(const std::string& name) const;

  graph::Graph g_;
  std::string input_;
  std::vector<std::string> scope_;
  std::mt19937_64 rng_;
  int counter_ = 0;
};

}  // namespace fluidedge::zoo
