// The ops oneDNN has no primitive for, run as the lean backends' shared loops
// (runtime/loop_ops.h) on plain layouts: the session reorders blocked inputs to plain first.
#include <omp.h>

#include "runtime/fast/kernels/kernels.h"
#include "runtime/loop_ops.h"

namespace fluidedge::runtime::fast {

namespace {

class LoopKernel : public Kernel {
 public:
  LoopKernel(const FusedStep& step, const graph::Graph& g, std::unique_ptr<LoopOp> op) : op_(std::move(op)) {
    for (const auto& in : step.runtime_inputs(g)) input_shapes_.push_back(g.value(in).shape);
    output_shape_ = g.value(step.node.outputs[0]).shape;
  }

  void plan(const dnnl::engine&, KernelPlan& plan) override {
    for (size_t i = 0; i < plan.inputs.size(); ++i) plan.inputs[i] = plain_desc(input_shapes_[i]);
    plan.outputs = {plain_desc(output_shape_)};
    plan.alias = {-1};
  }

  void execute(dnnl::stream&, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::vector<const float*> inputs;
    for (const memory& m : in) inputs.push_back(static_cast<const float*>(m.get_data_handle()));
    op_->run(inputs, static_cast<float*>(out[0].get_data_handle()), omp_get_max_threads());
  }

 private:
  std::unique_ptr<LoopOp> op_;
  std::vector<graph::Shape> input_shapes_;
  graph::Shape output_shape_;
};

}  // namespace

std::unique_ptr<Kernel> make_loop_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  std::unique_ptr<LoopOp> op = make_loop_op(step, g, why_not);
  if (!op) return nullptr;
  return std::make_unique<LoopKernel>(step, g, std::move(op));
}

}  // namespace fluidedge::runtime::fast
