// The ops oneDNN has no primitive for, run as the lean backends' shared loops
// (runtime/loop_ops.h) on plain layouts: the session reorders blocked inputs to plain first.
#include <omp.h>

#include <optional>

#include "runtime/fast/kernels/kernels.h"
#include "runtime/loop_ops.h"

namespace fluidedge::runtime::fast {

namespace {

class LoopKernel : public Kernel {
 public:
  LoopKernel(const FusedStep& step, const graph::Graph& g, std::unique_ptr<LoopOp> op) : op_(std::move(op)) {
    for (const auto& in : step.runtime_inputs(g)) {
      input_shapes_.push_back(g.value(in).shape);
      input_is_float_.push_back(g.value(in).dtype == graph::DType::kFloat32);
    }
    for (const auto& out : step.node.outputs)
      output_shapes_.push_back(out.empty() ? std::nullopt : std::optional(g.value(out).shape));
  }

  void plan(const dnnl::engine&, KernelPlan& plan) override {
    // Float inputs plain; a bool condition stays in the bytes it came in.
    for (size_t i = 0; i < plan.inputs.size(); ++i)
      if (input_is_float_[i]) plan.inputs[i] = plain_desc(input_shapes_[i]);
    plan.outputs.clear();
    for (const auto& shape : output_shapes_) plan.outputs.push_back(shape ? plain_desc(*shape) : memory::desc());
    plan.alias.assign(output_shapes_.size(), -1);
  }

  void execute(dnnl::stream&, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::vector<const float*> inputs;
    for (const memory& m : in) inputs.push_back(static_cast<const float*>(m.get_data_handle()));
    std::vector<float*> outputs;
    for (size_t i = 0; i < output_shapes_.size(); ++i)
      outputs.push_back(output_shapes_[i] && i < out.size() ? static_cast<float*>(out[i].get_data_handle()) : nullptr);
    op_->run(inputs, outputs, omp_get_max_threads());
  }

 private:
  std::unique_ptr<LoopOp> op_;
  std::vector<graph::Shape> input_shapes_;
  std::vector<bool> input_is_float_;
  std::vector<std::optional<graph::Shape>> output_shapes_;  // nullopt: an omitted output
};

}  // namespace

std::unique_ptr<Kernel> make_loop_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  std::unique_ptr<LoopOp> op = make_loop_op(step, g, why_not);
  if (!op) return nullptr;
  return std::make_unique<LoopKernel>(step, g, std::move(op));
}

}  // namespace fluidedge::runtime::fast
