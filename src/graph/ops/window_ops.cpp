// Shape and cost of the sliding-window ops: convolution and pooling.
#include <numeric>

#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void require_float(InferContext& c, size_t i) {
  if (!dtype_is_float(c.in(i).dtype))
    c.error("input '{}' is {}; only floating-point tensors are supported", c.node.inputs[i], dtype_name(c.in(i).dtype));
}

void infer_conv(InferContext& c) {
  require_float(c, 0);
  const Shape& x = c.shape(0);
  const Shape& w = c.shape(1);
  if (x.size() < 3) c.error("input has shape {}; expected (N, C, spatial...)", shape_str(x));
  if (w.size() != x.size()) c.error("weight of shape {} does not match input of shape {}", shape_str(w), shape_str(x));
  int64_t group = c.node.attr_int("group", 1);
  if (group < 1 || x[1] % group != 0 || w[0] % group != 0)
    c.error("group {} does not divide input channels {} and output channels {}", group, x[1], w[0]);
  if (w[1] * group != x[1])
    c.error("weight expects {} input channels per group ({} groups) but input has {} channels", w[1], group, x[1]);
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  auto k = c.node.attr_ints("kernel_shape", kernel);
  if (k != kernel) c.error("kernel_shape {} disagrees with the weight shape {}", shape_str(k), shape_str(w));
  if (c.has_input(2) && (c.shape(2).size() != 1 || c.shape(2)[0] != w[0]))
    c.error("bias of shape {} should be [{}]", shape_str(c.shape(2)), w[0]);
  auto g = window_geometry(c.node, x, kernel, false);
  Shape out{x[0], w[0]};
  out.insert(out.end(), g.output.begin(), g.output.end());
  c.set_output(0, c.in(0).dtype, out);
}

int64_t conv_macs(const Node&, const std::vector<const ValueInfo*>& in, const std::vector<const ValueInfo*>& out) {
  // Each output element reads (C_in / group) * prod(kernel) inputs: the weight's dims 1..
  const Shape& w = in[1]->shape;
  int64_t per_output = std::accumulate(w.begin() + 1, w.end(), int64_t{1}, std::multiplies<>());
  return shape_numel(out[0]->shape) * per_output;
}

void infer_pool(InferContext& c) {
  // MaxPool also takes uint8 and int8 (opset 12): quantized models pool their integers.
  bool integer_max = c.node.op_type == "MaxPool" && (c.in(0).dtype == DType::kUInt8 || c.in(0).dtype == DType::kInt8);
  if (!integer_max) require_float(c, 0);
  const Shape& x = c.shape(0);
  if (x.size() < 3) c.error("input has shape {}; expected (N, C, spatial...)", shape_str(x));
  if (!c.node.has_attr("kernel_shape")) c.error("attribute kernel_shape is required");
  if (c.node.outputs.size() > 1 && !c.node.outputs[1].empty())
    c.error("the Indices output of MaxPool is not supported");
  auto g = window_geometry(c.node, x, c.node.attr_ints("kernel_shape"), c.node.attr_int("ceil_mode", 0) != 0);
  Shape out{x[0], x[1]};
  out.insert(out.end(), g.output.begin(), g.output.end());
  c.set_output(0, c.in(0).dtype, out);
}

void infer_global_pool(InferContext& c) {
  require_float(c, 0);
  Shape out = c.shape(0);
  if (out.size() < 3) c.error("input has shape {}; expected (N, C, spatial...)", shape_str(out));
  for (size_t i = 2; i < out.size(); ++i) out[i] = 1;
  c.set_output(0, c.in(0).dtype, out);
}

}  // namespace

std::vector<OpSchema> window_schemas() {
  return {
      {.type = "Conv", .min_inputs = 2, .max_inputs = 3, .infer = infer_conv, .macs = conv_macs},
      {.type = "MaxPool",
       .min_inputs = 1,
       .max_inputs = 1,
       .max_outputs = 2,
       .traits = kFollowsInputLayout,
       .infer = infer_pool},
      {.type = "AveragePool", .min_inputs = 1, .max_inputs = 1, .traits = kFollowsInputLayout, .infer = infer_pool},
      {.type = "GlobalAveragePool",
       .min_inputs = 1,
       .max_inputs = 1,
       .traits = kFollowsInputLayout,
       .infer = infer_global_pool},
      {.type = "GlobalMaxPool",
       .min_inputs = 1,
       .max_inputs = 1,
       .traits = kFollowsInputLayout,
       .infer = infer_global_pool},
  };
}

}  // namespace fluidedge::graph::ops
