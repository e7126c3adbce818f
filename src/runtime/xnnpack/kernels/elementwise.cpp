// Elementwise steps: standalone activations, the four arithmetic ops with numpy broadcasting
// (XNNPACK's N-D operators, in NHWC where the operands are), batch normalization that was not
// folded into a convolution, and Softmax.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "graph/op_schema.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

// An activation node alone (its input is not a fusable producer's output): a copy, then the
// activation chain in place. Follows its input's layout.
class ActivationKernel : public Kernel {
 public:
  ActivationKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {
    std::vector<PostOp> ops{activation_post_op(g, step.node)};
    ops.insert(ops.end(), step.post_ops.begin(), step.post_ops.end());
    chain_ = ActivationChain(ops, false);
  }
  void plan(KernelPlan& plan) override {
    count_ = static_cast<size_t>(graph::shape_numel(g_.value(step_.node.outputs[0]).shape));
    chain_.plan(count_);
    plan.outputs = {plan.inputs[0]};
    plan.alias = {-1};
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    in_ = in[0];
    out_ = out[0];
    chain_.bind(out_, threads);
  }
  void run(pthreadpool_t threads) override {
    std::memcpy(out_, in_, count_ * sizeof(float));
    chain_.run(threads);
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  ActivationChain chain_;
  size_t count_ = 0;
  const float* in_ = nullptr;
  float* out_ = nullptr;
};

class BinaryKernel : public Kernel {
 public:
  BinaryKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g), chain_(step.post_ops) {}

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& y = g_.value(n.outputs[0]).shape;
    // NHWC when a full-shape rank-4 operand comes so and every operand can follow: rank-4 ones
    // are converted, constants permuted here, lower-rank ones only if their bytes need no change.
    bool nhwc = false, can_follow = y.size() == 4;
    size_t r = 0;
    for (int i = 0; i < 2; ++i) {
      const std::string& name = n.input(i);
      const graph::Shape& s = g_.value(name).shape;
      if (g_.is_initializer(name)) continue;
      Layout have = plan.inputs[r++];
      if (s == y && have == Layout::kNhwc && !layouts_agree(s)) nhwc = true;
      if (s.size() < 4 && !layouts_agree(padded(s, 4))) can_follow = false;
    }
    nhwc = nhwc && can_follow;
    r = 0;
    for (int i = 0; i < 2; ++i) {
      const std::string& name = n.input(i);
      graph::Shape s = padded(g_.value(name).shape, y.size());
      if (const graph::Tensor* c = g_.initializer(name)) {
        std::vector<float> v = c->to_float();
        constant_[i] = float_buffer(v.size(), "a constant operand");
        if (nhwc)
          convert_layout(v.data(), constant_[i].get(), s, true);
        else
          std::copy(v.begin(), v.end(), constant_[i].get());
      } else {
        plan.inputs[r++] = nhwc && g_.value(name).shape.size() == 4 ? Layout::kNhwc : Layout::kPlain;
      }
      if (nhwc) s = nhwc_shape(s);
      shape_[i].assign(s.begin(), s.end());
    }
    if (shape_[0].empty()) shape_[0] = shape_[1] = {1};
    xnn_operator_t op = nullptr;
    const float lo = chain_.output_min(), hi = chain_.output_max();
    if (n.op_type == "Add")
      check(xnn_create_add_nd_f32(lo, hi, 0, &op), "an Add");
    else if (n.op_type == "Sub")
      check(xnn_create_subtract_nd_f32(lo, hi, 0, &op), "a Sub");
    else if (n.op_type == "Mul")
      check(xnn_create_multiply_nd_f32(lo, hi, 0, &op), "a Mul");
    else
      check(xnn_create_divide_nd_f32(lo, hi, 0, &op), "a Div");
    op_.reset(op);
    chain_.plan(static_cast<size_t>(graph::shape_numel(y)));
    plan.outputs = {nhwc ? Layout::kNhwc : Layout::kPlain};
    plan.alias = {-1};
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    const float* x[2];
    size_t r = 0;
    for (int i = 0; i < 2; ++i) x[i] = constant_[i] ? constant_[i].get() : in[r++];
    const std::string& op = step_.node.op_type;
    auto setup = op == "Add"   ? xnn_setup_add_nd_f32
                 : op == "Sub" ? xnn_setup_subtract_nd_f32
                 : op == "Mul" ? xnn_setup_multiply_nd_f32
                               : xnn_setup_divide_nd_f32;
    check(setup(op_.get(), shape_[0].size(), shape_[0].data(), shape_[1].size(), shape_[1].data(), x[0], x[1], out[0],
                threads),
          "setting up an arithmetic op");
    chain_.bind(out[0], threads);
  }

  void run(pthreadpool_t threads) override {
    check(xnn_run_operator(op_.get(), threads), "running an arithmetic op");
    chain_.run(threads);
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  ActivationChain chain_;
  Operator op_;
  std::shared_ptr<float[]> constant_[2];
  std::vector<size_t> shape_[2];
};

