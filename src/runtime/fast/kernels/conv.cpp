// Conv (1-D to 3-D, grouped, dilated) with fused activations and residual sum, on oneDNN's
// convolution primitive. Weights are reordered once into the layout the primitive wants.
#include "graph/op_schema.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

// Whether oneDNN runs a convolution with a jit or brgemm kernel (not the reference loops or the
// im2col + gemm path).
bool optimised(const dnnl::convolution_forward::primitive_desc& pd) {
  std::string impl = pd.impl_info_str();
  return impl.find("ref") == std::string::npos && impl.find("gemm:") == std::string::npos;
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& x = g_.value(n.input(0)).shape;
    const graph::Tensor& w = *g_.initializer(n.input(1));
    const graph::Shape& y = g_.value(step_.node.outputs[0]).shape;
    auto geo = graph::window_geometry(n, x, {w.shape().begin() + 2, w.shape().end()}, false);
    int64_t groups = n.attr_int("group", 1);
    memory::dims wdims = to_dims(w.shape());
    if (groups > 1) {
      wdims[0] /= groups;
      wdims.insert(wdims.begin(), groups);
    }
    memory::dims strides(geo.strides.begin(), geo.strides.end());
    memory::dims dilates, pl(geo.pads_begin.begin(), geo.pads_begin.end()), pr(geo.pads_end.begin(), geo.pads_end.end());
    for (int64_t d : geo.dilations) dilates.push_back(d - 1);
    auto any = memory::format_tag::any;
    memory::desc src_md(to_dims(x), memory::data_type::f32, any);
    memory::desc w_md(wdims, memory::data_type::f32, any);
    memory::desc dst_md(to_dims(y), memory::data_type::f32, any);
    bool has_bias = n.has_input(2);
    memory::desc b_md({w.dim(0)}, memory::data_type::f32, memory::format_tag::a);
    auto make_pd = [&](const memory::desc& src, const memory::desc& dst = memory::desc()) {
      auto desc = has_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                              dnnl::algorithm::convolution_direct, src, w_md, b_md,
                                                              dst.is_zero() ? dst_md : dst, strides, dilates, pl, pr)
                           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                              dnnl::algorithm::convolution_direct, src, w_md, dst.is_zero() ? dst_md : dst,
                                                              strides, dilates, pl, pr);
      return dnnl::convolution_forward::primitive_desc(desc, post_op_attr(step_), engine);
    };
    pd_ = make_pd(src_md);
    // The blocked policy: nChw16c in and out (a plain input when it has few channels, as the
    // first layer's image), where an optimised kernel takes it.
    if (plan.layout == ActivationLayout::kChannelBlocked && x.size() == 4) {
      auto blocked = memory::format_tag::aBcd16b;
      try {
        auto alt = make_pd(memory::desc(to_dims(x), memory::data_type::f32, x[1] < 8 ? memory::format_tag::abcd : blocked),
                           memory::desc(to_dims(y), memory::data_type::f32, blocked));
        if (optimised(alt)) pd_ = alt;
      } catch (const dnnl::error&) {
        // no implementation for these layouts: oneDNN's choice
      }
    }
    // A grouped (not depthwise) convolution has only a blocked (nChw16c on AVX-512) optimised
    // implementation, while the dense convolutions around it prefer channels-last: two reorders
    // per block (14 % of RegNetX at batch 32). So a convolution fed a blocked layout takes it as
    // it is when an optimised (jit or brgemm) implementation runs on it, and the layout carries on.
    const memory::desc& have = plan.inputs[0];
    if (have != pd_.src_desc() && have.dims() == to_dims(x) && have.data.format_kind == dnnl_blocked &&
        have.data.format_desc.blocking.inner_nblks > 0) {
      try {
        auto alt = make_pd(have);
        if (optimised(alt)) pd_ = alt;
      } catch (const dnnl::error&) {
        // no implementation takes that layout: keep the reorder
      }
    }
    prim_ = dnnl::convolution_forward(pd_);

    // Weights into the primitive's layout, once per layout.
    if (!weights_ || weights_.get_desc() != pd_.weights_desc()) {
      memory plain = constant_memory(w, engine);
      memory::desc plain_md = plain.get_desc().reshape(wdims);
      memory src(plain_md, engine, plain.get_data_handle());
      weights_ = memory(pd_.weights_desc(), engine);
      dnnl::stream s(engine);
      dnnl::reorder(src, weights_).execute(s, src, weights_);
      s.wait();
    }
    if (has_bias && !bias_) bias_ = constant_memory(*g_.initializer(n.input(2)), engine);

    plan.inputs[0] = pd_.src_desc();
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
    for (size_t i = 1; i < plan.inputs.size(); ++i) {  // the residual operand of a sum post-op
      plan.inputs[i] = pd_.dst_desc();
      plan.sum_input = static_cast<int>(i);
    }
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in[0]}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, out[0]}};
    if (bias_) args[DNNL_ARG_BIAS] = bias_;
    prim_.execute(stream, args);
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::convolution_forward prim_;
  memory weights_, bias_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  if (!g.is_initializer(n.input(1)) || (n.has_input(2) && !g.is_initializer(n.input(2)))) {
    why_not = "convolution weights computed at run time";
    return nullptr;
  }
  size_t spatial = g.value(n.input(0)).shape.size() - 2;
  if (spatial < 1 || spatial > 3) {
    why_not = fmt::format("{}-D convolution", spatial);
    return nullptr;
  }
  return std::make_unique<ConvKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
