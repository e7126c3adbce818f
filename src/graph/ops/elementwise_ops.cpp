// Shape of the elementwise ops: arithmetic with broadcasting (Add ... Div, Pow, PRelu, Where),
// activations, batch normalisation and softmax (which keep their input's shape).
#include <algorithm>

#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void infer_binary(InferContext& c) {
  if (c.in(0).dtype != c.in(1).dtype)
    c.error("inputs '{}' ({}) and '{}' ({}) must have the same type", c.node.inputs[0], dtype_name(c.in(0).dtype),
            c.node.inputs[1], dtype_name(c.in(1).dtype));
  c.set_output(0, c.in(0).dtype, broadcast_shapes(c.node, c.shape(0), c.shape(1)));
}

void infer_same(InferContext& c) { c.set_output(0, c.in(0).dtype, c.shape(0)); }

void infer_float_same(InferContext& c) {
  if (!dtype_is_float(c.in(0).dtype))
    c.error("input '{}' is {}; a floating-point tensor is required", c.node.inputs[0], dtype_name(c.in(0).dtype));
  infer_same(c);
}

void infer_clip(InferContext& c) {
  for (size_t i = 1; i < 3; ++i)
    if (c.has_input(i) && shape_numel(c.shape(i)) != 1)
      c.error("'{}' must be a scalar, got shape {}", i == 1 ? "min" : "max", shape_str(c.shape(i)));
  infer_same(c);
}

void infer_dropout(InferContext& c) {
  infer_same(c);
  if (c.node.outputs.size() > 1 && !c.node.outputs[1].empty()) c.set_output(1, DType::kBool, c.shape(0));
}

void infer_batch_norm(InferContext& c) {
  const Shape& x = c.shape(0);
  if (x.size() < 2) c.error("input has shape {}; expected (N, C, ...)", shape_str(x));
  for (size_t i = 1; i < 5; ++i)
    if (c.shape(i) != Shape{x[1]})
      c.error("'{}' has shape {}; expected [{}] (one per channel)", c.node.inputs[i], shape_str(c.shape(i)), x[1]);
  if (c.node.attr_int("training_mode", 0) != 0 ||
      (c.node.outputs.size() > 1 &&
       std::any_of(c.node.outputs.begin() + 1, c.node.outputs.end(), [](const std::string& s) { return !s.empty(); })))
    c.error("training-mode batch normalisation is not supported; export the model in eval mode");
  infer_float_same(c);
}

void infer_softmax(InferContext& c) {
  normalize_axis(c.node, c.node.attr_int("axis", -1), c.rank(0));
  infer_float_same(c);
}

void infer_pow(InferContext& c) {
  // The exponent may be an integer tensor; the base is a float one (integer arithmetic is not
  // what networks run).
  if (!dtype_is_float(c.in(0).dtype))
    c.error("base '{}' is {}; a floating-point tensor is required", c.node.inputs[0], dtype_name(c.in(0).dtype));
  c.set_output(0, c.in(0).dtype, broadcast_shapes(c.node, c.shape(0), c.shape(1)));
}

void infer_prelu(InferContext& c) {
  // The slope broadcasts to the input (unidirectionally): the output has the input's shape.
  if (broadcast_shapes(c.node, c.shape(0), c.shape(1)) != c.shape(0))
    c.error("slope of shape {} does not broadcast to the input's shape {}", shape_str(c.shape(1)),
            shape_str(c.shape(0)));
  infer_float_same(c);
}

void infer_where(InferContext& c) {
  if (c.in(0).dtype != DType::kBool)
    c.error("condition '{}' is {}; it must be bool", c.node.inputs[0], dtype_name(c.in(0).dtype));
  if (c.in(1).dtype != c.in(2).dtype)
    c.error("'{}' ({}) and '{}' ({}) must have the same type", c.node.inputs[1], dtype_name(c.in(1).dtype),
            c.node.inputs[2], dtype_name(c.in(2).dtype));
  Shape s = broadcast_shapes(c.node, c.shape(0), broadcast_shapes(c.node, c.shape(1), c.shape(2)));
  c.set_output(0, c.in(1).dtype, s);
}

int64_t binary_macs(const Node&, const std::vector<const ValueInfo*>&, const std::vector<const ValueInfo*>&) {
  return 0;
}

}  // namespace

std::vector<OpSchema> elementwise_schemas() {
  std::vector<OpSchema> out;
  for (const char* op : {"Add", "Sub", "Mul", "Div"})
    out.push_back({.type = op,
                   .min_inputs = 2,
                   .max_inputs = 2,
                   .traits = kFollowsInputLayout,
                   .infer = infer_binary,
                   .macs = binary_macs});
  // Pow(x, exponent), PRelu(x, slope): broadcasting, in the input's element type.
  out.push_back({.type = "Pow", .min_inputs = 2, .max_inputs = 2, .infer = infer_pow});
  out.push_back({.type = "PRelu", .min_inputs = 2, .max_inputs = 2, .infer = infer_prelu});
  out.push_back({.type = "Where", .min_inputs = 3, .max_inputs = 3, .infer = infer_where});
  using A = Activation;
  for (auto [op, activation] : {std::pair{"Relu", A::kRelu},
                                {"Sigmoid", A::kSigmoid},
                                {"Tanh", A::kTanh},
                                {"HardSigmoid", A::kHardSigmoid},
                                {"HardSwish", A::kHardSwish},
                                {"LeakyRelu", A::kLeakyRelu},
                                {"Elu", A::kElu},
                                {"Selu", A::kSelu},
                                {"Gelu", A::kGeluErf},
                                {"Erf", A::kErf},
                                {"Exp", A::kExp},
                                {"Sqrt", A::kSqrt},
                                {"Abs", A::kAbs},
                                {"Neg", A::kNeg}})
    out.push_back({.type = op,
                   .min_inputs = 1,
                   .max_inputs = 1,
                   .traits = kFollowsInputLayout,
                   .activation = activation,
                   .infer = infer_float_same});
  out.push_back({.type = "Clip",
                 .min_inputs = 1,
                 .max_inputs = 3,
                 .traits = kFollowsInputLayout,
                 .activation = A::kClip,
                 .infer = infer_clip});
  out.push_back({.type = "Identity", .min_inputs = 1, .max_inputs = 1, .traits = kShapeOnly, .infer = infer_same});
  out.push_back({.type = "Dropout",
                 .min_inputs = 1,
                 .max_inputs = 3,
                 .max_outputs = 2,
                 .traits = kShapeOnly,
                 .infer = infer_dropout});
  out.push_back({.type = "BatchNormalization",
                 .min_inputs = 5,
                 .max_inputs = 5,
                 .max_outputs = 3,
                 .traits = kFollowsInputLayout,
                 .infer = infer_batch_norm});
  out.push_back({.type = "Softmax", .min_inputs = 1, .max_inputs = 1, .infer = infer_softmax});
  return out;
}

}  // namespace fluidedge::graph::ops
