// The ops XNNPACK has no operator for, run as the lean backends' shared loops
// (runtime/loop_ops.h) on plain layouts: the session converts NHWC inputs first.
#include "runtime/loop_ops.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

class LoopKernel : public Kernel {
 public:
  explicit LoopKernel(std::unique_ptr<LoopOp> op) : op_(std::move(op)) {}

  void plan(KernelPlan& plan) override {
    for (Layout& l : plan.inputs) l = Layout::kPlain;
    plan.outputs = {Layout::kPlain};
    plan.alias = {-1};
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t) override {
    inputs_ = in;
    output_ = out[0];
  }
  void run(pthreadpool_t threads) override {
    op_->run(inputs_, output_, threads ? static_cast<int>(pthreadpool_get_threads_count(threads)) : 1);
  }

 private:
  std::unique_ptr<LoopOp> op_;
  std::vector<const float*> inputs_;
  float* output_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_loop_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  std::unique_ptr<LoopOp> op = make_loop_op(step, g, why_not);
  if (!op) return nullptr;
  return std::make_unique<LoopKernel>(std::move(op));
}

}  // namespace fluidedge::runtime::xnnpack
