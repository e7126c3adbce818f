// MaxPool, AveragePool and the global pools on oneDNN's pooling primitive, in whatever layout
// the producer left the activation.
#include "graph/op_schema.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

class PoolKernel : public Kernel {
 public:
  PoolKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    const graph::Shape& x = g_.value(n.input(0)).shape;
    const graph::Shape& y = g_.value(n.outputs[0]).shape;
    size_t spatial = x.size() - 2;
    bool global = n.op_type.starts_with("Global");
    memory::dims kernel, strides, dil, pl, pr;
    if (global) {
      kernel.assign(x.begin() + 2, x.end());
      strides = kernel;
      dil.assign(spatial, 0);
      pl.assign(spatial, 0);
      pr.assign(spatial, 0);
    } else {
      auto geo = graph::window_geometry(n, x, n.attr_ints("kernel_shape"), n.attr_int("ceil_mode", 0) != 0);
      kernel.assign(geo.kernel.begin(), geo.kernel.end());
      strides.assign(geo.strides.begin(), geo.strides.end());
      for (int64_t d : geo.dilations) dil.push_back(d - 1);
      pl.assign(geo.pads_begin.begin(), geo.pads_begin.end());
      // ceil_mode: extend the end padding so that the last window exists.
      for (size_t i = 0; i < spatial; ++i) {
        int64_t extent = (geo.kernel[i] - 1) * geo.dilations[i] + 1;
        pr.push_back(std::max<int64_t>(geo.pads_end[i],
                                       (y[2 + i] - 1) * geo.strides[i] + extent - x[2 + i] - geo.pads_begin[i]));
      }
    }
    dnnl::algorithm alg = dnnl::algorithm::pooling_max;
    if (n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool")
      alg = n.attr_int("count_include_pad", 0) ? dnnl::algorithm::pooling_avg_include_padding
                                               : dnnl::algorithm::pooling_avg_exclude_padding;
    memory::desc src_md = plan.inputs[0];
    // A max pool of integers keeps their type (quantized models); the rest is float.
    memory::data_type type =
        alg == dnnl::algorithm::pooling_max ? dnnl_type(g_.value(n.input(0)).dtype) : memory::data_type::f32;
    if (src_md.data_type() != type) src_md = plain_desc(g_.value(n.input(0)).shape, type);
    memory::desc dst_md(to_dims(y), type, memory::format_tag::any);
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src_md, dst_md, strides, kernel, dil,
                                        pl, pr);
    pd_ = dnnl::pooling_v2_forward::primitive_desc(desc, post_op_attr(step_), engine);
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);
    plan.inputs[0] = pd_.src_desc();
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in[0]}, {DNNL_ARG_DST, out[0]}};
    if (pd_.workspace_desc().get_size() > 0) {
      if (!workspace_) workspace_ = memory(pd_.workspace_desc(), pd_.get_engine());
      args[DNNL_ARG_WORKSPACE] = workspace_;
    }
    prim_.execute(stream, std::move(args));
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  dnnl::pooling_v2_forward::primitive_desc pd_;
  PlannedPrimitive prim_;
  memory workspace_;
};

}  // namespace

std::unique_ptr<Kernel> make_pool_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  const graph::Shape& x = g.value(n.input(0)).shape;
  if (x.size() < 3 || x.size() > 5) {
    why_not = "pooling over other than 1 to 3 spatial dimensions";
    return nullptr;
  }
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) {
    why_not = "MaxPool's Indices output";
    return nullptr;
  }
  if (n.op_type == "MaxPool" && n.attr_int("storage_order", 0) != 0) {
    why_not = "MaxPool storage_order 1";
    return nullptr;
  }
  if (n.op_type == "AveragePool" && n.attr_int("count_include_pad", 0) && n.attr_int("ceil_mode", 0)) {
    // ONNX counts the explicit pads but not ceil_mode's extension; oneDNN would count both.
    auto geo = graph::window_geometry(n, x, n.attr_ints("kernel_shape"), true);
    const graph::Shape& y = g.value(n.outputs[0]).shape;
    for (size_t i = 0; i + 2 < x.size(); ++i) {
      int64_t extent = (geo.kernel[i] - 1) * geo.dilations[i] + 1;
      if ((y[2 + i] - 1) * geo.strides[i] + extent - x[2 + i] - geo.pads_begin[i] > geo.pads_end[i]) {
        why_not = "AveragePool with count_include_pad and a ceil_mode window past the padding";
        return nullptr;
      }
    }
  }
  return std::make_unique<PoolKernel>(step, g);
}

}  // namespace fluidedge::runtime::fast
