// Small builders for hand-made graphs in graph tests.
#pragma once

#include <random>

#include "graph/graph.h"

namespace fluidedge::graph::testing {

inline void add_input(Graph& g, const std::string& name, Shape shape, DType dtype = DType::kFloat32) {
  g.inputs.push_back(name);
  g.values[name] = ValueInfo{dtype, std::move(shape), true};
}

inline Tensor random_weights(Shape shape, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& x : v) x = u(rng);
  return Tensor::from_vector<float>(std::move(shape), v);
}

inline Node& add_node(Graph& g, std::string op, std::vector<std::string> in, std::vector<std::string> out,
                      std::map<std::string, Attribute> attrs = {}) {
  Node n;
  n.name = op + "_" + std::to_string(g.nodes.size());
  n.op_type = std::move(op);
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  for (const auto& o : n.outputs) g.values.try_emplace(o);
  g.nodes.push_back(std::move(n));
  return g.nodes.back();
}

}  // namespace fluidedge::graph::testing
