#include "graph/quantization.h"

#include <limits>

#include "graph/op_schema.h"

namespace fluidedge::graph {

int64_t dtype_min(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
      return 0;
    case DType::kInt8:
      return -128;
    case DType::kInt32:
      return std::numeric_limits<int32_t>::min();
    default:
      fail("{} is not a quantized type", dtype_name(dtype));
  }
}

int64_t dtype_max(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
      return 255;
    case DType::kInt8:
      return 127;
    case DType::kInt32:
      return std::numeric_limits<int32_t>::max();
    default:
      fail("{} is not a quantized type", dtype_name(dtype));
  }
}

QuantParams quant_params(const Graph& g, const Node& node, size_t scale_input, size_t zero_point_input, DType fallback,
                         int64_t axis, int64_t rank) {
  const Tensor* scale = node.has_input(scale_input) ? g.initializer(node.input(scale_input)) : nullptr;
  if (scale == nullptr) fail("{}: its scale (input {}) must be a constant", node.describe(), scale_input);
  QuantParams p;
  p.dtype = fallback;
  p.scale = scale->to_float();
  p.zero_point.assign(p.scale.size(), 0);
  if (node.has_input(zero_point_input)) {
    const Tensor* zp = g.initializer(node.input(zero_point_input));
    if (zp == nullptr) fail("{}: its zero point (input {}) must be a constant", node.describe(), zero_point_input);
    p.dtype = zp->dtype();
    auto values = zp->to_int64();
    if (values.size() == 1) values.assign(p.scale.size(), values[0]);
    if (values.size() != p.scale.size())
      fail("{}: {} zero points for {} scales", node.describe(), values.size(), p.scale.size());
    p.zero_point.assign(values.begin(), values.end());
  }
  if (!p.per_tensor()) p.axis = normalize_axis(node, axis, rank);
  return p;
}

}  // namespace fluidedge::graph
