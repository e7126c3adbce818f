// Conv (2-D, grouped, depthwise, dilated) on XNNPACK's NHWC convolution, with the fused
// activations and residual sum of its step. XNNPACK packs the weights when the operator is made;
// Relu and Clip fold into its output range, a residual sum runs as an in-place add (itself with
// the range of the activations after it), and other activations run in place after it.
//
// A convolution whose packed weights exceed an eighth of the core's L2 cache runs as several
// operators, each for a block of output channels writing its slice of the output's pixels:
// XNNPACK's single-thread loop streams all of an operator's weights once per block of output
// pixels (7 on AVX-512), so ResNet's 3x3 512->512 convolution (9.4 MB of weights, 7x7 pixels)
// would stream them from memory seven times; a block's weights stay in L2 beside the input.
// (Measured on ResNet-18 at batch 1 here: the convolutions take 64 ms unblocked, 43-56 ms in
// blocks of L2/8; the machine is noisy, the ordering was not.)
//
// A convolution over few input channels (a network's first, on RGB) runs as im2col and XNNPACK's
// fully-connected GEMM instead: its indirect GEMM reads each of the kh x kw input pixels as a run
// of C floats, and for C = 3 the kernel spends its time moving between them. The columns are
// built in chunks of output pixels that stay in L2.
#include <cpuinfo.h>

#include <algorithm>

#include "graph/op_schema.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

// The bytes of packed weights one operator may have: an eighth of the L2 cache of the first
// core (at least 64 KiB; 128 KiB when cpuinfo cannot tell).
size_t weight_block_budget() {
  static const size_t budget = [] {
    size_t l2 = 0;
    if (cpuinfo_initialize() && cpuinfo_get_l2_caches_count() > 0) l2 = cpuinfo_get_l2_cache(0)->size;
    return l2 > 0 ? std::max<size_t>(l2 / 8, 64 * 1024) : 128 * 1024;
  }();
  return budget;
}

}  // namespace

int64_t conv_channel_block(int64_t out_c, int64_t k, int64_t pixels) {
  constexpr int64_t kTile = 16;
  const auto bytes = static_cast<size_t>(out_c * k) * sizeof(float);
  if (bytes <= weight_block_budget() || pixels <= 8 || out_c <= kTile) return out_c;
  int64_t blocks = static_cast<int64_t>((bytes + weight_block_budget() - 1) / weight_block_budget());
  int64_t per_block = (out_c + blocks - 1) / blocks;
  return std::min(out_c, (per_block + kTile - 1) / kTile * kTile);
}

namespace {

// The post-ops before a sum, the sum's operand index among them (-1: none), the post-ops after.
struct SplitPostOps {
  std::vector<PostOp> before, after;
  bool sum = false;
};

SplitPostOps split_at_sum(const std::vector<PostOp>& ops) {
  SplitPostOps s;
  for (const PostOp& p : ops) {
    if (p.kind == PostOp::Kind::kSum) {
      s.sum = true;
      continue;
    }
    (s.sum ? s.after : s.before).push_back(p);
  }
  return s;
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {
    SplitPostOps ops = split_at_sum(step.post_ops);
    before_ = ActivationChain(ops.before);
    after_ = ActivationChain(ops.after);
    sum_ = ops.sum;
  }

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& y = g_.value(n.outputs[0]).shape;
    create_operators(static_cast<size_t>(y[1]));
    const size_t count = static_cast<size_t>(graph::shape_numel(y));
    before_.plan(count);
    xnn_operator_t op = nullptr;
    if (sum_) {
      check(xnn_create_add_nd_f32(after_.output_min(), after_.output_max(), 0, &op), "a residual sum");
      add_.reset(op);
    }
    after_.plan(count);
    in_shape_ = g_.value(n.input(0)).shape;
    out_shape_ = nhwc_shape(y);
    for (Layout& l : plan.inputs) l = Layout::kNhwc;
    plan.outputs = {Layout::kNhwc};
    plan.alias = {-1};
  }

