// What fluidedge knows about each operator independent of any backend: arity, which inputs
// must be constant, how output types and shapes follow from the inputs, how many
// multiply-accumulates it costs, and the traits the optimisers and planners ask about (is it an
// activation, does it only reinterpret a shape, does a kernel of it keep its input's layout).
// Adding an op means adding one schema (in ops/) and one line in each backend's op table
// (docs/architecture.md, "Adding an op").
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "graph/activation.h"
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

// Properties of an op that code outside its schema asks about; or-ed into OpSchema::traits.
enum OpTrait : unsigned {
  kNoTraits = 0,
  // Output 0 is input 0's elements reinterpreted in another shape (or passed through): a runtime
  // aliases it and it costs no compute (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout).
  kShapeOnly = 1u << 0,
  // A kernel of it takes its first input in whatever layout that has (plain, channels-last,
  // channel-blocked) and gives its output the same: pools, batch norm, broadcasting arithmetic,
  // Concat and the activations.
  kFollowsInputLayout = 1u << 1,
  // It reads or writes quantized integers (uint8, int8, int32) where the other ops take floats:
  // the quantization ops. Lean backends run it on the integer types its schema allows.
  kQuantized = 1u << 2,
};

struct OpSchema {
  std::string type;
  int min_inputs = 1;
  int max_inputs = 1;
  int max_outputs = 1;
  // Folded away at import when its inputs are constant; never executed by a backend.
  bool fold_only = false;
  unsigned traits = kNoTraits;
  // The elementwise activation the op is (fusable into a preceding operator), if it is one.
  std::optional<Activation> activation = std::nullopt;
  void (*infer)(InferContext&) = nullptr;
  // Multiply-accumulates of one execution, given the inferred input and output infos.
  int64_t (*macs)(const Node&, const std::vector<const ValueInfo*>& in,
                  const std::vector<const ValueInfo*>& out) = nullptr;
  // "" for the default ONNX domain; "com.microsoft" for ONNX Runtime's contrib ops that quantized
  // models use (QLinearAdd, QLinearGlobalAveragePool), "ai.fluidedge" for the lean backends' own.
  std::string domain = "";
};

// The schema for an op type (in the default ONNX domain or its own, see OpSchema::domain), or nullptr.
const OpSchema* find_op_schema(std::string_view op_type);
// Op types a backend may be asked to execute (fold-only ops excluded), sorted.
std::vector<std::string> supported_ops();
// Every op type the importer accepts: supported_ops(), the ones folded away at import
// (Shape, Gather, Cast) and Constant (made an initializer).
std::vector<std::string> importable_ops();
// Whether `op_type` has a schema with `trait` (false for unknown ops).
bool op_has_trait(std::string_view op_type, OpTrait trait);
// The activation `op_type` is, if its schema names one.
std::optional<Activation> op_activation(std::string_view op_type);

// Normalises a possibly negative axis against `rank`; error naming the node if out of range.
int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank);
// Numpy-style multidirectional broadcast of two shapes; error naming the node if incompatible.
Shape broadcast_shapes(const Node& node, const Shape& a, const Shape& b);

// The axes a reduction node reduces over (normalised, sorted), from its constant `axes` input
// (nullptr when absent): all of them when none are listed, unless noop_with_empty_axes says none.
std::set<int64_t> reduced_axes(const Node& node, const Tensor* axes, int64_t rank);

// Where a Slice node reads its input from: per input dim, the first element and the step, and
// the output shape. `starts`, `ends` and optional `axes`, `steps` are its constant inputs 1..4.
struct SliceGeometry {
  std::vector<int64_t> start, step;
  Shape output;
};
SliceGeometry slice_geometry(const Node& node, const Shape& input, const Tensor& starts, const Tensor& ends,
                             const Tensor* axes, const Tensor* steps);

// Resolved window geometry of a convolution or pooling node over the spatial dims of `input`
// (N, C, spatial...): explicit pads at both ends, whatever auto_pad and ceil_mode say.
struct WindowGeometry {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end, output;
};
WindowGeometry window_geometry(const Node& node, const Shape& input, const std::vector<int64_t>& kernel,
                               bool ceil_mode);

}  // namespace fluidedge::graph
