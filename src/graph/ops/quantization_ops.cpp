// Shape and cost of the quantization ops: QuantizeLinear and DequantizeLinear (the QDQ format
// ONNX Runtime's and PyTorch's quantizers write), the QOperator ops QLinearConv and QLinearMatMul,
// the integer products ConvInteger and MatMulInteger, and ONNX Runtime's contrib ops QLinearAdd
// and QLinearGlobalAveragePool (domain com.microsoft), which its quantizer's QOperator format uses. Scales and zero
// points must be constants (every exporter writes them so), per tensor (0-d or one element) or per axis.
#include <cmath>
#include <numeric>

#include "graph/ops/families.h"
#include "graph/quantization.h"

namespace fluidedge::graph::ops {

namespace {

bool is_8bit(DType t) { return t == DType::kUInt8 || t == DType::kInt8; }

void require_8bit(InferContext& c, size_t i, const char* what) {
  DType t = c.in(i).dtype;
  if (!is_8bit(t)) c.error("{} '{}' is {}; it must be uint8 or int8", what, c.node.inputs[i], dtype_name(t));
}

// The size of the axis of input `x` that per-axis parameters run along (the node's `axis`,
// checked only when they are per axis).
int64_t axis_size(InferContext& c, size_t x, size_t scale) {
  if (c.constant(scale, "scale").numel() == 1 || c.rank(x) == 0) return 0;
  return c.shape(x)[normalize_axis(c.node, c.node.attr_int("axis", 1), c.rank(x))];
}

// Checks the (scale, zero point) pair at inputs `s` and `zp` (zp optional) against `channels`
// (the size of the axis they may run along; 0: only per tensor allowed). Returns the zero
// point's dtype, or `fallback` when it is absent.
DType check_params(InferContext& c, size_t s, size_t zp, int64_t channels, DType fallback, const char* what) {
  const Tensor& scale = c.constant(s, what);
  if (scale.dtype() != DType::kFloat32)
    c.error("{} scale '{}' is {}; it must be float32", what, c.node.inputs[s], dtype_name(scale.dtype()));
  int64_t n = scale.numel();
  bool per_tensor = n == 1 && scale.rank() <= 1;
  if (!per_tensor && !(scale.rank() == 1 && channels > 0 && n == channels))
    c.error("{} scale '{}' has shape {}; it must be a scalar{}", what, c.node.inputs[s], shape_str(scale.shape()),
            channels > 0 ? fmt::format(" or hold {} values, one per channel", channels) : std::string());
  for (float v : scale.values<float>())
    if (!(v > 0) || !std::isfinite(v))
      c.error("{} scale '{}' holds {}; scales must be positive", what, c.node.inputs[s], v);
  if (!c.has_input(zp)) return fallback;
  const Tensor& z = c.constant(zp, what);
  if (z.shape() != scale.shape() && !(z.numel() == 1 && per_tensor))
    c.error("{} zero point '{}' has shape {} but its scale has shape {}", what, c.node.inputs[zp], shape_str(z.shape()),
            shape_str(scale.shape()));
  return z.dtype();
}

void infer_quantize(InferContext& c) {
  if (c.in(0).dtype != DType::kFloat32)
    c.error("input '{}' is {}; QuantizeLinear takes float32", c.node.inputs[0], dtype_name(c.in(0).dtype));
  DType out = check_params(c, 1, 2, axis_size(c, 0, 1), DType::kUInt8, "output");
  if (!is_8bit(out)) c.error("zero point is {}; QuantizeLinear writes uint8 or int8", dtype_name(out));
  c.set_output(0, out, c.shape(0));
}

void infer_dequantize(InferContext& c) {
  DType in = c.in(0).dtype;
  if (!is_8bit(in) && in != DType::kInt32)
    c.error("input '{}' is {}; DequantizeLinear takes uint8, int8 or int32", c.node.inputs[0], dtype_name(in));
  DType zp = check_params(c, 1, 2, axis_size(c, 0, 1), in, "input");
  if (zp != in) c.error("zero point is {} but the input is {}", dtype_name(zp), dtype_name(in));
  c.set_output(0, DType::kFloat32, c.shape(0));
}

// The convolution geometry shared by QLinearConv and ConvInteger: x at input `xi`, weights at `wi`.
Shape conv_output(InferContext& c, size_t xi, size_t wi) {
  const Shape& x = c.shape(xi);
  const Shape& w = c.shape(wi);
  if (x.size() < 3) c.error("input has shape {}; expected (N, C, spatial...)", shape_str(x));
  if (w.size() != x.size()) c.error("weight of shape {} does not match input of shape {}", shape_str(w), shape_str(x));
  int64_t group = c.node.attr_int("group", 1);
  if (group < 1 || x[1] % group != 0 || w[0] % group != 0 || w[1] * group != x[1])
    c.error("weight {} and group {} do not match input channels {}", shape_str(w), group, x[1]);
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (c.node.attr_ints("kernel_shape", kernel) != kernel)
    c.error("kernel_shape disagrees with the weight shape {}", shape_str(w));
  auto g = window_geometry(c.node, x, kernel, false);
  Shape out{x[0], w[0]};
  out.insert(out.end(), g.output.begin(), g.output.end());
  return out;
}

void infer_qlinear_conv(InferContext& c) {
  require_8bit(c, 0, "input");
  require_8bit(c, 3, "weight");
  Shape out = conv_output(c, 0, 3);
  check_params(c, 1, 2, 0, c.in(0).dtype, "input");
  check_params(c, 4, 5, out[1], c.in(3).dtype, "weight");
  DType y = check_params(c, 6, 7, 0, DType::kUInt8, "output");
  if (c.has_input(8) && (c.in(8).dtype != DType::kInt32 || c.shape(8) != Shape{out[1]}))
    c.error("bias '{}' is {} {}; it must be int32 [{}]", c.node.inputs[8], dtype_name(c.in(8).dtype),
            shape_str(c.shape(8)), out[1]);
  c.set_output(0, y, out);
}

void infer_conv_integer(InferContext& c) {
  require_8bit(c, 0, "input");
  require_8bit(c, 1, "weight");
  Shape out = conv_output(c, 0, 1);
  if (c.has_input(2) && (c.constant(2, "input zero point").numel() != 1 || c.in(2).dtype != c.in(0).dtype))
    c.error("input zero point '{}' must be one {} value", c.node.inputs[2], dtype_name(c.in(0).dtype));
  if (c.has_input(3) && shape_numel(c.shape(3)) != 1 && c.shape(3) != Shape{out[1]})
    c.error("weight zero point has shape {}; it must be a scalar or [{}]", shape_str(c.shape(3)), out[1]);
  c.set_output(0, DType::kInt32, out);
}

// MatMul's broadcast output shape for a and b at inputs ai, bi.
Shape matmul_output(InferContext& c, size_t ai, size_t bi) {
  Shape a = c.shape(ai), b = c.shape(bi);
  if (a.size() < 2 || b.size() < 2) c.error("quantized matrix products need inputs of rank >= 2");
  if (a.back() != b[b.size() - 2])
    c.error("inner dimensions differ: {} x {}", shape_str(c.shape(ai)), shape_str(c.shape(bi)));
  Shape out = broadcast_shapes(c.node, Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
  out.push_back(a[a.size() - 2]);
  out.push_back(b.back());
  return out;
}

void infer_qlinear_matmul(InferContext& c) {
  require_8bit(c, 0, "A");
  require_8bit(c, 3, "B");
  Shape out = matmul_output(c, 0, 3);
  check_params(c, 1, 2, 0, c.in(0).dtype, "A");
  check_params(c, 4, 5, c.rank(3) == 2 ? out.back() : 0, c.in(3).dtype, "B");
  DType y = check_params(c, 6, 7, 0, DType::kUInt8, "output");
  c.set_output(0, y, out);
}

void infer_matmul_integer(InferContext& c) {
  require_8bit(c, 0, "A");
  require_8bit(c, 1, "B");
  Shape out = matmul_output(c, 0, 1);
  for (size_t i : {2, 3})
    if (c.has_input(i)) {
      const Tensor& z = c.constant(i, "zero point");
      int64_t along = i == 2 ? out[out.size() - 2] : out.back();
      if (z.numel() != 1 && !(z.rank() == 1 && z.numel() == along))
        c.error("zero point '{}' has shape {}; it must be a scalar or hold {} values", c.node.inputs[i],
                shape_str(z.shape()), along);
    }
  c.set_output(0, DType::kInt32, out);
}

// com.microsoft QLinearAdd(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp): per tensor.
void infer_qlinear_add(InferContext& c) {
  require_8bit(c, 0, "A");
  require_8bit(c, 3, "B");
  if (c.in(3).dtype != c.in(0).dtype)
    c.error("A is {} but B is {}", dtype_name(c.in(0).dtype), dtype_name(c.in(3).dtype));
  for (size_t s : {1, 4, 6})
    if (check_params(c, s, s + 1, 0, c.in(0).dtype, "operand") != c.in(0).dtype)
      c.error("zero point '{}' is not {} like A", c.node.inputs[s + 1], dtype_name(c.in(0).dtype));
  c.set_output(0, c.in(0).dtype, broadcast_shapes(c.node, c.shape(0), c.shape(3)));
}

// com.microsoft QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp), channels first.
void infer_qlinear_global_average_pool(InferContext& c) {
  require_8bit(c, 0, "input");
  if (c.node.attr_int("channels_last", 0) != 0) c.error("channels_last = 1 is not supported");
  if (c.rank(0) < 3) c.error("input has shape {}; expected (N, C, spatial...)", shape_str(c.shape(0)));
  check_params(c, 1, 2, 0, c.in(0).dtype, "input");
  if (check_params(c, 3, 4, 0, c.in(0).dtype, "output") != c.in(0).dtype)
    c.error("output zero point is not {} like the input", dtype_name(c.in(0).dtype));
  Shape out = c.shape(0);
  std::fill(out.begin() + 2, out.end(), 1);
  c.set_output(0, c.in(0).dtype, out);
}

// ai.fluidedge QLinearLookup(x, table): y[i] = table[x[i] - type minimum], the table 256 values of
// y's 8-bit type. What a chain of elementwise float ops between a DequantizeLinear and a
// QuantizeLinear computes, tabulated (runtime/quantized_lookup.h); internal to the lean backends.
void infer_qlinear_lookup(InferContext& c) {
  require_8bit(c, 0, "input");
  const Tensor& table = c.constant(1, "table");
  if (!is_8bit(table.dtype()) || table.numel() != 256 || table.rank() != 1)
    c.error("table '{}' is {} {}; it must hold 256 uint8 or int8 values", c.node.inputs[1], dtype_name(table.dtype()),
            shape_str(table.shape()));
  c.set_output(0, table.dtype(), c.shape(0));
}

int64_t windowed_macs(const std::vector<const ValueInfo*>& in, const std::vector<const ValueInfo*>& out, size_t wi) {
  const Shape& w = in[wi]->shape;
  return shape_numel(out[0]->shape) * std::accumulate(w.begin() + 1, w.end(), int64_t{1}, std::multiplies<>());
}

}  // namespace

std::vector<OpSchema> quantization_schemas() {
  return {
      {.type = "QLinearAdd",
       .min_inputs = 7,
       .max_inputs = 8,
       .traits = kQuantized,
       .infer = infer_qlinear_add,
       .domain = "com.microsoft"},
      {.type = "QLinearGlobalAveragePool",
       .min_inputs = 5,
       .max_inputs = 5,
       .traits = kQuantized,
       .infer = infer_qlinear_global_average_pool,
       .domain = "com.microsoft"},
      {.type = "QLinearLookup",
       .min_inputs = 2,
       .max_inputs = 2,
       .traits = kQuantized,
       .infer = infer_qlinear_lookup,
       .domain = "ai.fluidedge"},
      {.type = "QuantizeLinear", .min_inputs = 2, .max_inputs = 3, .traits = kQuantized, .infer = infer_quantize},
      {.type = "DequantizeLinear", .min_inputs = 2, .max_inputs = 3, .traits = kQuantized, .infer = infer_dequantize},
      {.type = "QLinearConv",
       .min_inputs = 8,
       .max_inputs = 9,
       .traits = kQuantized,
       .infer = infer_qlinear_conv,
       .macs = [](const Node&, const std::vector<const ValueInfo*>& in,
                  const std::vector<const ValueInfo*>& out) { return windowed_macs(in, out, 3); }},
      {.type = "ConvInteger",
       .min_inputs = 2,
       .max_inputs = 4,
       .traits = kQuantized,
       .infer = infer_conv_integer,
       .macs = [](const Node&, const std::vector<const ValueInfo*>& in,
                  const std::vector<const ValueInfo*>& out) { return windowed_macs(in, out, 1); }},
      {.type = "QLinearMatMul",
       .min_inputs = 8,
       .max_inputs = 8,
       .traits = kQuantized,
       .infer = infer_qlinear_matmul,
       .macs =
           [](const Node&, const std::vector<const ValueInfo*>& in, const std::vector<const ValueInfo*>& out) {
             return shape_numel(out[0]->shape) * in[0]->shape.back();
           }},
      {.type = "MatMulInteger",
       .min_inputs = 2,
       .max_inputs = 4,
       .traits = kQuantized,
       .infer = infer_matmul_integer,
       .macs =
           [](const Node&, const std::vector<const ValueInfo*>& in, const std::vector<const ValueInfo*>& out) {
             return shape_numel(out[0]->shape) * in[0]->shape.back();
           }},
  };
}

}  // namespace fluidedge::graph::ops
