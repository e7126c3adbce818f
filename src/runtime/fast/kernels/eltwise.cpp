// Standalone activations (those not fused into a preceding Conv/Gemm) on oneDNN's eltwise
// primitive, in the producer's layout.
#include <limits>

#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

class EltwiseKernel : public Kernel {
 public:
  explicit EltwiseKernel(const FusedStep& step) : step_(step) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    // The node itself and anything fused after it, as one list of eltwise operations.
    FusedStep as_chain;
    as_chain.post_ops.push_back(first_op());
    for (const auto& p : step_.post_ops) as_chain.post_ops.push_back(p);
    dnnl::primitive_attr attr = post_op_attr(as_chain);
    dnnl::post_ops ops = attr.get_post_ops();
    memory::desc md = plan.inputs[0];
    prims_.clear();
    for (int i = 0; i < ops.len(); ++i) {
      float scale, alpha, beta;
      dnnl::algorithm alg;
      ops.get_params_eltwise(i, scale, alg, alpha, beta);
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, md, alpha, beta);
      prims_.emplace_back(dnnl::eltwise_forward::primitive_desc(d, engine));
    }
    plan.outputs = {md};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    for (size_t i = 0; i < prims_.size(); ++i)
      prims_[i].execute(stream, {{DNNL_ARG_SRC, i == 0 ? in[0] : out[0]}, {DNNL_ARG_DST, out[0]}});
  }

 private:
  PostOp first_op() const {
    const graph::Node& n = step_.node;
    PostOp p;
    p.op_type = n.op_type;
    if (n.op_type == "LeakyRelu") p.alpha = n.attr_float("alpha", 0.01f);
    if (n.op_type == "HardSigmoid") {
      p.alpha = n.attr_float("alpha", 0.2f);
      p.beta = n.attr_float("beta", 0.5f);
    }
    return p;
  }

  FusedStep step_;
  std::vector<dnnl::eltwise_forward> prims_;
};

// Clip bounds come from constant inputs, which first_op cannot see; handled here.
class ClipKernel : public Kernel {
 public:
  ClipKernel(float lo, float hi) : lo_(lo), hi_(hi) {}
  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_clip_v2,
                                  plan.inputs[0], lo_, hi_);
    prim_ = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, engine));
    plan.outputs = {plan.inputs[0]};
    plan.alias = {-1};
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    prim_.execute(stream, {{DNNL_ARG_SRC, in[0]}, {DNNL_ARG_DST, out[0]}});
  }

 private:
  float lo_, hi_;
  dnnl::eltwise_forward prim_;
};

}  // namespace

std::unique_ptr<Kernel> make_eltwise_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (step.node.op_type == "Clip") {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (step.node.has_input(1)) lo = g.initializer(step.node.input(1))->to_float()[0];
    if (step.node.has_input(2)) hi = g.initializer(step.node.input(2))->to_float()[0];
    return std::make_unique<ClipKernel>(lo, hi);
  }
  return std::make_unique<EltwiseKernel>(step);
}

}  // namespace fluidedge::runtime::fast