// Inference-mode batch normalization as y = a[c] x + b[c], in the input's layout.
class BatchNormKernel : public Kernel {
 public:
  BatchNormKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g), chain_(step.post_ops, false) {}
  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    shape_ = g_.value(n.input(0)).shape;
    auto scale = g_.initializer(n.input(1))->to_float(), bias = g_.initializer(n.input(2))->to_float();
    auto mean = g_.initializer(n.input(3))->to_float(), var = g_.initializer(n.input(4))->to_float();
    float eps = n.attr_float("epsilon", 1e-5f);
    a_.resize(scale.size());
    b_.resize(scale.size());
    for (size_t c = 0; c < scale.size(); ++c) {
      a_[c] = scale[c] / std::sqrt(var[c] + eps);
      b_[c] = bias[c] - a_[c] * mean[c];
    }
    nhwc_ = plan.inputs[0] == Layout::kNhwc;
    chain_.plan(static_cast<size_t>(graph::shape_numel(shape_)));
    plan.outputs = {plan.inputs[0]};
    plan.alias = {-1};
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    x_ = in[0];
    y_ = out[0];
    chain_.bind(y_, threads);
  }
  void run(pthreadpool_t threads) override {
    const int64_t c = shape_[1];
    int64_t inner = 1;
    for (size_t d = 2; d < shape_.size(); ++d) inner *= shape_[d];
    for (int64_t b = 0; b < shape_[0]; ++b) {
      const float* x = x_ + b * c * inner;
      float* y = y_ + b * c * inner;
      if (nhwc_) {
        for (int64_t p = 0; p < inner; ++p)
          for (int64_t ch = 0; ch < c; ++ch) y[p * c + ch] = a_[ch] * x[p * c + ch] + b_[ch];
      } else {
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t p = 0; p < inner; ++p) y[ch * inner + p] = a_[ch] * x[ch * inner + p] + b_[ch];
      }
    }
    chain_.run(threads);
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  ActivationChain chain_;
  graph::Shape shape_;
  std::vector<float> a_, b_;
  bool nhwc_ = false;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

// Softmax (opset 13: along one axis). The last axis runs on XNNPACK's operator, any other in
// the backend's own loop.
class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(KernelPlan& plan) override {
    const graph::Shape& s = g_.value(step_.node.input(0)).shape;
    int64_t axis = graph::normalize_axis(step_.node, step_.node.attr_int("axis", -1), static_cast<int64_t>(s.size()));
    outer_ = inner_ = 1;
    for (int64_t d = 0; d < axis; ++d) outer_ *= s[d];
    for (size_t d = static_cast<size_t>(axis) + 1; d < s.size(); ++d) inner_ *= s[d];
    n_ = s[axis];
    if (inner_ == 1) {
      xnn_operator_t op = nullptr;
      check(xnn_create_softmax_nc_f32(n_, n_, n_, 0, &op), "a Softmax");
      op_.reset(op);
    }
    plan.inputs = {Layout::kPlain};
    plan.outputs = {Layout::kPlain};
    plan.alias = {-1};
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    x_ = in[0];
    y_ = out[0];
    if (op_) check(xnn_setup_softmax_nc_f32(op_.get(), outer_, x_, y_, threads), "setting up a Softmax");
  }
  void run(pthreadpool_t threads) override {
    if (op_) {
      check(xnn_run_operator(op_.get(), threads), "running a Softmax");
      return;
    }
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < inner_; ++i) {
        const float* x = x_ + o * n_ * inner_ + i;
        float* y = y_ + o * n_ * inner_ + i;
        float top = -std::numeric_limits<float>::infinity();
        for (int64_t k = 0; k < n_; ++k) top = std::max(top, x[k * inner_]);
        float sum = 0;
        for (int64_t k = 0; k < n_; ++k) sum += y[k * inner_] = std::exp(x[k * inner_] - top);
        for (int64_t k = 0; k < n_; ++k) y[k * inner_] /= sum;
      }
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  Operator op_;
  int64_t outer_ = 1, inner_ = 1, n_ = 1;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_activation_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (!is_fusable_activation(g, step.node)) {
    why_not = "Clip with bounds computed at run time";
    return nullptr;
  }
  return std::make_unique<ActivationKernel>(step, g);
}

std::unique_ptr<Kernel> make_binary_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  const graph::Shape& y = g.value(n.outputs[0]).shape;
  if (g.is_initializer(n.input(0)) && g.is_initializer(n.input(1))) {
    why_not = "both operands constant";
    return nullptr;
  }
  if (y.size() > XNN_MAX_TENSOR_DIMS) {
    why_not = fmt::format("rank-{} operands (XNNPACK broadcasts up to rank {})", y.size(), XNN_MAX_TENSOR_DIMS);
    return nullptr;
  }
  return std::make_unique<BinaryKernel>(step, g);
}

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

}  // namespace fluidedge::runtime::xnnpack
