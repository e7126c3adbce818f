// QLinearConv (what graph::fuse_qdq makes of a quantized model's convolutions) on XNNPACK's
// per-channel int8 convolution (qc8): int8 activations in NHWC (graph::to_signed_activations
// makes a model's uint8 ones int8), symmetric int8 weights with a scale per output channel (a
// per-tensor scale is repeated), an int32 bias, and XNNPACK's requantization to the output's
// scale and zero point: on NEON and x86 alike the integer products are exact and the rescale is
// one fp32 multiply, rounded to nearest, so an output differs from ONNX's definition by at most
// one step where the exact value lies on a rounding boundary.
//
// What qc8 cannot take runs as the shared integer loop (runtime/quantized_loops.cpp), exactly:
// uint8 activations, weights with a zero point, a computed weight or parameter, a rescale of 256
// or more (XNNPACK refuses it), and activations fused after the convolution.
#include <cstdint>

#include <fmt/format.h>

#include "graph/op_schema.h"
#include "graph/quantization.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

// QLinearConv's inputs.
enum Input : size_t { kX, kXScale, kXZero, kW, kWScale, kWZero, kYScale, kYZero, kBias };

class QuantizedConvKernel : public Kernel {
 public:
  QuantizedConvKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& x = g_.value(n.input(kX)).shape;
    const graph::Shape& y = g_.value(n.outputs[0]).shape;
    in_shape_ = x;
    create_operator(static_cast<size_t>(y[1]));
    plan.inputs = {Layout::kNhwc};
    plan.outputs = {Layout::kNhwc};
    plan.alias = {-1};
  }

  // Into a concatenation along channels: every output pixel `row_stride` elements after the last.
  bool can_write_rows(size_t rows, size_t row_stride) const override {
    if (rows == 1) return true;
    const graph::Shape& y = g_.value(step_.node.outputs[0]).shape;
    return rows == static_cast<size_t>(y[0] * y[2] * y[3]) && row_stride >= static_cast<size_t>(y[1]);
  }
  void write_rows(size_t rows, size_t row_stride) override {
    if (rows > 1) create_operator(row_stride);
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    check(xnn_setup_convolution2d_nhwc_qc8(op_.get(), static_cast<size_t>(in_shape_[0]),
                                           static_cast<size_t>(in_shape_[2]), static_cast<size_t>(in_shape_[3]),
                                           reinterpret_cast<const int8_t*>(in[0]), reinterpret_cast<int8_t*>(out[0]),
                                           threads),
          "setting up an int8 convolution");
  }

  void run(pthreadpool_t threads) override {
    check(xnn_run_operator(op_.get(), threads), "running an int8 convolution");
  }

 private:
  // The operator, its weights packed, writing output pixels `output_stride` elements apart.
  void create_operator(size_t output_stride) {
    const graph::Node& n = step_.node;
    const graph::Shape& x = g_.value(n.input(kX)).shape;
    const graph::Tensor& w = *g_.initializer(n.input(kW));
    const int64_t groups = n.attr_int("group", 1);
    const int64_t out_c = w.dim(0), group_in = w.dim(1), group_out = out_c / groups;
    const int64_t kh = w.dim(2), kw = w.dim(3);
    const auto geo = graph::window_geometry(n, x, {kh, kw}, false);
    const graph::QuantParams xq = graph::quant_params(g_, n, kXScale, kXZero, graph::DType::kInt8, -1, 4);
    const graph::QuantParams wq = graph::quant_params(g_, n, kWScale, kWZero, graph::DType::kInt8, 0, 4);
    const graph::QuantParams yq = graph::quant_params(g_, n, kYScale, kYZero, graph::DType::kInt8, -1, 4);

    // ONNX's [O, I/g, kh, kw] to XNNPACK's [g][O/g][kh][kw][I/g]; a depthwise convolution (one
    // input and one output channel per group, XNNPACK's depthwise flag) takes [kh][kw][channels].
    const bool depthwise = groups > 1 && group_in == 1 && group_out == 1;
    const auto* weights = w.data<int8_t>();
    std::vector<int8_t> packed(static_cast<size_t>(w.numel()));
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t i = 0; i < group_in; ++i)
        for (int64_t k = 0; k < kh * kw; ++k) {
          const int64_t to = depthwise ? k * out_c + o : (o * kh * kw + k) * group_in + i;
          packed[static_cast<size_t>(to)] = weights[(o * group_in + i) * kh * kw + k];
        }
    std::vector<float> kernel_scale(static_cast<size_t>(out_c));
    for (int64_t c = 0; c < out_c; ++c) kernel_scale[static_cast<size_t>(c)] = wq.scale_at(c);
    std::vector<int32_t> bias;
    if (n.has_input(kBias)) {
      const graph::Tensor& b = *g_.initializer(n.input(kBias));
      bias.assign(b.data<int32_t>(), b.data<int32_t>() + b.numel());
    }
    auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
    xnn_operator_t op = nullptr;
    check(xnn_create_convolution2d_nhwc_qc8(
              u(geo.pads_begin[0]), u(geo.pads_end[1]), u(geo.pads_end[0]), u(geo.pads_begin[1]), u(kh), u(kw),
              u(geo.strides[0]), u(geo.strides[1]), u(geo.dilations[0]), u(geo.dilations[1]), u(groups),
              static_cast<size_t>(group_in), static_cast<size_t>(group_out), static_cast<size_t>(groups * group_in),
              output_stride, static_cast<int8_t>(xq.zero_point[0]), xq.scale[0], kernel_scale.data(), packed.data(),
              bias.empty() ? nullptr : bias.data(), static_cast<int8_t>(yq.zero_point[0]), yq.scale[0], INT8_MIN,
              INT8_MAX, depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &op),
          "an int8 convolution");
    op_.reset(op);
  }

  FusedStep step_;
  const graph::Graph& g_;
  graph::Shape in_shape_;
  Operator op_;
};

