// The ops oneDNN has no primitive for, run as the lean backends' shared loops
// (runtime/loop_ops.h) on plain layouts: the session reorders blocked inputs to plain first.
// Elementwise ones (the per-tensor quantization ops, QLinearAdd) run in any dense layout.
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
    // An elementwise op runs in the layout its first input comes in (channels-last after an int8
    // convolution), when that is dense and unblocked: no reorder on either side.
    if (op_->elementwise() && !plan.inputs.empty() && dense_unblocked(plan.inputs[0], inputs_[0])) {
      const memory::desc& model = plan.inputs[0];
      for (size_t i = 0; i < plan.inputs.size(); ++i) plan.inputs[i] = retyped(model, inputs_[i].dtype);
      plan.outputs = {retyped(model, outputs_[0]->dtype)};
      plan.alias = {-1};
      return;
    }
    // A pool over channels-last input reads it as it comes.
    channels_last_ = op_->channels_last() && plan.inputs.size() == 1 && inputs_[0].shape.size() == 4 &&
                     plan.inputs[0] == channels_last_desc(inputs_[0]);
    if (channels_last_) {
      plan.outputs = {value_desc(*outputs_[0])};
      plan.alias = {-1};
      return;
    }
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
    if (channels_last_)
      op_->run_channels_last(inputs, outputs, omp_get_max_threads());
    else
      op_->run(inputs, outputs, omp_get_max_threads());
  }

 private:
  static memory::desc channels_last_desc(const graph::ValueInfo& v) {
    return memory::desc(to_dims(v.shape), dnnl_type(v.dtype), memory::format_tag::acdb);
  }
  // A layout of `v` with strides and no inner blocks, covering exactly its elements.
  static bool dense_unblocked(const memory::desc& d, const graph::ValueInfo& v) {
    memory::data_type t = dnnl_type(v.dtype);
    if (t == memory::data_type::undef || d.data_type() != t || d.data.format_kind != dnnl_blocked) return false;
    if (d.data.format_desc.blocking.inner_nblks != 0 || d.dims() != to_dims(v.shape)) return false;
    return d.get_size() == static_cast<size_t>(graph::shape_numel(v.shape)) * graph::dtype_size(v.dtype);
  }
  // `model`'s dims and strides for elements of `dtype`.
  static memory::desc retyped(const memory::desc& model, graph::DType dtype) {
    const auto& b = model.data.format_desc.blocking;
    memory::dims strides(b.strides, b.strides + model.data.ndims);
    return memory::desc(model.dims(), dnnl_type(dtype), strides);
  }

  std::unique_ptr<LoopOp> op_;
  bool channels_last_ = false;  // the input comes NHWC: run_channels_last
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
