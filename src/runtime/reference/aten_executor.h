// Evaluates a graph node by node on ATen tensors. It is the reference backend's engine (the
// oracle every other backend is checked against) and the trainer's forward pass: every op is a
// functional ATen call, so gradients flow through it with ATen autograd.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "graph/graph.h"

namespace fluidedge::runtime::reference {

at::Tensor to_aten(const graph::Tensor& t);
graph::Tensor from_aten(const at::Tensor& t);
at::ScalarType aten_type(graph::DType dtype);

class AtenExecutor {
 public:
  explicit AtenExecutor(const graph::Graph& graph);

  const graph::Graph& graph() const { return graph_; }
  // The initializers as ATen tensors. Mutable: a trainer marks them requires_grad and updates
  // them in place; BatchNormalization in training mode updates its running statistics here.
  std::map<std::string, at::Tensor>& parameters() { return params_; }

  // Runs the graph; returns every graph output. In `training` mode BatchNormalization uses batch
  // statistics (and updates the running ones) and Dropout is active.
  std::map<std::string, at::Tensor> forward(const std::map<std::string, at::Tensor>& inputs, bool training = false);
  // As forward(), returning the named values (graph outputs or intermediates) instead.
  std::map<std::string, at::Tensor> evaluate(const std::map<std::string, at::Tensor>& inputs,
                                             const std::vector<std::string>& wanted, bool training = false);

 private:
  graph::Graph graph_;
  std::map<std::string, at::Tensor> params_;
};

}  // namespace fluidedge::runtime::reference
