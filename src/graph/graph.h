// The graph IR every layer of fluidedge speaks: values with static types and shapes, nodes in
// topological order, and initializers (weights and constants). Values are referred to by
// name, as in ONNX, which keeps sub-graph extraction and rewriting simple.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/node.h"
#include "graph/tensor.h"

namespace fluidedge::graph {

struct ValueInfo {
  DType dtype = DType::kUndefined;
  Shape shape;             // static; dimension 0 of graph inputs is the batch
  bool has_shape = false;  // false until shape inference has run for this value
};

class Graph {
 public:
  std::string name = "graph";
  int64_t opset = 17;               // semantics of every node are those of this opset
  std::vector<std::string> inputs;  // runtime inputs (never initializers)
  std::vector<std::string> outputs;
  std::vector<Node> nodes;  // topological order (see topological_sort)
  std::map<std::string, Tensor> initializers;
  std::map<std::string, ValueInfo> values;  // every named value, initializers included

  bool has_value(const std::string& name) const { return values.count(name) != 0; }
  // Type and shape of a value; a user-facing error if it is unknown.
  const ValueInfo& value(const std::string& name) const;
  ValueInfo& value(const std::string& name);
  bool is_initializer(const std::string& name) const { return initializers.count(name) != 0; }
  // Whether `name` is one of the graph's outputs.
  bool is_output(const std::string& name) const {
    return std::find(outputs.begin(), outputs.end(), name) != outputs.end();
  }
  // The initializer of that name, or nullptr.
  const Tensor* initializer(const std::string& name) const;

  // Adds or replaces an initializer and records its ValueInfo.
  void set_initializer(const std::string& name, Tensor tensor);

  // Index of the node producing `value`, or -1 for graph inputs and initializers.
  int producer(const std::string& value) const;
  // Indices of the nodes reading `value`.
  std::vector<int> consumers(const std::string& value) const;

  // Reorders nodes topologically (stable: keeps the current order where it is valid). Throws
  // if the graph has a cycle or reads a value nothing defines.
  void topological_sort();
  // A value name not used yet in the graph, starting with `prefix`.
  std::string unique_name(const std::string& prefix) const;
  // Removes initializers and values no node or output refers to.
  void prune_unused();

  // Total element count of the float initializers of rank >= 1, batch-norm running statistics
  // excluded: the model's parameters as PyTorch counts them.
  int64_t parameter_count() const;
};

}  // namespace fluidedge::graph
