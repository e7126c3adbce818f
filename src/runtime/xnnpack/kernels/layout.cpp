// Steps that move data without arithmetic: views (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity, Dropout), Concat and Split (XNNPACK's strided copies, in NHWC along channels where
// the activations are), Transpose (the backend's own loop) and Pad (constant; other modes and cropping
// run as the shared loop).
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "graph/op_schema.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

// The axis of an ONNX (N, C, H, W) value in its NHWC buffer.
int64_t nhwc_axis(int64_t axis) {
  static const int64_t map[4] = {0, 3, 1, 2};
  return map[axis];
}

class ViewKernel : public Kernel {
 public:
  explicit ViewKernel(const FusedStep& step) : step_(step) {}
  void plan(KernelPlan& plan) override {
    // Identity and Dropout keep their input's layout; reshapes read elements in ONNX order.
    const std::string& op = step_.node.op_type;
    bool same = op == "Identity" || op == "Dropout";
    // Other runtime inputs (a Dropout ratio given as a graph input) are read by nothing here.
    for (size_t i = same ? 1 : 0; i < plan.inputs.size(); ++i) plan.inputs[i] = Layout::kPlain;
    plan.outputs = {plan.inputs[0]};
    plan.alias = {0};
  }
  void bind(const std::vector<const float*>&, const std::vector<float*>&, pthreadpool_t) override {}
  void run(pthreadpool_t) override {}

 private:
  FusedStep step_;
};

// Concat and Split: each part is `chunk` contiguous elements of every one of `outer` rows of
// the whole, at a column offset: one strided XNNPACK copy per part.
class ConcatSplitKernel : public Kernel {
 public:
  ConcatSplitKernel(const FusedStep& step, const graph::Graph& g, bool split) : step_(step), g_(g), split_(split) {}

  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const std::string& whole = split_ ? n.input(0) : n.outputs[0];
    const graph::Shape& s = g_.value(whole).shape;
    int64_t axis = graph::normalize_axis(n, n.attr_int("axis", split_ ? 0 : 1), static_cast<int64_t>(s.size()));
    // NHWC where the (first) input comes so, and the value is rank 4 with distinct layouts.
    bool nhwc = !plan.inputs.empty() && plan.inputs[0] == Layout::kNhwc && !layouts_agree(s);
    std::vector<std::string> parts;
    if (split_) {
      for (const auto& o : n.outputs) parts.push_back(o);
    } else {
      parts = n.inputs;
    }
    graph::Shape order = nhwc ? nhwc_shape(s) : s;
    element_bytes_ = graph::dtype_size(g_.value(whole).dtype);
    int64_t a = nhwc ? nhwc_axis(axis) : axis;
    outer_ = 1;
    for (int64_t d = 0; d < a; ++d) outer_ *= order[d];
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(a) + 1; d < order.size(); ++d) inner *= order[d];
    const size_t total = static_cast<size_t>(order[a] * inner);
    size_t offset = 0;
    ops_.clear();
    offsets_.clear();
    for (const auto& p : parts) {
      if (p.empty()) {  // an omitted Split output
        ops_.emplace_back();
        offsets_.push_back(offset);
        continue;
      }
      const size_t chunk = static_cast<size_t>(g_.value(p).shape[axis] * inner);
      xnn_operator_t op = nullptr;
      const size_t in_stride = split_ ? total : chunk, out_stride = split_ ? chunk : total;
      xnn_status status = element_bytes_ == 1   ? xnn_create_copy_nc_x8(chunk, in_stride, out_stride, 0, &op)
                          : element_bytes_ == 2 ? xnn_create_copy_nc_x16(chunk, in_stride, out_stride, 0, &op)
                          : element_bytes_ == 4 ? xnn_create_copy_nc_x32(chunk, in_stride, out_stride, 0, &op)
                                                : xnn_status_unsupported_parameter;
      check(status, split_ ? "a Split" : "a Concat");
      ops_.emplace_back(op);
      offsets_.push_back(offset);
      offset += chunk;
    }
    const Layout l = nhwc ? Layout::kNhwc : Layout::kPlain;
    for (Layout& in : plan.inputs) in = l;
    plan.outputs.assign(n.outputs.size(), l);
    plan.alias.assign(n.outputs.size(), -1);
    if (!split_ && step_.post_ops.empty()) {
      plan.part_offsets = offsets_;
      plan.part_rows = outer_;
      plan.part_row_stride = total;
    }
  }

  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (!ops_[i]) continue;
      const size_t offset = offsets_[i] * element_bytes_;
      const void* src = split_ ? reinterpret_cast<const std::byte*>(in[0]) + offset : static_cast<const void*>(in[i]);
      void* dst = split_ ? static_cast<void*>(out[i]) : reinterpret_cast<std::byte*>(out[0]) + offset;
      xnn_status status = element_bytes_ == 1   ? xnn_setup_copy_nc_x8(ops_[i].get(), outer_, src, dst, threads)
                          : element_bytes_ == 2 ? xnn_setup_copy_nc_x16(ops_[i].get(), outer_, src, dst, threads)
                                                : xnn_setup_copy_nc_x32(ops_[i].get(), outer_, src, dst, threads);
      check(status, "setting up a copy");
    }
  }

  void run(pthreadpool_t threads) override {
    for (auto& op : ops_)
      if (op) check(xnn_run_operator(op.get(), threads), "running a copy");
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  bool split_;
  std::vector<Operator> ops_;
  std::vector<size_t> offsets_;  // in elements
  size_t outer_ = 1;
  size_t element_bytes_ = 4;
};

