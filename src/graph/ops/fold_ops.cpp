// Ops that only appear in the shape arithmetic exporters write (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape) and in constant expressions (PyTorch's quantized export makes its bias zero
// points as Cast(ConstantOfShape)). With static shapes they always fold to constants at import;
// a backend never sees them. Slice too runs on values computed at run time (ShuffleNet's channel split).
#include <algorithm>

#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void infer_shape(InferContext& c) {
  int64_t rank = c.rank(0);
  int64_t start = c.node.attr_int("start", 0), end = c.node.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  c.set_output(0, DType::kInt64, {end - start});
}

void infer_gather(InferContext& c) {
  const Shape& data = c.shape(0);
  const Shape& idx = c.shape(1);
  int64_t axis = normalize_axis(c.node, c.node.attr_int("axis", 0), c.rank(0));
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  c.set_output(0, c.in(0).dtype, out);
}

void infer_cast(InferContext& c) {
  DType to = dtype_from_onnx(static_cast<int>(c.node.attr_int("to", 0)));
  if (to == DType::kUndefined) c.error("cast to an unsupported type");
  c.set_output(0, to, c.shape(0));
}

void infer_slice(InferContext& c) {
  SliceGeometry g = slice_geometry(c.node, c.shape(0), c.constant(1, "starts"), c.constant(2, "ends"),
                                   c.has_input(3) ? &c.constant(3, "axes") : nullptr,
                                   c.has_input(4) ? &c.constant(4, "steps") : nullptr);
  c.set_output(0, c.in(0).dtype, g.output);
}

void infer_constant_of_shape(InferContext& c) {
  const Tensor& shape = c.constant(0, "shape");
  if (shape.rank() != 1) c.error("shape input must be 1-D, got {}", shape_str(shape.shape()));
  Shape out = shape.to_int64();
  DType dtype = c.node.has_attr("value") ? c.node.attr_tensor("value").dtype() : DType::kFloat32;
  if (c.node.has_attr("value") && c.node.attr_tensor("value").numel() != 1)
    c.error("attribute value must hold one element");
  c.set_output(0, dtype, out);
}

}  // namespace

std::vector<OpSchema> fold_schemas() {
  return {
      {.type = "Shape", .min_inputs = 1, .max_inputs = 1, .fold_only = true, .infer = infer_shape},
      {.type = "Gather", .min_inputs = 2, .max_inputs = 2, .fold_only = true, .infer = infer_gather},
      {.type = "Cast", .min_inputs = 1, .max_inputs = 1, .fold_only = true, .infer = infer_cast},
      {.type = "ConstantOfShape",
       .min_inputs = 1,
       .max_inputs = 1,
       .fold_only = true,
       .infer = infer_constant_of_shape},
      {.type = "Slice", .min_inputs = 3, .max_inputs = 5, .infer = infer_slice},
  };
}

}  // namespace fluidedge::graph::ops
