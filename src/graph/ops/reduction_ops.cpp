// Shape of the reductions (ReduceMean, ReduceMax, ReduceSum, ReduceL2) and of
// LayerNormalization. The importer gives every reduction its axes as input 1, whichever opset
// the model declares (an attribute before opset 18, ReduceSum's input from opset 13).
#include <set>

#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void infer_reduce(InferContext& c) {
  const Shape& in = c.shape(0);
  if (!dtype_is_float(c.in(0).dtype))
    c.error("input '{}' is {}; a floating-point tensor is required", c.node.inputs[0], dtype_name(c.in(0).dtype));
  std::set<int64_t> axes = reduced_axes(c.node, c.has_input(1) ? &c.constant(1, "axes") : nullptr, c.rank(0));
  bool keep = c.node.attr_int("keepdims", 1) != 0;
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!axes.count(static_cast<int64_t>(i)))
      out.push_back(in[i]);
    else if (keep)
      out.push_back(1);
  }
  c.set_output(0, c.in(0).dtype, out);
}

void infer_layer_norm(InferContext& c) {
  const Shape& x = c.shape(0);
  if (!dtype_is_float(c.in(0).dtype))
    c.error("input '{}' is {}; a floating-point tensor is required", c.node.inputs[0], dtype_name(c.in(0).dtype));
  int64_t axis = normalize_axis(c.node, c.node.attr_int("axis", -1), c.rank(0));
  Shape normalized(x.begin() + axis, x.end());
  for (size_t i = 1; i < 3; ++i)
    if (c.has_input(i) && broadcast_shapes(c.node, normalized, c.shape(i)) != normalized)
      c.error("{} '{}' of shape {} does not broadcast to the normalised shape {}", i == 1 ? "scale" : "bias",
              c.node.inputs[i], shape_str(c.shape(i)), shape_str(normalized));
  c.set_output(0, c.in(0).dtype, x);
  // Mean and InvStdDev: the input's shape with the normalised dims 1.
  Shape stats(x.begin(), x.begin() + axis);
  stats.resize(x.size(), 1);
  for (size_t i = 1; i < c.node.outputs.size(); ++i)
    if (!c.node.outputs[i].empty()) c.set_output(i, DType::kFloat32, stats);
}

}  // namespace

std::vector<OpSchema> reduction_schemas() {
  std::vector<OpSchema> out;
  for (const char* op : {"ReduceMean", "ReduceMax", "ReduceSum", "ReduceL2"})
    out.push_back({.type = op, .min_inputs = 1, .max_inputs = 2, .infer = infer_reduce});
  out.push_back(
      {.type = "LayerNormalization", .min_inputs = 2, .max_inputs = 3, .max_outputs = 3, .infer = infer_layer_norm});
  return out;
}

}  // namespace fluidedge::graph::ops
