// A node of the graph: one operator application in ONNX (opset 17) semantics, with named
// inputs and outputs and typed attributes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "graph/tensor.h"

namespace fluidedge::graph {

using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>,
                               std::vector<std::string>, Tensor>;

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;                // "" for the default ONNX domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an omitted optional output
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  // Typed attribute access; a present attribute of the wrong type is a user-facing error.
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> fallback = {}) const;
  std::vector<float> attr_floats(const std::string& key, std::vector<float> fallback = {}) const;
  const Tensor& attr_tensor(const std::string& key) const;

  // The i-th input's name, or "" when the node has fewer inputs.
  const std::string& input(size_t i) const;
  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }

  // "node 'Conv_12' (Conv)" for messages.
  std::string describe() const;
};

}  // namespace fluidedge::graph