  // Into a concatenation along channels: every output pixel `row_stride` floats after the last,
  // when all its activations fold into XNNPACK's output range (the others run on dense buffers).
  bool can_write_rows(size_t rows, size_t row_stride) const override {
    if (rows == 1) return true;
    const auto pixels = static_cast<size_t>(out_shape_[0] * out_shape_[1] * out_shape_[2]);
    return rows == pixels && row_stride >= static_cast<size_t>(out_shape_[3]) && !sum_ && before_.empty() &&
           after_.empty();
  }
  void write_rows(size_t rows, size_t row_stride) override {
    if (rows > 1) create_operators(row_stride);
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    input_ = in[0];
    output_ = out[0];
    for (Block& b : blocks_)
      check(xnn_setup_convolution2d_nhwc_f32(b.op.get(), in_shape_[0], in_shape_[2], in_shape_[3], in[0],
                                             out[0] + b.first_channel, threads),
            "setting up a convolution");
    before_.bind(out[0], threads);
    if (add_) {
      std::vector<size_t> s(out_shape_.begin(), out_shape_.end());
      check(xnn_setup_add_nd_f32(add_.get(), s.size(), s.data(), s.size(), s.data(), out[0], in[1], out[0], threads),
            "setting up a residual sum");
    }
    after_.bind(out[0], threads);
  }

  void run(pthreadpool_t threads) override {
    if (gemm_) run_im2col(threads);
    for (Block& b : blocks_) check(xnn_run_operator(b.op.get(), threads), "running a convolution");
    before_.run(threads);
    if (add_) check(xnn_run_operator(add_.get(), threads), "running a residual sum");
    after_.run(threads);
  }

 private:
  // XNNPACK's convolution operators (weights packed), writing pixels `output_stride` floats apart.
  void create_operators(size_t output_stride) {
    const graph::Node& n = step_.node;
    const graph::Shape& x = g_.value(n.input(0)).shape;
    const graph::Shape& y = g_.value(n.outputs[0]).shape;
    const graph::Tensor& w = *g_.initializer(n.input(1));
    const int64_t groups = n.attr_int("group", 1);
    const int64_t out_c = w.dim(0), group_in = w.dim(1), group_out = out_c / groups;
    const int64_t kh = w.dim(2), kw = w.dim(3);
    auto geo = graph::window_geometry(n, x, {kh, kw}, false);

    // ONNX's [O, I/g, kh, kw] to XNNPACK's [g][O/g][kh][kw][I/g] (for depthwise, [g][kh][kw]: the same).
    std::vector<float> wt = w.to_float();
    std::vector<float> packed(wt.size());
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t i = 0; i < group_in; ++i)
        for (int64_t k = 0; k < kh * kw; ++k)
          packed[(o * kh * kw + k) * group_in + i] = wt[(o * group_in + i) * kh * kw + k];
    std::vector<float> bias;
    if (n.has_input(2)) bias = g_.initializer(n.input(2))->to_float();

