// The ops XNNPACK has no operator for, run as the lean backends' shared loops
// (runtime/loop_ops.h) on plain layouts: the session converts NHWC inputs first. Elementwise
// ones (the per-tensor quantization ops, QLinearAdd, quantized lookups) run in the layout their
// first input comes in, and a pool with no spatial output reads NHWC input as it comes.
#include "runtime/loop_ops.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

class LoopKernel : public Kernel {
 public:
  LoopKernel(const FusedStep& step, const graph::Graph& g, std::unique_ptr<LoopOp> op)
      : op_(std::move(op)), output_count_(step.node.outputs.size()) {
    const auto ins = step.runtime_inputs(g);
    if (!ins.empty()) rank4_input_ = g.value(ins[0]).shape.size() == 4;
  }

  void plan(KernelPlan& plan) override {
    plan.alias.assign(output_count_, -1);
    if (!plan.inputs.empty() && plan.inputs[0] == Layout::kNhwc) {
      if (op_->elementwise()) {
        for (Layout& l : plan.inputs) l = Layout::kNhwc;
        plan.outputs.assign(output_count_, Layout::kNhwc);
        return;
      }
      if (op_->channels_last() && plan.inputs.size() == 1 && rank4_input_) {
        channels_last_ = true;
        plan.outputs.assign(output_count_, Layout::kPlain);  // no spatial extent: the same bytes
        return;
      }
    }
    for (Layout& l : plan.inputs) l = Layout::kPlain;
    plan.outputs.assign(output_count_, Layout::kPlain);
  }
  // The session's buffers are typed float; an integer value's buffer holds its own elements.
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t) override {
    inputs_.assign(in.begin(), in.end());
    outputs_.assign(out.begin(), out.end());
  }
  void run(pthreadpool_t threads) override {
    const int n = threads ? static_cast<int>(pthreadpool_get_threads_count(threads)) : 1;
    if (channels_last_)
      op_->run_channels_last(inputs_, outputs_, n);
    else
      op_->run(inputs_, outputs_, n);
  }

 private:
  std::unique_ptr<LoopOp> op_;
  size_t output_count_;
  bool rank4_input_ = false;
  bool channels_last_ = false;  // input 0 comes NHWC: run_channels_last
  std::vector<const void*> inputs_;
  std::vector<void*> outputs_;
};

}  // namespace

std::unique_ptr<Kernel> make_loop_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  std::unique_ptr<LoopOp> op = make_loop_op(step, g, why_not);
  if (!op) return nullptr;
  return std::make_unique<LoopKernel>(step, g, std::move(op));
}

}  // namespace fluidedge::runtime::xnnpack
