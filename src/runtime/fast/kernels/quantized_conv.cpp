// QLinearConv on oneDNN's int8 convolution: uint8 or int8 activations, int8 weights (per tensor
// or per output channel), int32 bias, requantized to uint8 or int8 in the primitive.
//
// oneDNN computes dst = saturate(round(scale[oc] * (sum (src - src_zp) * w + bias)) + dst_zp)
// with scale = x_scale * w_scale[oc] / y_scale, ONNX's definition; where the CPU has VNNI the
// u8 x s8 products accumulate exactly in int32. Without VNNI, oneDNN's AVX2/AVX-512 kernels
// multiply with vpmaddubsw, whose pairwise sums saturate at int16: full-range weights can then be
// off by many steps (docs/int8-research.md measured up to ~200). There, weights that use all 8
// bits run on the shared integer loops instead (exact), and 7-bit ones (reduce_range, as
// PyTorch's x86 qconfig makes them) on oneDNN. A weight zero point other than 0 has no oneDNN
// kernel: such convolutions run on the loops too. An output zero point is added after rounding
// (see plan()).
#include <algorithm>
#include <cstdlib>

#include "graph/op_schema.h"
#include "graph/quantization.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

bool has_vnni() {
  auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_vnni || isa == dnnl::cpu_isa::avx512_core_bf16 ||
         isa == dnnl::cpu_isa::avx512_core_amx || isa == dnnl::cpu_isa::avx2_vnni;
}

class QuantizedConvKernel : public Kernel {
 public:
  QuantizedConvKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {
    const graph::Node& n = step_.node;
    const graph::Shape& x = g_.value(n.input(0)).shape;
    x_ = graph::quant_params(g_, n, 1, 2, g_.value(n.input(0)).dtype, 1, static_cast<int64_t>(x.size()));
    w_ = graph::quant_params(g_, n, 4, 5, g_.value(n.input(3)).dtype, 0, static_cast<int64_t>(x.size()));
    y_ = graph::quant_params(g_, n, 6, 7, graph::DType::kUInt8, 1, static_cast<int64_t>(x.size()));
  }

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    memory::dims x = to_dims(g_.value(n.input(0)).shape), y = to_dims(g_.value(n.outputs[0]).shape);
    const graph::Tensor& w = *g_.initializer(n.input(3));
    auto geo = graph::window_geometry(n, g_.value(n.input(0)).shape, {w.shape().begin() + 2, w.shape().end()}, false);
    memory::dims strides(geo.strides.begin(), geo.strides.end()), dilates,
        pl(geo.pads_begin.begin(), geo.pads_begin.end()), pr(geo.pads_end.begin(), geo.pads_end.end());
    for (int64_t d : geo.dilations) dilates.push_back(d - 1);

    using tag = memory::format_tag;
    memory::desc src(x, dnnl_type(x_.dtype), tag::any), dst(y, dnnl_type(y_.dtype), tag::any);
    memory::desc wmd(weight_dims(), memory::data_type::s8, tag::any);
    auto kind = dnnl::prop_kind::forward_inference;
    auto alg = dnnl::algorithm::convolution_direct;
    auto desc = n.has_input(8) ? dnnl::convolution_forward::desc(
                                     kind, alg, src, wmd, memory::desc({w.dim(0)}, memory::data_type::s32, tag::a), dst,
                                     strides, dilates, pl, pr)
                               : dnnl::convolution_forward::desc(kind, alg, src, wmd, dst, strides, dilates, pl, pr);

    dnnl::primitive_attr attr = scratchpad_attr();
    std::vector<float> scales(w_.scale.size());
    for (size_t c = 0; c < scales.size(); ++c)
      scales[c] = x_.scale[0] * w_.scale[c] / y_.scale[0];  // in float32, as ONNX Runtime
    attr.set_output_scales(w_.per_tensor() ? 0 : 1 << 1, scales);
    if (x_.zero_point[0] != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {x_.zero_point[0]});
    if (y_.zero_point[0] != 0) {
      // oneDNN adds the output zero point before it rounds, in float32, which now and then moves
      // a value next to a rounding boundary across it (one step; a deep network grows it into
      // many). Rounding first, as ONNX Runtime does, makes the sum exact.
      dnnl::post_ops round;
      round.append_eltwise(1.f, dnnl::algorithm::eltwise_round, 0.f, 0.f);
      attr.set_post_ops(round);
      attr.set_zero_points(DNNL_ARG_DST, 0, {y_.zero_point[0]});
    }
    pd_ = dnnl::convolution_forward::primitive_desc(desc, attr, engine);
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);

    if (!weights_ || weights_.get_desc() != pd_.weights_desc())
      weights_ = plan.constants->get(w, plain_desc(w.shape(), memory::data_type::s8).reshape(weight_dims()),
                                     pd_.weights_desc(), engine);
    if (n.has_input(8) && !bias_) {
      const graph::Tensor& b = *g_.initializer(n.input(8));
      bias_ = memory(memory::desc({b.numel()}, memory::data_type::s32, tag::a), engine);
      std::copy_n(b.data<int32_t>(), b.numel(), static_cast<int32_t*>(bias_.get_data_handle()));
    }
    plan.inputs[0] = pd_.src_desc();
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in[0]}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, out[0]}};
    if (bias_) args[DNNL_ARG_BIAS] = bias_;
    prim_.execute(stream, std::move(args));
  }

 private:
  memory::dims weight_dims() const {
    return convolution_weight_dims(g_.initializer(step_.node.input(3))->shape(), step_.node.attr_int("group", 1));
  }

  FusedStep step_;
  const graph::Graph& g_;
  graph::QuantParams x_, w_, y_;
  dnnl::convolution_forward::primitive_desc pd_;
  PlannedPrimitive prim_;
  memory weights_, bias_;
};

// Why oneDNN's int8 convolution cannot run the QLinearConv (empty when it can).
std::string quantized_conv_problem(const FusedStep& step, const graph::Graph& g) {
  const graph::Node& n = step.node;
  if (!g.is_initializer(n.input(3)) || (n.has_input(8) && !g.is_initializer(n.input(8))))
    return "convolution weights computed at run time";
  if (g.value(n.input(0)).shape.size() != 4) return "not a 2-D convolution";
  const graph::Tensor& w = *g.initializer(n.input(3));
  if (w.dtype() != graph::DType::kInt8) return "uint8 weights";
  auto wq = graph::quant_params(g, n, 4, 5, w.dtype(), 0, w.rank());
  for (int32_t zp : wq.zero_point)
    if (zp != 0) return "a weight zero point other than 0";
  if (!has_vnni()) {
    auto values = w.values<int8_t>();
    if (std::any_of(values.begin(), values.end(), [](int8_t v) { return v < -64 || v > 63; }))
      return "8-bit weights on a CPU without VNNI (int16 saturation in vpmaddubsw)";
  }
  return "";
}

}  // namespace

std::unique_ptr<Kernel> make_quantized_conv_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (std::string problem = quantized_conv_problem(step, g); !problem.empty()) {
    // The shared integer loops run every QLinearConv exactly.
    if (auto loop = make_loop_kernel(step, g, why_not)) return loop;
    why_not = problem;
    return nullptr;
  }
  return std::make_unique<QuantizedConvKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