class TransposeKernel : public Kernel {
 public:
  TransposeKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(KernelPlan& plan) override {
    shape_ = g_.value(step_.node.input(0)).shape;
    perm_ = step_.node.attr_ints("perm");
    if (perm_.empty())
      for (int64_t d = static_cast<int64_t>(shape_.size()) - 1; d >= 0; --d) perm_.push_back(d);
    plan.inputs = {Layout::kPlain};
    plan.outputs = {Layout::kPlain};
    plan.alias = {-1};
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t) override {
    x_ = in[0];
    y_ = out[0];
  }
  void run(pthreadpool_t) override { transpose(x_, y_, shape_, perm_); }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  graph::Shape shape_;
  std::vector<int64_t> perm_;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

class PadKernel : public Kernel {
 public:
  PadKernel(const FusedStep& step, const graph::Graph& g, float value) : step_(step), g_(g), value_(value) {}
  void plan(KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& s = g_.value(n.input(0)).shape;
    std::vector<int64_t> pads = g_.initializer(n.input(1))->to_int64();
    const size_t rank = s.size();
    bool nhwc = plan.inputs[0] == Layout::kNhwc && !layouts_agree(s);
    graph::Shape order = nhwc ? nhwc_shape(s) : s;
    shape_.assign(order.begin(), order.end());
    pre_.assign(rank, 0);
    post_.assign(rank, 0);
    for (size_t d = 0; d < rank; ++d) {
      size_t to = nhwc ? static_cast<size_t>(nhwc_axis(static_cast<int64_t>(d))) : d;
      pre_[to] = static_cast<size_t>(pads[d]);
      post_[to] = static_cast<size_t>(pads[d + rank]);
    }
    uint32_t bits;
    std::memcpy(&bits, &value_, sizeof bits);
    xnn_operator_t op = nullptr;
    check(xnn_create_constant_pad_nd_x32(&bits, 0, &op), "a Pad");
    op_.reset(op);
    plan.inputs[0] = nhwc ? Layout::kNhwc : Layout::kPlain;
    plan.outputs = {plan.inputs[0]};
    plan.alias = {-1};
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t threads) override {
    check(xnn_setup_constant_pad_nd_x32(op_.get(), shape_.size(), shape_.data(), pre_.data(), post_.data(), in[0],
                                        out[0], threads),
          "setting up a Pad");
  }
  void run(pthreadpool_t threads) override { check(xnn_run_operator(op_.get(), threads), "running a Pad"); }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  float value_;
  Operator op_;
  std::vector<size_t> shape_, pre_, post_;
};

}  // namespace

std::unique_ptr<Kernel> make_view_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  if (g.is_initializer(n.input(0))) {
    why_not = n.op_type + " of a constant";
    return nullptr;
  }
  if (n.op_type == "Dropout" && (n.has_input(2) || (n.outputs.size() > 1 && !n.outputs[1].empty()))) {
    why_not = "Dropout with a training_mode input or a mask output";
    return nullptr;
  }
  return std::make_unique<ViewKernel>(step);
}

std::unique_ptr<Kernel> make_concat_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  for (const auto& in : step.node.inputs)
    if (g.is_initializer(in)) {
      why_not = "Concat of a constant";
      return nullptr;
    }
  return std::make_unique<ConcatSplitKernel>(step, g, false);
}

std::unique_ptr<Kernel> make_split_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (g.is_initializer(step.node.input(0))) {
    why_not = "Split of a constant";
    return nullptr;
  }
  for (const auto& o : step.node.outputs)
    if (!o.empty() && graph::shape_numel(g.value(o).shape) == 0) {
      why_not = "Split with an empty part";
      return nullptr;
    }
  return std::make_unique<ConcatSplitKernel>(step, g, true);
}

std::unique_ptr<Kernel> make_transpose_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (g.is_initializer(step.node.input(0))) {
    why_not = "Transpose of a constant";
    return nullptr;
  }
  return std::make_unique<TransposeKernel>(step, g);
}

std::unique_ptr<Kernel> make_pad_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  if (g.is_initializer(n.input(0))) {
    why_not = "Pad of a constant";
    return nullptr;
  }
  const graph::Tensor* pads = g.initializer(n.input(1));
  // Reflect and edge, and cropping: the shared loop.
  std::vector<int64_t> amounts = pads != nullptr ? pads->to_int64() : std::vector<int64_t>{};
  bool crops = std::any_of(amounts.begin(), amounts.end(), [](int64_t p) { return p < 0; });
  if (n.attr_string("mode", "constant") != "constant" || crops) return make_loop_kernel(step, g, why_not);
  if (pads == nullptr) {
    why_not = "Pad with pads computed at run time";
    return nullptr;
  }
  for (int64_t p : pads->to_int64())
    if (p < 0) {
      why_not = "Pad with negative pads (cropping)";
      return nullptr;
    }
  float value = 0;
  if (n.has_input(2)) {
    const graph::Tensor* v = g.initializer(n.input(2));
    if (v == nullptr) {
      why_not = "Pad value computed at run time";
      return nullptr;
    }
    value = v->to_float()[0];
  }
  return std::make_unique<PadKernel>(step, g, value);
}

}  // namespace fluidedge::runtime::xnnpack
