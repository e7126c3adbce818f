// Standalone activations (those not fused into a preceding Conv/Gemm) on oneDNN's eltwise
// primitive, in the producer's layout.
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

// The activation and anything fused after it, as a chain of eltwise primitives (the first
// reads the input, the rest work in place on the output).
class EltwiseKernel : public Kernel {
 public:
  EltwiseKernel(const FusedStep& step, const graph::Graph& g) : step_(step) {
    chain_.post_ops.push_back(activation_post_op(g, step.node));
    for (const auto& p : step.post_ops) chain_.post_ops.push_back(p);
  }

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    dnnl::primitive_attr attr = post_op_attr(chain_);  // get_post_ops() does not own: keep attr alive
    dnnl::post_ops ops = attr.get_post_ops();
    memory::desc md = plan.inputs[0];
    prims_.clear();
    for (int i = 0; i < ops.len(); ++i) {
      float scale, alpha, beta;
      dnnl::algorithm alg;
      ops.get_params_eltwise(i, scale, alg, alpha, beta);
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, md, alpha, beta);
      dnnl::eltwise_forward::primitive_desc pd(d, scratchpad_attr(), engine);
      prims_.emplace_back(pd, plan.scratchpad);
    }
    plan.outputs = {md};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    for (size_t i = 0; i < prims_.size(); ++i)
      prims_[i].execute(stream, {{DNNL_ARG_SRC, i == 0 ? in[0] : out[0]}, {DNNL_ARG_DST, out[0]}});
  }

 private:
  FusedStep step_;
  FusedStep chain_;
  std::vector<PlannedPrimitive> prims_;
};

}  // namespace

std::unique_ptr<Kernel> make_eltwise_kernel(const FusedStep& step, const graph::Graph& g, std::string&) {
  return std::make_unique<EltwiseKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
