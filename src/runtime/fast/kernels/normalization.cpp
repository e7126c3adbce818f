// BatchNormalization (when it could not be folded into a convolution) and Softmax.
#include "graph/op_schema.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

class BatchNormKernel : public Kernel {
 public:
  BatchNormKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                 dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, plan.inputs[0],
                                              n.attr_float("epsilon", 1e-5f), flags);
    pd_ = dnnl::batch_normalization_forward::primitive_desc(d, post_op_attr(step_), engine);
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);
    scale_ = constant_memory(*g_.initializer(n.input(1)), engine);
    shift_ = constant_memory(*g_.initializer(n.input(2)), engine);
    mean_ = constant_memory(*g_.initializer(n.input(3)), engine);
    var_ = constant_memory(*g_.initializer(n.input(4)), engine);
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    prim_.execute(stream, {{DNNL_ARG_SRC, in[0]},
                           {DNNL_ARG_DST, out[0]},
                           {DNNL_ARG_SCALE, scale_},
                           {DNNL_ARG_SHIFT, shift_},
                           {DNNL_ARG_MEAN, mean_},
                           {DNNL_ARG_VARIANCE, var_}});
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  dnnl::batch_normalization_forward::primitive_desc pd_;
  PlannedPrimitive prim_;
  memory scale_, shift_, mean_, var_;
};

class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Shape& x = g_.value(step_.node.input(0)).shape;
    int axis = static_cast<int>(
        graph::normalize_axis(step_.node, step_.node.attr_int("axis", -1), static_cast<int64_t>(x.size())));
    memory::desc md = plain_desc(x);
    dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, md, axis);
    dnnl::softmax_forward::primitive_desc pd(d, scratchpad_attr(), engine);
    prim_ = PlannedPrimitive(pd, plan.scratchpad);
    plan.inputs[0] = md;
    plan.outputs = {md};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    prim_.execute(stream, {{DNNL_ARG_SRC, in[0]}, {DNNL_ARG_DST, out[0]}});
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  PlannedPrimitive prim_;
};

}  // namespace

std::unique_ptr<Kernel> make_batch_norm_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  for (size_t i = 1; i < 5; ++i)
    if (!g.is_initializer(n.input(i))) {
      why_not = "BatchNormalization with statistics computed at run time";
      return nullptr;
    }
  if (n.outputs.size() > 1 || n.attr_int("training_mode", 0) != 0) {
    why_not = "BatchNormalization in training mode";
    return nullptr;
  }
  if (g.value(n.input(0)).shape.size() < 2) {
    why_not = "BatchNormalization of a rank-1 tensor";
    return nullptr;
  }
  return std::make_unique<BatchNormKernel>(step, g);
}

std::unique_ptr<Kernel> make_softmax_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (g.value(step.node.input(0)).shape.empty()) {
    why_not = "Softmax of a scalar";
    return nullptr;
  }
  return std::make_unique<SoftmaxKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
