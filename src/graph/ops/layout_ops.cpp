// Shape of the ops that move data without arithmetic: Reshape, Flatten, Transpose, Concat,
// Split, Squeeze, Unsqueeze, Pad.
#include <algorithm>
#include <set>

#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void infer_reshape(InferContext& c) {
  const Shape& in = c.shape(0);
  auto target = c.constant(1, "shape").to_int64();
  bool allow_zero = c.node.attr_int("allowzero", 0) != 0;
  Shape out(target.begin(), target.end());
  int infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allow_zero) {
      if (i >= in.size()) c.error("shape entry {} copies a dimension the input does not have", i);
      out[i] = in[i];
    } else if (out[i] == -1) {
      if (infer_at >= 0) c.error("shape {} has more than one -1", shape_str(target));
      infer_at = static_cast<int>(i);
    } else if (out[i] < 0) {
      c.error("shape {} has a negative entry", shape_str(target));
    }
  }
  if (infer_at >= 0) {
    int64_t known = 1;
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int>(i) != infer_at) known *= out[i];
    if (known == 0 || shape_numel(in) % known != 0)
      c.error("cannot reshape {} to {}", shape_str(in), shape_str(target));
    out[infer_at] = shape_numel(in) / known;
  }
  if (shape_numel(out) != shape_numel(in))
    c.error("cannot reshape {} ({} elements) to {}", shape_str(in), shape_numel(in), shape_str(out));
  c.set_output(0, c.in(0).dtype, out);
}

void infer_flatten(InferContext& c) {
  const Shape& in = c.shape(0);
  int64_t rank = static_cast<int64_t>(in.size());
  int64_t axis = c.node.attr_int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) c.error("axis {} is out of range for rank {}", axis, rank);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= in[i];
  c.set_output(0, c.in(0).dtype, {outer, inner});
}

void infer_transpose(InferContext& c) {
  const Shape& in = c.shape(0);
  std::vector<int64_t> perm(in.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(perm.size() - 1 - i);
  perm = c.node.attr_ints("perm", perm);
  if (perm.size() != in.size()) c.error("perm has {} entries for rank {}", perm.size(), in.size());
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != static_cast<int64_t>(i)) c.error("perm is not a permutation");
  Shape out(in.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = in[perm[i]];
  c.set_output(0, c.in(0).dtype, out);
}

void infer_concat(InferContext& c) {
  if (!c.node.has_attr("axis")) c.error("attribute axis is required");
  Shape out = c.shape(0);
  int64_t axis = normalize_axis(c.node, c.node.attr_int("axis", 0), c.rank(0));
  for (size_t i = 1; i < c.input_count(); ++i) {
    const Shape& s = c.shape(i);
    if (s.size() != out.size() || c.in(i).dtype != c.in(0).dtype)
      c.error("input '{}' {} does not match '{}' {}", c.node.inputs[i], shape_str(s), c.node.inputs[0],
              shape_str(c.shape(0)));
    for (size_t d = 0; d < s.size(); ++d)
      if (static_cast<int64_t>(d) != axis && s[d] != out[d])
        c.error("input '{}' {} does not match '{}' {} off the concat axis", c.node.inputs[i], shape_str(s),
                c.node.inputs[0], shape_str(c.shape(0)));
    out[axis] += s[axis];
  }
  c.set_output(0, c.in(0).dtype, out);
}

void infer_split(InferContext& c) {
  const Shape& in = c.shape(0);
  int64_t axis = normalize_axis(c.node, c.node.attr_int("axis", 0), c.rank(0));
  size_t n = c.node.outputs.size();
  std::vector<int64_t> sizes;
  if (c.has_input(1)) {
    sizes = c.constant(1, "split").to_int64();
    if (sizes.size() != n) c.error("split has {} entries for {} outputs", sizes.size(), n);
    int64_t total = 0;
    for (int64_t s : sizes) total += s;
    if (total != in[axis]) c.error("split sizes sum to {} but axis {} has {} elements", total, axis, in[axis]);
  } else {
    if (c.node.has_attr("num_outputs") && c.node.attr_int("num_outputs", 0) != static_cast<int64_t>(n))
      c.error("num_outputs is {} but the node has {} outputs", c.node.attr_int("num_outputs", 0), n);
    if (in[axis] % static_cast<int64_t>(n) != 0)
      c.error("axis {} of size {} cannot be split evenly into {} outputs", axis, in[axis], n);
    sizes.assign(n, in[axis] / static_cast<int64_t>(n));
  }
  for (size_t i = 0; i < n; ++i) {
    Shape out = in;
    out[axis] = sizes[i];
    c.set_output(i, c.in(0).dtype, out);
  }
}

void infer_squeeze(InferContext& c) {
  const Shape& in = c.shape(0);
  std::set<int64_t> axes;
  if (c.has_input(1)) {
    for (int64_t a : c.constant(1, "axes").to_int64()) {
      int64_t n = normalize_axis(c.node, a, c.rank(0));
      if (in[n] != 1) c.error("cannot squeeze axis {} of size {}", a, in[n]);
      axes.insert(n);
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i] == 1) axes.insert(static_cast<int64_t>(i));
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!axes.count(static_cast<int64_t>(i))) out.push_back(in[i]);
  c.set_output(0, c.in(0).dtype, out);
}

