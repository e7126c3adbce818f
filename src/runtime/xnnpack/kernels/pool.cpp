// MaxPool, AveragePool and the global pools of 2-D NHWC activations on XNNPACK's pooling
// operators (GlobalMaxPool: the backend's own loop over pixels). MaxPool also moves the int8 or
// uint8 integers of a quantized model (the maximum of integers is that of their real values).
#include <algorithm>
#include <cstdint>

#include "graph/op_schema.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

// The window geometry with ceil_mode's extension as end padding: XNNPACK rounds the output size
// down, so the windows ceil_mode adds past the end are windows over padding (which max pooling
// ignores and average pooling does not count, as ONNX says).
graph::WindowGeometry pool_geometry(const graph::Node& n, const graph::Shape& x) {
  const bool ceil_mode = n.attr_int("ceil_mode", 0) != 0;
  auto geo = graph::window_geometry(n, x, n.attr_ints("kernel_shape"), ceil_mode);
  for (size_t i = 0; i < 2 && ceil_mode; ++i) {
    // Exactly the padding the last window reaches, so that XNNPACK's floor gives ONNX's count.
    int64_t extent = (geo.kernel[i] - 1) * geo.dilations[i] + 1;
    geo.pads_end[i] =
        std::max<int64_t>(0, (geo.output[i] - 1) * geo.strides[i] + extent - x[2 + i] - geo.pads_begin[i]);
  }
  return geo;
}

