// Shape of the elementwise ops: binary arithmetic with broadcasting, activations, batch
// normalisation and softmax (which keep their input's shape).
#include <algorithm>

#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void infer_binary(InferContext& c) {
  if (c.in(0).dtype != c.in(1).dtype)
    c.error("inputs '{}' ({}) and '{}' ({}) must have the same type", c.node.inputs[0],
            dtype_name(c.in(0).dtype), c.node.inputs[1], dtype_name(c.in(1).dtype));
  c.set_output(0, c.in(0).dtype, broadcast_shapes(c.node, c.shape(0), c.shape(1)));
}

void infer_same(InferContext& c) { c.set_output(0, c.in(0).dtype, c.shape(0)); }

void infer_float_same(InferContext& c) {
  if (!dtype_is_float(c.in(0).dtype))
    c.error("input '{}' is {}; a floating-point tensor is required", c.node.inputs[0],
            dtype_name(c.in(0).dtype));
  infer_same(c);
}

void infer_clip(InferContext& c) {
  for (size_t i = 1; i < 3; ++i)
    if (c.has_input(i) && shape_numel(c.shape(i)) != 1)
      c.error("'{}' must be a scalar, got shape {}", i == 1 ? "min" : "max",
              shape_str(c.shape(i)));
  infer_same(c);
}

void infer_dropout(InferContext& c) {
  infer_same(c);
  if (c.node.outputs.size() > 1 && !c.node.outputs[1].empty())
    c.set_output(1, DType::kBool, c.shape(0));
}

void infer_batch_norm(InferContext& c) {
  const Shape& x = c.shape(0);
  if (x.size() < 2) c.error("input has shape {}; expected (N, C, ...)", shape_str(x));
  for (size_t i = 1; i < 5; ++i)
    if (c.shape(i) != Shape{x[1]})
      c.error("'{}' has shape {}; expected [{}] (one per channel)", c.node.inputs[i],
              shape_str(c.shape(i)), x[1]);
  if (c.node.attr_int("training_mode", 0) != 0 ||
      (c.node.outputs.size() > 1 &&
       std::any_of(c.node.outputs.begin() + 1, c.node.outputs.end(),
                   [](const std::string& s) { return !s.empty(); })))
    c.error("training-mode batch normalisation is not supported; export the model in eval mode");
  infer_float_same(c);
}

void infer_softmax(InferContext& c) {
  normalize_axis(c.node, c.node.attr_int("axis", -1), c.rank(0));
  infer_float_same(c);
}

int64_t binary_macs(const Node&, const std::vector<const ValueInfo*>&,
                    const std::vector<const ValueInfo*>&) {
  return 0;
}

}  // namespace

std::vector<OpSchema> elementwise_schemas() {
  std::vector<OpSchema> out;
  for (const char* op : {"Add", "Sub", "Mul", "Div"})
    out.push_back({.type = op, .min_inputs = 2, .max_inputs = 2, .infer = infer_binary,
                   .macs = binary_macs});
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu"})
    out.push_back({.type = op, .min_inputs = 1, .max_inputs = 1, .infer = infer_float_same});
  out.push_back({.type = "Identity", .min_inputs = 1, .max_inputs = 1, .infer = infer_same});
  out.push_back({.type = "Clip", .min_inputs = 1, .max_inputs = 3, .infer = infer_clip});
  out.push_back({.type = "Dropout", .min_inputs = 1, .max_inputs = 3, .max_outputs = 2,
                 .infer = infer_dropout});
  out.push_back({.type = "BatchNormalization", .min_inputs = 5, .max_inputs = 5, .max_outputs = 3,
                 .infer = infer_batch_norm});
  out.push_back({.type = "Softmax", .min_inputs = 1, .max_inputs = 1, .infer = infer_softmax});
  return out;
}

}  // namespace fluidedge::graph::ops
