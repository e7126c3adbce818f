// The reference implementation of the quantization ops, by their ONNX definitions: integer
// products accumulate exactly (in double: every 8-bit product sum of a real network is far
// below 2^53), requantisation multiplies the accumulator as float32 by the float32 factor
// x_scale * w_scale / y_scale and rounds half to even, as ONNX Runtime does.
#include "common/error.h"
#include "graph/op_schema.h"
#include "graph/quantization.h"
#include "runtime/reference/aten_executor.h"
#include "runtime/reference/aten_ops.h"

namespace fluidedge::runtime::reference {

namespace {

using Inputs = std::vector<at::Tensor>;
using Outputs = std::vector<at::Tensor>;

bool present(const Inputs& in, size_t i) { return i < in.size() && in[i].defined(); }

// A scale or zero point shaped to broadcast against a tensor of rank `rank`: a scalar when it
// holds one value, else its values along `axis`.
at::Tensor along(const at::Tensor& p, int64_t axis, int64_t rank) {
  if (p.numel() == 1) return p.reshape({});
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = p.numel();
  return p.reshape(shape);
}

// The zero point at input i as a double tensor shaped by `along`, or 0.
at::Tensor zero_point(const Inputs& in, size_t i, int64_t axis, int64_t rank) {
  if (!present(in, i)) return at::zeros({}, at::kDouble);
  return along(in[i].to(at::kDouble), axis, rank);
}

graph::DType quantized_type(const Inputs& in, size_t zp) {
  if (!present(in, zp)) return graph::DType::kUInt8;
  return in[zp].scalar_type() == at::kChar ? graph::DType::kInt8 : graph::DType::kUInt8;
}

// q = saturate(round_half_even(v) + zp) as the zero point's type; v float32.
at::Tensor saturate_to(const at::Tensor& v, const at::Tensor& zp, graph::DType dtype) {
  at::Tensor r = at::round(v);
  r = at::where(at::isnan(r), at::zeros_like(r), r).to(at::kDouble) + zp;
  return at::clamp(r, static_cast<double>(graph::dtype_min(dtype)), static_cast<double>(graph::dtype_max(dtype)))
      .to(aten_type(dtype));
}

// The axis per-axis parameters `scale` run along (unused, and unchecked, when per tensor).
int64_t axis_of(const graph::Node& n, const at::Tensor& x, const at::Tensor& scale) {
  if (x.dim() == 0 || scale.numel() == 1) return 0;
  return graph::normalize_axis(n, n.attr_int("axis", 1), x.dim());
}

Outputs quantize_linear(const graph::Node& n, const Inputs& in, OpContext&) {
  const at::Tensor& x = in[0];
  int64_t axis = axis_of(n, x, in[1]);
  at::Tensor scaled = x.to(at::kFloat) / along(in[1].to(at::kFloat), axis, x.dim());
  return {saturate_to(scaled, zero_point(in, 2, axis, x.dim()), quantized_type(in, 2))};
}

Outputs dequantize_linear(const graph::Node& n, const Inputs& in, OpContext&) {
  const at::Tensor& x = in[0];
  int64_t axis = axis_of(n, x, in[1]);
  at::Tensor centred = x.to(at::kDouble) - zero_point(in, 2, axis, x.dim());
  return {(centred * along(in[1].to(at::kDouble), axis, x.dim())).to(at::kFloat)};
}

// The exact integer accumulator (as double) of a convolution of x - x_zp with w - w_zp, w_zp
// per output channel or per tensor.
at::Tensor conv_accumulator(const graph::Node& n, const at::Tensor& x, const at::Tensor& x_zp, const at::Tensor& w,
                            const at::Tensor& w_zp, const at::Tensor& bias) {
  at::Tensor xc = x.to(at::kDouble) - x_zp.to(at::kDouble).reshape({});
  at::Tensor wc = w.to(at::kDouble) - along(w_zp.to(at::kDouble), 0, w.dim());
  at::Tensor b = bias.defined() ? bias.to(at::kDouble) : at::Tensor();
  return convolution(n, xc, wc, b);
}

// round(float(acc) * float(multiplier)) + y_zp, saturated to y_zp's type.
at::Tensor requantize(const at::Tensor& acc, const at::Tensor& multiplier, const at::Tensor& y_zp) {
  at::Tensor scaled = acc.to(at::kFloat) * multiplier.to(at::kFloat);
  graph::DType dtype = y_zp.scalar_type() == at::kChar ? graph::DType::kInt8 : graph::DType::kUInt8;
  return saturate_to(scaled, y_zp.to(at::kDouble).reshape({}), dtype);
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, [bias]).
Outputs qlinear_conv(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor acc = conv_accumulator(n, in[0], in[2], in[3], in[5], present(in, 8) ? in[8] : at::Tensor());
  int64_t rank = acc.dim();
  // The float32 factor per output channel, computed in float32 as ONNX Runtime does.
  at::Tensor multiplier =
      in[1].to(at::kFloat).reshape({}) * along(in[4].to(at::kFloat), 1, rank) / in[6].to(at::kFloat).reshape({});
  return {requantize(acc, multiplier, in[7])};
}

Outputs conv_integer(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor x_zp = present(in, 2) ? in[2] : at::zeros({}, at::kDouble);
  at::Tensor w_zp = present(in, 3) ? in[3] : at::zeros({}, at::kDouble);
  return {conv_accumulator(n, in[0], x_zp, in[1], w_zp, at::Tensor()).round().to(at::kInt)};
}

// The exact product (as double) of a - a_zp and b - b_zp: a_zp per tensor or per row of a,
// b_zp per tensor or per column of b.
at::Tensor matmul_accumulator(const at::Tensor& a, const at::Tensor& a_zp, const at::Tensor& b,
                              const at::Tensor& b_zp) {
  at::Tensor az = a_zp.defined() ? a_zp.to(at::kDouble) : at::zeros({}, at::kDouble);
  at::Tensor bz = b_zp.defined() ? b_zp.to(at::kDouble) : at::zeros({}, at::kDouble);
  at::Tensor ac = a.to(at::kDouble) - (az.numel() == 1 ? az.reshape({}) : az.reshape({-1, 1}));
  at::Tensor bc = b.to(at::kDouble) - (bz.numel() == 1 ? bz.reshape({}) : bz.reshape({-1}));
  return at::matmul(ac, bc);
}

Outputs matmul_integer(const graph::Node&, const Inputs& in, OpContext&) {
  return {matmul_accumulator(in[0], present(in, 2) ? in[2] : at::Tensor(), in[1], present(in, 3) ? in[3] : at::Tensor())
              .round()
              .to(at::kInt)};
}

// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp).
Outputs qlinear_matmul(const graph::Node&, const Inputs& in, OpContext&) {
  at::Tensor acc = matmul_accumulator(in[0], in[2], in[3], in[5]);
  at::Tensor b_scale = in[4].to(at::kFloat);
  b_scale = b_scale.numel() == 1 ? b_scale.reshape({}) : b_scale.reshape({-1});
  at::Tensor multiplier = in[1].to(at::kFloat).reshape({}) * b_scale / in[6].to(at::kFloat).reshape({});
  return {requantize(acc, multiplier, in[7])};
}

// x dequantized in float32 (per tensor): (x - zp) * scale.
at::Tensor dequantized(const Inputs& in, size_t x, size_t scale, size_t zp) {
  at::Tensor centred = in[x].to(at::kDouble) - zero_point(in, zp, 0, 0);
  return (centred * in[scale].to(at::kDouble).reshape({})).to(at::kFloat);
}

// v quantized per tensor by the scale and zero point at inputs `scale` and `zp`.
at::Tensor quantized(const at::Tensor& v, const Inputs& in, size_t scale, size_t zp, graph::DType dtype) {
  return saturate_to(v / in[scale].to(at::kFloat).reshape({}), zero_point(in, zp, 0, 0), dtype);
}

graph::DType type_of(const at::Tensor& t) {
  return t.scalar_type() == at::kChar ? graph::DType::kInt8 : graph::DType::kUInt8;
}

// com.microsoft QLinearAdd: Q(DQ(A) + DQ(B)).
Outputs qlinear_add(const graph::Node&, const Inputs& in, OpContext&) {
  return {quantized(dequantized(in, 0, 1, 2) + dequantized(in, 3, 4, 5), in, 6, 7, type_of(in[0]))};
}

// com.microsoft QLinearGlobalAveragePool: Q(GlobalAveragePool(DQ(X))).
Outputs qlinear_global_average_pool(const graph::Node&, const Inputs& in, OpContext&) {
  at::Tensor x = dequantized(in, 0, 1, 2);
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
  return {quantized(x.mean(spatial, true), in, 3, 4, type_of(in[0]))};
}

// ai.fluidedge QLinearLookup: table[x - type minimum].
Outputs qlinear_lookup(const graph::Node&, const Inputs& in, OpContext&) {
  int64_t offset = in[0].scalar_type() == at::kChar ? 128 : 0;
  at::Tensor index = in[0].to(at::kLong).flatten() + offset;
  return {at::index_select(in[1], 0, index).reshape(in[0].sizes())};
}

}  // namespace

void add_quantized_ops(std::map<std::string, AtenOp>& table) {
  table.emplace("QuantizeLinear", quantize_linear);
  table.emplace("DequantizeLinear", dequantize_linear);
  table.emplace("QLinearConv", qlinear_conv);
  table.emplace("ConvInteger", conv_integer);
  table.emplace("QLinearMatMul", qlinear_matmul);
  table.emplace("MatMulInteger", matmul_integer);
  table.emplace("QLinearAdd", qlinear_add);
  table.emplace("QLinearGlobalAveragePool", qlinear_global_average_pool);
  table.emplace("QLinearLookup", qlinear_lookup);
}

}  // namespace fluidedge::runtime::reference