void infer_unsqueeze(InferContext& c) {
  const Shape& in = c.shape(0);
  auto axes = c.constant(1, "axes").to_int64();
  int64_t rank = static_cast<int64_t>(in.size() + axes.size());
  std::set<int64_t> inserted;
  for (int64_t a : axes)
    if (!inserted.insert(normalize_axis(c.node, a, rank)).second) c.error("axes has a repeated entry");
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) out.push_back(inserted.count(i) ? 1 : in[next++]);
  c.set_output(0, c.in(0).dtype, out);
}

void infer_pad(InferContext& c) {
  const Shape& in = c.shape(0);
  std::string mode = c.node.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    c.error("mode '{}' is not one of constant, reflect, edge", mode);
  auto pads = c.constant(1, "pads").to_int64();
  if (pads.size() != 2 * in.size())
    c.error("pads has {} entries; expected {} for rank {}", pads.size(), 2 * in.size(), in.size());
  if (c.has_input(3)) c.error("the axes input of Pad (opset 18) is not supported");
  Shape out = in;
  for (size_t i = 0; i < in.size(); ++i) {
    out[i] += pads[i] + pads[i + in.size()];
    if (out[i] < 0) c.error("pads {} remove more than the input has", shape_str(pads));
    if (mode == "reflect" && (pads[i] >= in[i] || pads[i + in.size()] >= in[i]) &&
        (pads[i] > 0 || pads[i + in.size()] > 0))
      c.error("reflect padding of {} on an axis of size {} is not possible", std::max(pads[i], pads[i + in.size()]),
              in[i]);
  }
  c.set_output(0, c.in(0).dtype, out);
}

}  // namespace

std::vector<OpSchema> layout_schemas() {
  return {
      {.type = "Reshape", .min_inputs = 2, .max_inputs = 2, .traits = kShapeOnly, .infer = infer_reshape},
      {.type = "Flatten", .min_inputs = 1, .max_inputs = 1, .traits = kShapeOnly, .infer = infer_flatten},
      {.type = "Transpose", .min_inputs = 1, .max_inputs = 1, .infer = infer_transpose},
      {.type = "Concat", .min_inputs = 1, .max_inputs = 1 << 20, .traits = kFollowsInputLayout, .infer = infer_concat},
      {.type = "Split", .min_inputs = 1, .max_inputs = 2, .max_outputs = 1 << 20, .infer = infer_split},
      {.type = "Squeeze", .min_inputs = 1, .max_inputs = 2, .traits = kShapeOnly, .infer = infer_squeeze},
      {.type = "Unsqueeze", .min_inputs = 2, .max_inputs = 2, .traits = kShapeOnly, .infer = infer_unsqueeze},
      {.type = "Pad", .min_inputs = 2, .max_inputs = 4, .infer = infer_pad},
  };
}

}  // namespace fluidedge::graph::ops
