// What fluidedge knows about each operator independent of any backend: arity, which inputs
// must be constant, how output types and shapes follow from the inputs, and how many
// multiply-accumulates it costs. Adding an op means adding one schema (in ops/) and one kernel
// per backend.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::graph {

// Passed to an op's shape function: the node, its inputs' types and shapes, and the values of
// inputs that are constant. The function fills `outputs` (one per node output).
struct InferContext {
  const Node& node;
  std::vector<const ValueInfo*> inputs;  // nullptr for omitted optional inputs
  std::vector<const Tensor*> constants;  // non-null where the input is an initializer
  std::vector<ValueInfo> outputs;

  size_t input_count() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  const ValueInfo& in(size_t i) const;
  const Shape& shape(size_t i) const { return in(i).shape; }
  int64_t rank(size_t i) const { return static_cast<int64_t>(in(i).shape.size()); }
  // The input's value if it is an initializer; otherwise a user-facing error explaining that
  // `what` must be constant.
  const Tensor& constant(size_t i, const char* what) const;
  void set_output(size_t i, DType dtype, Shape shape);

  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    fail("{}: {}", node.describe(), fmt::format(format, std::forward<Args>(args)...));
  }
};

struct OpSchema {
  std::string type;
  int min_inputs = 1;
  int max_inputs = 1;
  int max_outputs = 1;
  // Folded away at import when its inputs are constant; never executed by a backend.
  bool fold_only = false;
  void (*infer)(InferContext&) = nullptr;
  // Multiply-accumulates of one execution, given the inferred input and output infos.
  int64_t (*macs)(const Node&, const std::vector<const ValueInfo*>& in,
                  const std::vector<const ValueInfo*>& out) = nullptr;
};

// The schema for an op type in the default ONNX domain, or nullptr.
const OpSchema* find_op_schema(std::string_view op_type);
// Op types a backend may be asked to execute (fold-only ops excluded), sorted.
std::vector<std::string> supported_ops();

// Normalises a possibly negative axis against `rank`; error naming the node if out of range.
int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank);
// Numpy-style multidirectional broadcast of two shapes; error naming the node if incompatible.
Shape broadcast_shapes(const Node& node, const Shape& a, const Shape& b);

// Resolved window geometry of a convolution or pooling node over the spatial dims of `input`
// (N, C, spatial...): explicit pads at both ends, whatever auto_pad and ceil_mode say.
struct WindowGeometry {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end, output;
};
WindowGeometry window_geometry(const Node& node, const Shape& input,
                               const std::vector<int64_t>& kernel, bool ceil_mode);

}  // namespace fluidedge::graph
