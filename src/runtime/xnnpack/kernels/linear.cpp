// Gemm and MatMul. A constant 2-D weight runs on XNNPACK's fully-connected operator (weights
// packed once; fused Relu/Clip in its output range, other activations after it); a MatMul whose
// second operand is computed at run time, or batched, runs the backend's own loop.
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

class FullyConnectedKernel : public Kernel {
 public:
  FullyConnectedKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g), chain_(step.post_ops) {}

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& a = g_.value(n.input(0)).shape;
    const graph::Tensor& b = *g_.initializer(n.input(1));
    const bool gemm = n.op_type == "Gemm";
    // MatMul's B and Gemm's B without transB are [K, N]; XNNPACK's weights are [N, K] unless told.
    const bool b_is_kn = !gemm || n.attr_int("transB", 0) == 0;
    const int64_t k = a.back(), cols = b_is_kn ? b.dim(1) : b.dim(0);
    std::vector<float> w = b.to_float();
    if (float alpha = gemm ? n.attr_float("alpha", 1.f) : 1.f; alpha != 1.f)
      for (float& v : w) v *= alpha;
    std::vector<float> bias;
    if (gemm && n.has_input(2)) {
      std::vector<float> c = g_.initializer(n.input(2))->to_float();
      float beta = n.attr_float("beta", 1.f);
      bias.resize(static_cast<size_t>(cols));
      for (int64_t j = 0; j < cols; ++j) bias[j] = beta * c[c.size() == 1 ? 0 : j];
    }
    xnn_operator_t op = nullptr;
    check(xnn_create_fully_connected_nc_f32(static_cast<size_t>(k), static_cast<size_t>(cols), static_cast<size_t>(k),
                                            static_cast<size_t>(cols), w.data(), bias.empty() ? nullptr : bias.data(),
                                            chain_.output_min(), chain_.output_max(),
                                            b_is_kn ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0, &op),
          "a fully-connected layer");
    op_.reset(op);
    rows_ = static_cast<size_t>(graph::shape_numel(a) / k);
    chain_.plan(rows_ * static_cast<size_t>(cols));
    plan.inputs.assign(plan.inputs.size(), Layout::kPlain);
    plan.outputs = {Layout::kPlain};
    plan.alias = {-1};
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    check(xnn_setup_fully_connected_nc_f32(op_.get(), rows_, in[0], out[0], threads),
          "setting up a fully-connected layer");
    chain_.bind(out[0], threads);
  }

  void run(pthreadpool_t threads) override {
    check(xnn_run_operator(op_.get(), threads), "running a fully-connected layer");
    chain_.run(threads);
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  ActivationChain chain_;
  Operator op_;
  size_t rows_ = 0;
};

// Batched MatMul with numpy broadcasting of the batch dimensions, either operand constant or not.
class MatMulLoopKernel : public Kernel {
 public:
  MatMulLoopKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g), chain_(step.post_ops, false) {}

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    a_shape_ = g_.value(n.input(0)).shape;
    b_shape_ = g_.value(n.input(1)).shape;
    y_shape_ = g_.value(n.outputs[0]).shape;
    for (int i = 0; i < 2; ++i)
      if (const graph::Tensor* c = g_.initializer(n.input(i))) constant_[i] = c->to_float();
    chain_.plan(static_cast<size_t>(graph::shape_numel(y_shape_)));
    plan.inputs.assign(plan.inputs.size(), Layout::kPlain);
    plan.outputs = {Layout::kPlain};
    plan.alias = {-1};
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    size_t next = 0;
    for (int i = 0; i < 2; ++i) operand_[i] = constant_[i].empty() ? in[next++] : constant_[i].data();
    y_ = out[0];
    chain_.bind(y_, threads);
  }

  void run(pthreadpool_t threads) override {
    const size_t rank = y_shape_.size();
    const int64_t m = y_shape_[rank - 2], cols = y_shape_[rank - 1], k = a_shape_.back();
    graph::Shape a = padded(a_shape_, rank), b = padded(b_shape_, rank);
    int64_t batches = 1;
    for (size_t d = 0; d + 2 < rank; ++d) batches *= y_shape_[d];
    for (int64_t bi = 0; bi < batches; ++bi) {
      // Offsets of this output batch in A and B, broadcasting their size-1 batch dimensions.
      int64_t rest = bi, oa = 0, ob = 0, sa = m * k, sb = k * cols;
      for (int64_t d = static_cast<int64_t>(rank) - 3; d >= 0; --d) {
        int64_t i = rest % y_shape_[d];
        rest /= y_shape_[d];
        if (a[d] != 1) oa += i * sa;
        if (b[d] != 1) ob += i * sb;
        sa *= a[d];
        sb *= b[d];
      }
      const float* pa = operand_[0] + oa;
      const float* pb = operand_[1] + ob;
      float* py = y_ + bi * m * cols;
      for (int64_t i = 0; i < m; ++i) {
        float* row = py + i * cols;
        std::fill(row, row + cols, 0.f);
        for (int64_t kk = 0; kk < k; ++kk) {
          const float av = pa[i * k + kk];
          const float* brow = pb + kk * cols;
          for (int64_t j = 0; j < cols; ++j) row[j] += av * brow[j];
        }
      }
    }
    chain_.run(threads);
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  ActivationChain chain_;
  graph::Shape a_shape_, b_shape_, y_shape_;
  std::vector<float> constant_[2];
  const float* operand_[2] = {nullptr, nullptr};
  float* y_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_linear_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  size_t ra = g.value(n.input(0)).shape.size(), rb = g.value(n.input(1)).shape.size();
  if (ra < 2 || rb < 2) {
    why_not = "MatMul with a 1-D operand";
    return nullptr;
  }
  const bool b_constant = g.is_initializer(n.input(1));
  if (n.op_type == "Gemm") {
    if (n.attr_int("transA", 0) != 0) {
      why_not = "Gemm with transA";
      return nullptr;
    }
    if (!b_constant || g.is_initializer(n.input(0))) {
      why_not = "Gemm whose A is constant or whose B is computed at run time";
      return nullptr;
    }
    if (n.has_input(2)) {
      const graph::Tensor* c = g.initializer(n.input(2));
      int64_t cols = g.value(n.outputs[0]).shape[1];
      if (c == nullptr || (c->numel() != 1 && c->numel() != cols) || (c->rank() == 2 && c->dim(0) != 1)) {
        why_not = "Gemm whose C is not a constant bias row";
        return nullptr;
      }
    }
    return std::make_unique<FullyConnectedKernel>(step, g);
  }
  if (b_constant && rb == 2 && !g.is_initializer(n.input(0))) return std::make_unique<FullyConnectedKernel>(step, g);
  if (g.is_initializer(n.input(0)) && b_constant) {
    why_not = "MatMul of two constants";
    return nullptr;
  }
  return std::make_unique<MatMulLoopKernel>(step, g);
}

}  // namespace fluidedge::runtime::xnnpack