class PoolKernel : public Kernel {
 public:
  PoolKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    x_ = g_.value(n.input(0)).shape;
    dtype_ = g_.value(n.input(0)).dtype;
    const size_t channels = static_cast<size_t>(x_[1]);
    xnn_operator_t op = nullptr;
    const float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (n.op_type == "GlobalAveragePool") {
      check(xnn_create_global_average_pooling_nwc_f32(channels, channels, channels, lo, hi, 0, &op),
            "a global average pool");
    } else if (n.op_type != "GlobalMaxPool") {
      auto geo = pool_geometry(n, x_);
      auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
      if (n.op_type == "MaxPool" && dtype_ == graph::DType::kInt8)
        check(xnn_create_max_pooling2d_nhwc_s8(
                  u(geo.pads_begin[0]), u(geo.pads_end[1]), u(geo.pads_end[0]), u(geo.pads_begin[1]), u(geo.kernel[0]),
                  u(geo.kernel[1]), u(geo.strides[0]), u(geo.strides[1]), u(geo.dilations[0]), u(geo.dilations[1]),
                  channels, channels, channels, INT8_MIN, INT8_MAX, 0, &op),
              "an int8 max pool");
      else if (n.op_type == "MaxPool" && dtype_ == graph::DType::kUInt8)
        check(xnn_create_max_pooling2d_nhwc_u8(u(geo.pads_begin[0]), u(geo.pads_end[1]), u(geo.pads_end[0]),
                                               u(geo.pads_begin[1]), u(geo.kernel[0]), u(geo.kernel[1]),
                                               u(geo.strides[0]), u(geo.strides[1]), u(geo.dilations[0]),
                                               u(geo.dilations[1]), channels, channels, channels, 0, UINT8_MAX, 0, &op),
              "a uint8 max pool");
      else if (n.op_type == "MaxPool")
        check(xnn_create_max_pooling2d_nhwc_f32(u(geo.pads_begin[0]), u(geo.pads_end[1]), u(geo.pads_end[0]),
                                                u(geo.pads_begin[1]), u(geo.kernel[0]), u(geo.kernel[1]),
                                                u(geo.strides[0]), u(geo.strides[1]), u(geo.dilations[0]),
                                                u(geo.dilations[1]), channels, channels, channels, lo, hi, 0, &op),
              "a max pool");
      else
        check(xnn_create_average_pooling2d_nhwc_f32(
                  u(geo.pads_begin[0]), u(geo.pads_end[1]), u(geo.pads_end[0]), u(geo.pads_begin[1]), u(geo.kernel[0]),
                  u(geo.kernel[1]), u(geo.strides[0]), u(geo.strides[1]), channels, channels, channels, lo, hi, 0, &op),
              "an average pool");
    }
    op_.reset(op);
    plan.inputs = {Layout::kNhwc};
    plan.outputs = {Layout::kNhwc};
    plan.alias = {-1};
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    const std::string& op = step_.node.op_type;
    x_ptr_ = in[0];
    y_ptr_ = out[0];
    if (op == "GlobalAveragePool")
      check(xnn_setup_global_average_pooling_nwc_f32(op_.get(), x_[0], x_[2] * x_[3], in[0], out[0], threads),
            "setting up a global average pool");
    else if (op == "MaxPool" && dtype_ == graph::DType::kInt8)
      check(xnn_setup_max_pooling2d_nhwc_s8(op_.get(), x_[0], x_[2], x_[3], reinterpret_cast<const int8_t*>(in[0]),
                                            reinterpret_cast<int8_t*>(out[0]), threads),
            "setting up an int8 max pool");
    else if (op == "MaxPool" && dtype_ == graph::DType::kUInt8)
      check(xnn_setup_max_pooling2d_nhwc_u8(op_.get(), x_[0], x_[2], x_[3], reinterpret_cast<const uint8_t*>(in[0]),
                                            reinterpret_cast<uint8_t*>(out[0]), threads),
            "setting up a uint8 max pool");
    else if (op == "MaxPool")
      check(xnn_setup_max_pooling2d_nhwc_f32(op_.get(), x_[0], x_[2], x_[3], in[0], out[0], threads),
            "setting up a max pool");
    else if (op == "AveragePool")
      check(xnn_setup_average_pooling2d_nhwc_f32(op_.get(), x_[0], x_[2], x_[3], in[0], out[0], threads),
            "setting up an average pool");
  }

  void run(pthreadpool_t threads) override {
    if (op_) {
      check(xnn_run_operator(op_.get(), threads), "running a pool");
      return;
    }
    // GlobalMaxPool: the running maximum over pixels, one channel vector at a time.
    const int64_t c = x_[1], pixels = x_[2] * x_[3];
    for (int64_t b = 0; b < x_[0]; ++b) {
      const float* src = x_ptr_ + b * pixels * c;
      float* dst = y_ptr_ + b * c;
      std::copy(src, src + c, dst);
      for (int64_t p = 1; p < pixels; ++p)
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] = std::max(dst[ch], src[p * c + ch]);
    }
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  Operator op_;
  graph::Shape x_;
  graph::DType dtype_ = graph::DType::kFloat32;
  const float* x_ptr_ = nullptr;
  float* y_ptr_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_pool_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  const graph::Shape& x = g.value(n.input(0)).shape;
  if (x.size() != 4) {
    why_not = "pooling over other than 2 spatial dimensions (XNNPACK's pools are 2-D)";
    return nullptr;
  }
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) {
    why_not = "MaxPool's Indices output";
    return nullptr;
  }
  if (n.op_type == "MaxPool" && n.attr_int("storage_order", 0) != 0) {
    why_not = "MaxPool storage_order 1";
    return nullptr;
  }
  if (n.op_type == "MaxPool" || n.op_type == "AveragePool") {
    auto geo = graph::window_geometry(n, x, n.attr_ints("kernel_shape"), n.attr_int("ceil_mode", 0) != 0);
    bool pads = false;
    for (size_t i = 0; i < 2; ++i) pads |= geo.pads_begin[i] != 0 || geo.pads_end[i] != 0;
    const bool integer = g.value(n.input(0)).dtype != graph::DType::kFloat32;
    if (integer && (n.op_type != "MaxPool" || geo.kernel[0] * geo.kernel[1] == 1)) {
      why_not = "an integer pool other than a MaxPool with a window";
      return nullptr;
    }
    // XNNPACK has no 1x1 window, and averages the pixels inside only: the shared loop.
    if (geo.kernel[0] * geo.kernel[1] == 1 ||
        (n.op_type == "AveragePool" && pads && n.attr_int("count_include_pad", 0) != 0))
      return make_loop_kernel(step, g, why_not);
    if (n.op_type == "AveragePool" && (geo.dilations[0] != 1 || geo.dilations[1] != 1)) {
      why_not = "a dilated AveragePool";
      return nullptr;
    }
  }
  return std::make_unique<PoolKernel>(step, g);
}

}  // namespace fluidedge::runtime::xnnpack
