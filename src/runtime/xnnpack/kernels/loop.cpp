// The ops XNNPACK has no operator for, run as the lean backends' shared loops
// (runtime/loop_ops.h) on plain layouts: the session converts NHWC inputs first.
#include "runtime/loop_ops.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

class LoopKernel : public Kernel {
 public:
  LoopKernel(const FusedStep& step, std::unique_ptr<LoopOp> op)
      : op_(std::move(op)), output_count_(step.node.outputs.size()) {}

  void plan(KernelPlan& plan) override {
    for (Layout& l : plan.inputs) l = Layout::kPlain;
    plan.outputs.assign(output_count_, Layout::kPlain);
    plan.alias.assign(output_count_, -1);
  }
  // The session's buffers are typed float; an integer value's buffer holds its own elements.
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t) override {
    inputs_.assign(in.begin(), in.end());
    outputs_.assign(out.begin(), out.end());
  }
  void run(pthreadpool_t threads) override {
    op_->run(inputs_, outputs_, threads ? static_cast<int>(pthreadpool_get_threads_count(threads)) : 1);
  }

 private:
  std::unique_ptr<LoopOp> op_;
  size_t output_count_;
  std::vector<const void*> inputs_;
  std::vector<void*> outputs_;
};

}  // namespace

std::unique_ptr<Kernel> make_loop_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  std::unique_ptr<LoopOp> op = make_loop_op(step, g, why_not);
  if (!op) return nullptr;
  return std::make_unique<LoopKernel>(step, std::move(op));
}

}  // namespace fluidedge::runtime::xnnpack