    blocks_.clear();
    gemm_.reset();
    if (groups == 1 && group_in <= kIm2colMaxChannels && kh * kw > 1) {
      im2col_ = {geo, x[1], x[2], x[3], y[2], y[3], kh, kw, kh * kw * group_in, output_stride};
      const auto k = static_cast<size_t>(im2col_.k);
      rows_ = std::max<size_t>(16, weight_block_budget() / (k * sizeof(float)));
      columns_ = float_buffer(rows_ * k, "a convolution's columns");
      xnn_operator_t op = nullptr;
      check(xnn_create_fully_connected_nc_f32(k, static_cast<size_t>(out_c), k, output_stride, packed.data(),
                                              bias.empty() ? nullptr : bias.data(), before_.output_min(),
                                              before_.output_max(), 0, &op),
            "a convolution as a GEMM");
      gemm_.reset(op);
      return;
    }
    const int64_t block = groups == 1 ? conv_channel_block(out_c, kh * kw * group_in, y[2] * y[3]) : group_out;
    for (int64_t first = 0; first < group_out; first += block) {
      const int64_t channels = std::min(block, group_out - first);
      xnn_operator_t op = nullptr;
      check(xnn_create_convolution2d_nhwc_f32(
                static_cast<uint32_t>(geo.pads_begin[0]), static_cast<uint32_t>(geo.pads_end[1]),
                static_cast<uint32_t>(geo.pads_end[0]), static_cast<uint32_t>(geo.pads_begin[1]),
                static_cast<uint32_t>(kh), static_cast<uint32_t>(kw), static_cast<uint32_t>(geo.strides[0]),
                static_cast<uint32_t>(geo.strides[1]), static_cast<uint32_t>(geo.dilations[0]),
                static_cast<uint32_t>(geo.dilations[1]), static_cast<uint32_t>(groups), static_cast<size_t>(group_in),
                static_cast<size_t>(channels), static_cast<size_t>(groups * group_in), output_stride,
                packed.data() + first * kh * kw * group_in, bias.empty() ? nullptr : bias.data() + first,
                before_.output_min(), before_.output_max(), 0, &op),
            "a convolution");
      blocks_.push_back({Operator(op), static_cast<size_t>(first)});
    }
  }

  // Convolutions over this many input channels or fewer run as im2col + GEMM.
  static constexpr int64_t kIm2colMaxChannels = 4;

  // Output pixels [first, first + rows) as rows of the GEMM's input: the kh x kw x C window of
  // each, in the weights' [kh][kw][C] order, zeros where it lies in the padding.
  void fill_columns(size_t first, size_t rows) const {
    const Im2col& c = im2col_;
    const int64_t sh = c.geo.strides[0], sw = c.geo.strides[1], dh = c.geo.dilations[0], dw = c.geo.dilations[1];
    const int64_t pt = c.geo.pads_begin[0], pl = c.geo.pads_begin[1];
    float* dst = columns_.get();
    for (size_t r = 0; r < rows; ++r) {
      const auto p = static_cast<int64_t>(first + r);
      const int64_t n = p / (c.oh * c.ow), oy = p / c.ow % c.oh, ox = p % c.ow;
      const int64_t ix0 = ox * sw - pl;
      for (int64_t ky = 0; ky < c.kh; ++ky, dst += c.kw * c.channels) {
        const int64_t iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= c.h) {
          std::fill(dst, dst + c.kw * c.channels, 0.f);
          continue;
        }
        const float* row = input_ + (n * c.h + iy) * c.w * c.channels;
        if (dw == 1 && ix0 >= 0 && ix0 + c.kw <= c.w) {
          std::copy(row + ix0 * c.channels, row + (ix0 + c.kw) * c.channels, dst);
          continue;
        }
        for (int64_t kx = 0; kx < c.kw; ++kx) {
          const int64_t ix = ix0 + kx * dw;
          float* to = dst + kx * c.channels;
          if (ix < 0 || ix >= c.w) {
            std::fill(to, to + c.channels, 0.f);
          } else {
            std::copy(row + ix * c.channels, row + (ix + 1) * c.channels, to);
          }
        }
      }
    }
  }

  // The GEMM over chunks of output pixels (set up per chunk: the columns buffer is reused).
  void run_im2col(pthreadpool_t threads) {
    const auto pixels = static_cast<size_t>(out_shape_[0] * out_shape_[1] * out_shape_[2]);
    for (size_t first = 0; first < pixels; first += rows_) {
      const size_t rows = std::min(rows_, pixels - first);
      fill_columns(first, rows);
      check(xnn_setup_fully_connected_nc_f32(gemm_.get(), rows, columns_.get(), output_ + first * im2col_.output_stride,
                                             threads),
            "setting up a convolution as a GEMM");
      check(xnn_run_operator(gemm_.get(), threads), "running a convolution as a GEMM");
    }
  }

  FusedStep step_;
  const graph::Graph& g_;
  ActivationChain before_, after_;
  bool sum_ = false;
  // The im2col path: its geometry (input C, H, W; output H, W; kernel; columns per pixel).
  struct Im2col {
    graph::WindowGeometry geo;
    int64_t channels = 0, h = 0, w = 0, oh = 0, ow = 0, kh = 0, kw = 0, k = 0;
    size_t output_stride = 0;
  };
  Im2col im2col_;
  Operator gemm_;
  std::shared_ptr<float[]> columns_;
  size_t rows_ = 0;  // output pixels per chunk
  const float* input_ = nullptr;
  float* output_ = nullptr;
  // One operator per block of output channels (usually one block).
  struct Block {
    Operator op;
    size_t first_channel;
  };
  std::vector<Block> blocks_;
  Operator add_;
  graph::Shape in_shape_, out_shape_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  if (!g.is_initializer(n.input(1)) || (n.has_input(2) && !g.is_initializer(n.input(2)))) {
    why_not = "convolution weights computed at run time";
    return nullptr;
  }
  if (size_t spatial = g.value(n.input(0)).shape.size() - 2; spatial != 2) {
    why_not = fmt::format("{}-D convolution (XNNPACK's are 2-D)", spatial);
    return nullptr;
  }
  return std::make_unique<ConvKernel>(step, g);
}

}  // namespace fluidedge::runtime::xnnpack
