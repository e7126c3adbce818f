// Gemm and MatMul on oneDNN's matmul primitive, with fused activations. Constant weights are
// reordered once into the primitive's preferred layout; transposes become strides.
#include <cstring>

#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

class LinearKernel : public Kernel {
 public:
  LinearKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const bool gemm = n.op_type == "Gemm";
    graph::Shape a = g_.value(n.input(0)).shape;
    graph::Shape b = g_.value(n.input(1)).shape;
    graph::Shape y = g_.value(n.outputs[0]).shape;
    const graph::Tensor* wconst = g_.initializer(n.input(1));
    size_t rank = y.size();
    // Equal ranks: leading 1s (broadcast batch dims).
    while (a.size() < rank) a.insert(a.begin(), 1);
    while (b.size() < rank) b.insert(b.begin(), 1);
    memory::dims bdims = to_dims(b), bstrides(rank, 1);
    bool trans_b = gemm && n.attr_int("transB", 0) != 0;
    if (trans_b) std::swap(bdims[rank - 1], bdims[rank - 2]);
    memory::desc src_md = plain_desc(a);
    memory::desc b_plain;
    {
      // B as stored ([.., K, N], or [N, K] for transB), viewed as [.., K, N].
      memory::dims st(rank, 1);
      for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; --i) st[i] = st[i + 1] * b[i + 1];
      if (trans_b) std::swap(st[rank - 1], st[rank - 2]);
      b_plain = memory::desc(bdims, memory::data_type::f32, st);
    }
    memory::desc w_md = wconst ? memory::desc(bdims, memory::data_type::f32, memory::format_tag::any) : b_plain;
    memory::desc dst_md = plain_desc(y);
    dnnl::primitive_attr attr = post_op_attr(step_);
    float alpha = gemm ? n.attr_float("alpha", 1.f) : 1.f;
    if (alpha != 1.f) attr.set_output_scales(0, {alpha});
    bool has_bias = gemm && n.has_input(2);
    memory::desc bias_md;
    if (has_bias) {
      memory::dims bias_dims(rank, 1);
      bias_dims[rank - 1] = y[rank - 1];
      bias_md = memory::desc(bias_dims, memory::data_type::f32, memory::format_tag::ab);
    }
    auto desc = has_bias ? dnnl::matmul::desc(src_md, w_md, bias_md, dst_md) : dnnl::matmul::desc(src_md, w_md, dst_md);
    pd_ = dnnl::matmul::primitive_desc(desc, attr, engine);
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);
    if (wconst && !weights_) weights_ = plan.constants->get(*wconst, b_plain, pd_.weights_desc(), engine);
    if (has_bias && !bias_) {
      // beta * C, broadcast to N values; alpha scales only A*B, so pre-divide (output scale
      // applies to the whole accumulation including bias in oneDNN).
      const graph::Tensor& c = *g_.initializer(n.input(2));
      float beta = n.attr_float("beta", 1.f);
      auto cv = c.to_float();
      std::vector<float> bias(static_cast<size_t>(y[rank - 1]));
      for (size_t j = 0; j < bias.size(); ++j) bias[j] = beta * cv[cv.size() == 1 ? 0 : j] / alpha;
      bias_ = memory(bias_md, engine);
      std::memcpy(bias_.get_data_handle(), bias.data(), bias.size() * sizeof(float));
    }
    // Inputs stay plain in their own rank; execute() views them with the padded rank.
    src_md_ = src_md;
    b_md_ = b_plain;
    plan.inputs[0] = plain_desc(g_.value(n.input(0)).shape);
    if (!wconst) plan.inputs[1] = plain_desc(g_.value(n.input(1)).shape);
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    const dnnl::engine& e = pd_.get_engine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src_md_, e, in[0].get_data_handle())},
        {DNNL_ARG_WEIGHTS, weights_ ? weights_ : memory(b_md_, e, in[1].get_data_handle())},
        {DNNL_ARG_DST, out[0]}};
    if (bias_) args[DNNL_ARG_BIAS] = bias_;
    prim_.execute(stream, std::move(args));
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  dnnl::matmul::primitive_desc pd_;
  PlannedPrimitive prim_;
  memory weights_, bias_;
  memory::desc src_md_, b_md_;
};

}  // namespace

std::unique_ptr<Kernel> make_linear_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  size_t ra = g.value(n.input(0)).shape.size(), rb = g.value(n.input(1)).shape.size();
  if (ra < 2 || rb < 2) {
    why_not = "MatMul with a 1-D operand";
    return nullptr;
  }
  if (n.op_type == "Gemm") {
    if (n.attr_int("transA", 0) != 0) {
      why_not = "Gemm with transA";
      return nullptr;
    }
    if (n.has_input(2)) {
      const graph::Tensor* c = g.initializer(n.input(2));
      int64_t cols = g.value(n.outputs[0]).shape[1];
      if (c == nullptr || (c->numel() != 1 && c->numel() != cols) || (c->rank() == 2 && c->dim(0) != 1)) {
        why_not = "Gemm whose C is not a constant bias row";
        return nullptr;
      }
    }
  }
  return std::make_unique<LinearKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