// Why qc8 cannot run this QLinearConv, or "" when it can.
std::string qc8_problem(const FusedStep& step, const graph::Graph& g) {
  const graph::Node& n = step.node;
  if (!step.post_ops.empty()) return "activations fused after it";
  if (g.value(n.input(kX)).shape.size() != 4) return "not a 2-D convolution";
  if (g.value(n.input(kX)).dtype != graph::DType::kInt8 || g.value(n.outputs[0]).dtype != graph::DType::kInt8)
    return "uint8 activations (XNNPACK's per-channel kernels take int8)";
  for (size_t i = kXScale; i <= kBias; ++i)
    if (i != kX && n.has_input(i) && !g.is_initializer(n.input(i))) return "a weight or parameter computed at run time";
  const graph::Tensor& w = *g.initializer(n.input(kW));
  if (w.dtype() != graph::DType::kInt8) return "uint8 weights";
  const graph::QuantParams xq = graph::quant_params(g, n, kXScale, kXZero, graph::DType::kInt8, -1, 4);
  const graph::QuantParams wq = graph::quant_params(g, n, kWScale, kWZero, graph::DType::kInt8, 0, 4);
  const graph::QuantParams yq = graph::quant_params(g, n, kYScale, kYZero, graph::DType::kInt8, -1, 4);
  if (!xq.per_tensor() || !yq.per_tensor()) return "activations quantized per channel";
  for (int32_t z : wq.zero_point)
    if (z != 0) return "weights with a zero point";
  for (int64_t c = 0; c < w.dim(0); ++c)
    if (!(xq.scale[0] * wq.scale_at(c) / yq.scale[0] < 256.f)) return "a rescale of 256 or more";
  return "";
}

}  // namespace

std::unique_ptr<Kernel> make_quantized_conv_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (qc8_problem(step, g).empty()) return std::make_unique<QuantizedConvKernel>(step, g);
  return make_loop_kernel(step, g, why_not);
}

}  // namespace fluidedge::runtime::xnnpack
