// Standalone activations (those not fused into a preceding Conv/Gemm) on oneDNN's eltwise
// primitive, in the producer's layout.
#include <omp.h>

#include <cstring>
#include <optional>

#include "runtime/fast/kernels/kernels.h"
#include "runtime/loop_ops.h"

namespace fluidedge::runtime::fast {

namespace {

// The activation and anything fused after it, as a chain of eltwise primitives (the first
// reads the input, the rest work in place on the output). Erf, which oneDNN 2.6 has no
// primitive for, runs as the shared loop over the whole buffer: erf(0) = 0 keeps a blocked
// layout's zero padding zero, so it too works in any layout.
class EltwiseKernel : public Kernel {
 public:
  EltwiseKernel(const FusedStep& step, const graph::Graph& g) : step_(step) {
    chain_.push_back(activation_post_op(g, step.node));
    for (const auto& p : step.post_ops) chain_.push_back(p);
  }

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    memory::desc md = plan.inputs[0];
    stages_.clear();
    for (const PostOp& p : chain_) {
      if (p.is(Activation::kErf)) {
        stages_.push_back({std::nullopt, p});
        continue;
      }
      FusedStep one;
      one.post_ops = {p};
      dnnl::primitive_attr attr = post_op_attr(one);  // get_post_ops() does not own: keep attr alive
      dnnl::post_ops ops = attr.get_post_ops();
      for (int i = 0; i < ops.len(); ++i) {
        float scale, alpha, beta;
        dnnl::algorithm alg;
        ops.get_params_eltwise(i, scale, alg, alpha, beta);
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, md, alpha, beta);
        dnnl::eltwise_forward::primitive_desc pd(d, scratchpad_attr(), engine);
        stages_.push_back({PlannedPrimitive(pd, plan.scratchpad), p});
      }
    }
    floats_ = md.get_size() / sizeof(float);
    plan.outputs = {md};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    for (size_t i = 0; i < stages_.size(); ++i) {
      Stage& s = stages_[i];
      if (s.primitive) {
        s.primitive->execute(stream, {{DNNL_ARG_SRC, i == 0 ? in[0] : out[0]}, {DNNL_ARG_DST, out[0]}});
        continue;
      }
      stream.wait();
      auto* y = static_cast<float*>(out[0].get_data_handle());
      if (i == 0) std::memcpy(y, in[0].get_data_handle(), floats_ * sizeof(float));
      activation_in_place(s.loop, y, floats_, omp_get_max_threads());
    }
  }

 private:
  struct Stage {
    std::optional<PlannedPrimitive> primitive;  // or the shared loop of `loop`
    PostOp loop;
  };
  FusedStep step_;
  std::vector<PostOp> chain_;
  std::vector<Stage> stages_;
  size_t floats_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_eltwise_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (!is_fusable_activation(g, step.node)) {
    why_not = "Clip with bounds computed at run time";
    return nullptr;
  }
  return std::make_unique<EltwiseKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
