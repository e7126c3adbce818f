#include "graph/op_schema.h"

#include <algorithm>
#include <map>

#include "graph/ops/families.h"

namespace fluidedge::graph {

namespace {

const std::map<std::string, OpSchema, std::less<>>& registry() {
  static const auto* table = [] {
    auto* m = new std::map<std::string, OpSchema, std::less<>>();
    for (auto family : {ops::window_schemas, ops::elementwise_schemas, ops::linear_schemas, ops::layout_schemas,
                        ops::reduction_schemas, ops::fold_schemas, ops::quantization_schemas})
      for (auto& s : family()) m->emplace(s.type, s);
    return m;
  }();
  return *table;
}

}  // namespace

const OpSchema* find_op_schema(std::string_view op_type) {
  auto it = registry().find(op_type);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> supported_ops() {
  std::vector<std::string> out;
  for (const auto& [k, s] : registry())
    if (!s.fold_only) out.push_back(k);
  return out;
}

std::vector<std::string> importable_ops() {
  std::vector<std::string> out = {"Constant"};
  for (const auto& [k, s] : registry()) out.push_back(k);
  return out;
}

bool op_has_trait(std::string_view op_type, OpTrait trait) {
  const OpSchema* s = find_op_schema(op_type);
  return s != nullptr && (s->traits & trait) != 0;
}

std::optional<Activation> op_activation(std::string_view op_type) {
  const OpSchema* s = find_op_schema(op_type);
  return s == nullptr ? std::nullopt : s->activation;
}

const ValueInfo& InferContext::in(size_t i) const {
  if (!has_input(i)) error("input {} is required", i);
  return *inputs[i];
}

const Tensor& InferContext::constant(size_t i, const char* what) const {
  if (!has_input(i)) error("input {} ({}) is required", i, what);
  if (constants[i] == nullptr)
    error(
        "input '{}' ({}) must be a constant (an initializer or a folded expression); "
        "fluidedge plans static shapes",
        node.inputs[i], what);
  return *constants[i];
}

void InferContext::set_output(size_t i, DType dtype, Shape shape) {
  if (outputs.size() <= i) outputs.resize(i + 1);
  for (int64_t d : shape)
    if (d < 0) error("computed an invalid output shape {}", shape_str(shape));
  outputs[i] = ValueInfo{dtype, std::move(shape), true};
}

int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1))
    fail("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
  return a;
}

Shape broadcast_shapes(const Node& node, const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail("{}: shapes {} and {} cannot be broadcast together", node.describe(), shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::set<int64_t> reduced_axes(const Node& node, const Tensor* axes, int64_t rank) {
  std::vector<int64_t> listed = axes != nullptr ? axes->to_int64() : std::vector<int64_t>{};
  std::set<int64_t> out;
  if (listed.empty()) {
    if (node.attr_int("noop_with_empty_axes", 0) != 0) return out;
    for (int64_t i = 0; i < rank; ++i) out.insert(i);
    return out;
  }
  for (int64_t a : listed)
    if (!out.insert(normalize_axis(node, a, rank)).second) fail("{}: axes has a repeated entry {}", node.describe(), a);
  return out;
}

SliceGeometry slice_geometry(const Node& node, const Shape& in, const Tensor& starts_t, const Tensor& ends_t,
                             const Tensor* axes_t, const Tensor* steps_t) {
  auto starts = starts_t.to_int64();
  auto ends = ends_t.to_int64();
  std::vector<int64_t> axes(starts.size());
  for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
  if (axes_t != nullptr) axes = axes_t->to_int64();
  std::vector<int64_t> steps(starts.size(), 1);
  if (steps_t != nullptr) steps = steps_t->to_int64();
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("{}: starts, ends, axes and steps must have the same length", node.describe());
  const auto rank = static_cast<int64_t>(in.size());
  SliceGeometry g{std::vector<int64_t>(in.size(), 0), std::vector<int64_t>(in.size(), 1), in};
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = normalize_axis(node, axes[i], rank);
    int64_t dim = in[a], step = steps[i];
    if (step == 0) fail("{}: step 0 is not allowed", node.describe());
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      g.output[a] = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      g.output[a] = s > e ? (s - e - step - 1) / -step : 0;
    }
    g.start[a] = s;
    g.step[a] = step;
  }
  return g;
}

WindowGeometry window_geometry(const Node& node, const Shape& input, const std::vector<int64_t>& kernel,
                               bool ceil_mode) {
  if (input.size() < 3) fail("{}: input of shape {} has no spatial dimensions", node.describe(), shape_str(input));
  size_t n = input.size() - 2;
  if (kernel.size() != n)
    fail("{}: kernel of rank {} does not match the {} spatial dims of input {}", node.describe(), kernel.size(), n,
         shape_str(input));
  WindowGeometry g;
  g.kernel = kernel;
  g.strides = node.attr_ints("strides", std::vector<int64_t>(n, 1));
  g.dilations = node.attr_ints("dilations", std::vector<int64_t>(n, 1));
  auto pads = node.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  if (g.strides.size() != n || g.dilations.size() != n || pads.size() != 2 * n)
    fail("{}: strides, dilations and pads must have {}, {} and {} entries", node.describe(), n, n, 2 * n);
  for (size_t i = 0; i < n; ++i)
    if (g.strides[i] < 1 || g.dilations[i] < 1 || kernel[i] < 1 || pads[i] < 0 || pads[n + i] < 0)
      fail("{}: kernel, strides and dilations must be positive and pads non-negative", node.describe());
  std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  g.pads_begin.assign(pads.begin(), pads.begin() + n);
  g.pads_end.assign(pads.begin() + n, pads.end());
  g.output.resize(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t in = input[2 + i];
    int64_t extent = (kernel[i] - 1) * g.dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t out = (in + g.strides[i] - 1) / g.strides[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[i] + extent - in);
      int64_t small = total / 2;
      g.pads_begin[i] = auto_pad == "SAME_UPPER" ? small : total - small;
      g.pads_end[i] = total - g.pads_begin[i];
      g.output[i] = out;
    } else if (auto_pad == "VALID") {
      g.pads_begin[i] = g.pads_end[i] = 0;
      if (in < extent) fail("{}: input of shape {} is smaller than the kernel", node.describe(), shape_str(input));
      g.output[i] = (in - extent) / g.strides[i] + 1;
    } else if (auto_pad == "NOTSET") {
      int64_t span = in + g.pads_begin[i] + g.pads_end[i] - extent;
      if (span < 0) fail("{}: input of shape {} is smaller than the kernel", node.describe(), shape_str(input));
      int64_t out = ceil_mode ? (span + g.strides[i] - 1) / g.strides[i] + 1 : span / g.strides[i] + 1;
      // A window that would start entirely in the end padding is dropped (as PyTorch does).
      if (ceil_mode && (out - 1) * g.strides[i] >= in + g.pads_begin[i]) --out;
      g.output[i] = out;
    } else {
      fail("{}: auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", node.describe(), auto_pad);
    }
  }
  return g;
}

}  // namespace fluidedge::graph
