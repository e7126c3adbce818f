// Ops that only appear in the shape arithmetic exporters write (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape). With static shapes they always fold to constants at import; a backend
// never sees them.
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
  const Shape& in = c.shape(0);
  auto starts = c.constant(1, "starts").to_int64();
  auto ends = c.constant(2, "ends").to_int64();
  std::vector<int64_t> axes(starts.size());
  for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
  if (c.has_input(3)) axes = c.constant(3, "axes").to_int64();
  std::vector<int64_t> steps(starts.size(), 1);
  if (c.has_input(4)) steps = c.constant(4, "steps").to_int64();
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    c.error("starts, ends, axes and steps must have the same length");
  Shape out = in;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = normalize_axis(c.node, axes[i], c.rank(0));
    int64_t dim = in[a], step = steps[i];
    if (step == 0) c.error("step 0 is not allowed");
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      out[a] = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      out[a] = s > e ? (s - e - step - 1) / -step : 0;
    }
  }
  c.set_output(0, c.in(0).dtype, out);
}

}  // namespace

std::vector<OpSchema> fold_schemas() {
  return {
      {.type = "Shape", .min_inputs = 1, .max_inputs = 1, .fold_only = true, .infer = infer_shape},
      {.type = "Gather", .min_inputs = 2, .max_inputs = 2, .fold_only = true,
       .infer = infer_gather},
      {.type = "Cast", .min_inputs = 1, .max_inputs = 1, .fold_only = true, .infer = infer_cast},
      {.type = "Slice", .min_inputs = 3, .max_inputs = 5, .fold_only = true, .infer = infer_slice},
  };
}

}  // namespace fluidedge::graph::ops
