// Linear quantization as ONNX defines it: q = saturate(round_half_even(x / scale) + zero_point)
// and x = (q - zero_point) * scale, per tensor or per channel along one axis. The parameters of
// a quantization node read from its constant inputs, shared by the schemas, the reference and
// lean backends, and the pass that turns QDQ patterns into integer kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::graph {

struct QuantParams {
  DType dtype = DType::kUInt8;      // the quantized type: uint8, int8 or int32
  std::vector<float> scale;         // one value (per tensor) or one per channel
  std::vector<int32_t> zero_point;  // as many as scale
  int64_t axis = -1;                // the channel axis (normalised), -1 per tensor

  bool per_tensor() const { return scale.size() == 1; }
  float scale_at(int64_t channel) const { return per_tensor() ? scale[0] : scale[channel]; }
  int32_t zero_point_at(int64_t channel) const { return per_tensor() ? zero_point[0] : zero_point[channel]; }
};

// The parameters of `node`'s constant inputs `scale_input` and `zero_point_input` (absent zero
// point: 0 of `fallback`), for a tensor of rank `rank` quantized along `axis` when per channel.
QuantParams quant_params(const Graph& g, const Node& node, size_t scale_input, size_t zero_point_input, DType fallback,
                         int64_t axis, int64_t rank);

// The smallest and largest value of an integer dtype (uint8, int8, int32).
int64_t dtype_min(DType dtype);
int64_t dtype_max(DType dtype);

// round-half-even(v) + zero_point, saturated to `dtype`'s range.
inline int32_t quantize_scaled(float v, int32_t zero_point, int64_t lo, int64_t hi) {
  float r = std::nearbyint(v);  // the default rounding mode: to nearest, ties to even
  if (!(r == r)) r = 0;         // NaN: as ONNX Runtime, to the zero point
  double q = static_cast<double>(r) + zero_point;
  if (q < static_cast<double>(lo)) return static_cast<int32_t>(lo);
  if (q > static_cast<double>(hi)) return static_cast<int32_t>(hi);
  return static_cast<int32_t>(q);
}

}  // namespace fluidedge::graph
