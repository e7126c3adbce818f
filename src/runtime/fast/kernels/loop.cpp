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
    for (const auto& in : step.runtime_inputs(g)) inputs_.push_back(g.value(in));
    for (const auto& out : step.node.outputs)
      outputs_.push_back(out.empty() ? std::nullopt : std::optional(g.value(out)));
  }

  void plan(const dnnl::engine&, KernelPlan& plan) override {
    // Plain, each of its own type; a bool condition stays in the bytes it came in.
    for (size_t i = 0; i < plan.inputs.size(); ++i)
      if (inputs_[i].dtype != graph::DType::kBool) plan.inputs[i] = value_desc(inputs_[i]);
    plan.outputs.clear();
    for (const auto& v : outputs_) plan.outputs.push_back(v ? value_desc(*v) : memory::desc());
    plan.alias.assign(outputs_.size(), -1);
  }

  void execute(dnnl::stream&, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::vector<const void*> inputs;
    for (const memory& m : in) inputs.push_back(m.get_data_handle());
    std::vector<void*> outputs;
    for (size_t i = 0; i < outputs_.size(); ++i)
      outputs.push_back(outputs_[i] && i < out.size() ? out[i].get_data_handle() : nullptr);
    op_->run(inputs, outputs, omp_get_max_threads());
  }

 private:
  std::unique_ptr<LoopOp> op_;
  std::vector<graph::ValueInfo> inputs_;
  std::vector<std::optional<graph::ValueInfo>> outputs_;  // nullopt: an omitted output
};

}  // namespace

std::unique_ptr<Kernel> make_loop_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  std::unique_ptr<LoopOp> op = make_loop_op(step, g, why_not);
  if (!op) return nullptr;
  return std::make_unique<LoopKernel>(step, g, std::move(op));
}

}  // namespace fluidedge::runtime::fast
