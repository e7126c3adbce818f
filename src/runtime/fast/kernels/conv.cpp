// Conv (1-D to 3-D, grouped, dilated) with fused activations and residual sum, on oneDNN's
// convolution primitive. Weights are reordered once into the layout the primitive wants.
//
// Two algorithms: direct, and Winograd's for 3x3 stride-1 convolutions (oneDNN's F(2x2,3x3) and
// F(4x4,3x3) kernels on channel-blocked activations). Winograd does up to 2.25x (4x) fewer
// multiplications; measured here it runs ResNet-18's 3x3 layers 1.6-2.3x faster at batch 32 but
// loses on thin ones (16->32 channels). Each convolution runs the one measured faster.
#include <omp.h>

#include <map>
#include <mutex>
#include <optional>

#include <fmt/ranges.h>

#include "graph/op_schema.h"
#include "runtime/fast/kernels/kernels.h"
#include "runtime/vector_math.h"

namespace fluidedge::runtime::fast {

namespace {

// A memory layout as text: dims with strides, and the inner blocks.
std::string desc_key(const memory::desc& d) {
  const auto& b = d.data.format_desc.blocking;
  std::string k;
  for (int i = 0; i < d.data.ndims; ++i) k += fmt::format("{}/{},", d.data.dims[i], b.strides[i]);
  for (int i = 0; i < b.inner_nblks; ++i) k += fmt::format("b{}x{}", b.inner_idxs[i], b.inner_blks[i]);
  return k;
}

// Whether oneDNN runs a convolution with a jit or brgemm kernel (not the reference loops or the
// im2col + gemm path).
bool optimised(const dnnl::convolution_forward::primitive_desc& pd) {
  std::string impl = pd.impl_info_str();
  return impl.find("ref") == std::string::npos && impl.find("gemm:") == std::string::npos;
}

bool is_winograd(const dnnl::convolution_forward::primitive_desc& pd) {
  return std::string(pd.impl_info_str()).find("wino") != std::string::npos;
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(const FusedStep& step, const graph::Graph& g, std::string algorithm)
      : step_(step), g_(g), algorithm_(std::move(algorithm)) {
    // A trailing Swish runs in our own loop after the primitive (vector_math.h: faster than
    // oneDNN's post-op), so it leaves step_'s post-ops; one followed by a residual sum stays.
    if (!step_.post_ops.empty() && step_.post_ops.back().is(Activation::kSwish)) {
      swish_alpha_ = step_.post_ops.back().alpha;
      step_.post_ops.pop_back();
    }
  }

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    int64_t batch = g_.value(n.input(0)).shape.at(0);
    // The planned layout where an optimised kernel runs it, else the other one, else whatever
    // oneDNN has (reference loops for exotic cases).
    auto other = plan.layout == ActivationLayout::kChannelBlocked ? ActivationLayout::kLibraryChoice
                                                                  : ActivationLayout::kChannelBlocked;
    auto pd = layout_pd(engine, plan.layout, batch);
    if (!pd) pd = layout_pd(engine, other, batch);
    pd_ = pd ? *pd : make_pd(engine, ActivationLayout::kLibraryChoice, batch, dnnl::algorithm::convolution_direct);
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);
    plan.winograd = is_winograd(pd_);

    // Weights into the primitive's layout, once per layout.
    const graph::Tensor& w = *g_.initializer(n.input(1));
    if (!weights_ || weights_.get_desc() != pd_.weights_desc())
      weights_ = plan.constants->get(w, plain_desc(w.shape()).reshape(weight_dims()), pd_.weights_desc(), engine);
    if (n.has_input(2) && !bias_) bias_ = constant_memory(*g_.initializer(n.input(2)), engine);

    plan.inputs[0] = pd_.src_desc();
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
    for (size_t i = 1; i < plan.inputs.size(); ++i) {  // the residual operand of a sum post-op
      plan.inputs[i] = pd_.dst_desc();
      plan.sum_input = static_cast<int>(i);
    }
  }

  std::optional<ConvTimes> time_layouts(const dnnl::engine& engine, int64_t batch) override {
    ConvTimes t;
    t.first_layer = first_layer();
    for (auto layout : {ActivationLayout::kLibraryChoice, ActivationLayout::kChannelBlocked}) {
      auto pds = candidates(engine, layout, batch);
      if (algorithm_ != "auto" && pds.size() > 1) pds.resize(1);  // the first is the one plan() takes
      double& ms = t.ms[static_cast<int>(layout)];
      for (const auto& pd : pds) {
        double candidate = time_pd(pd, engine);
        if (ms < 0 || candidate < ms) ms = candidate;
      }
      // "winograd" asked and a Winograd kernel exists: plan it channel-blocked, where that kernel runs.
      if (algorithm_ == "winograd" && layout == ActivationLayout::kChannelBlocked && !pds.empty() &&
          is_winograd(pds[0]))
        t.ms[static_cast<int>(ActivationLayout::kLibraryChoice)] = -1;
    }
    return t;
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in[0]}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, out[0]}};
    if (bias_) args[DNNL_ARG_BIAS] = bias_;
    prim_.execute(stream, std::move(args));
    if (swish_alpha_) {
      // Padding channels of a blocked layout hold zeros, and swish(0) = 0: the whole buffer is done.
      swish_in_place(static_cast<float*>(out[0].get_data_handle()), out[0].get_desc().get_size() / sizeof(float),
                     *swish_alpha_, omp_get_max_threads());
    }
  }

 private:
  // A 1- to 7-channel 2-D input: an image, read as it is by the blocked kernel.
  bool first_layer() const {
    const graph::Shape& x = g_.value(step_.node.input(0)).shape;
    return x.size() == 4 && x[1] < 8;
  }

  // Strides, dilations and pads (auto_pad resolved) of the convolution window.
  auto geometry() const {
    const graph::Node& n = step_.node;
    const graph::Shape& w = g_.initializer(n.input(1))->shape();
    return graph::window_geometry(n, g_.value(n.input(0)).shape, {w.begin() + 2, w.end()}, false);
  }

  memory::dims weight_dims() const {
    return convolution_weight_dims(g_.initializer(step_.node.input(1))->shape(), step_.node.attr_int("group", 1));
  }

  // Whether oneDNN may have a Winograd kernel for it: 2-D, 3x3, stride 1, no dilation, no groups.
  bool winograd_shaped() const {
    const graph::Node& n = step_.node;
    const graph::Shape& w = g_.initializer(n.input(1))->shape();
    if (w.size() != 4 || w[2] != 3 || w[3] != 3 || n.attr_int("group", 1) != 1) return false;
    auto geo = geometry();
    for (int64_t s : geo.strides)
      if (s != 1) return false;
    for (int64_t d : geo.dilations)
      if (d != 1) return false;
    return true;
  }

  // The convolution at `batch` in `layout` with `algorithm`: oneDNN's choice of format (`any`),
  // or nChw16c out and in (plain in for a first layer).
  dnnl::convolution_forward::primitive_desc make_pd(const dnnl::engine& engine, ActivationLayout layout, int64_t batch,
                                                    dnnl::algorithm alg) const {
    const graph::Node& n = step_.node;
    memory::dims x = to_dims(g_.value(n.input(0)).shape), y = to_dims(g_.value(n.outputs[0]).shape);
    x[0] = y[0] = batch;
    const graph::Tensor& w = *g_.initializer(n.input(1));
    auto geo = geometry();
    memory::dims strides(geo.strides.begin(), geo.strides.end());
    memory::dims dilates, pl(geo.pads_begin.begin(), geo.pads_begin.end()),
        pr(geo.pads_end.begin(), geo.pads_end.end());
    for (int64_t d : geo.dilations) dilates.push_back(d - 1);
    using tag = memory::format_tag;
    bool blocked = layout == ActivationLayout::kChannelBlocked;
    tag src_tag = blocked ? (first_layer() ? tag::abcd : tag::aBcd16b) : tag::any;
    memory::desc src(x, memory::data_type::f32, src_tag),
        dst(y, memory::data_type::f32, blocked ? tag::aBcd16b : tag::any);
    memory::desc wmd(weight_dims(), memory::data_type::f32, tag::any);
    auto kind = dnnl::prop_kind::forward_inference;
    auto desc = n.has_input(2) ? dnnl::convolution_forward::desc(
                                     kind, alg, src, wmd, memory::desc({w.dim(0)}, memory::data_type::f32, tag::a), dst,
                                     strides, dilates, pl, pr)
                               : dnnl::convolution_forward::desc(kind, alg, src, wmd, dst, strides, dilates, pl, pr);
    return dnnl::convolution_forward::primitive_desc(desc, post_op_attr(step_), engine);
  }

  // The ways an optimised (jit, brgemm or Winograd) kernel runs it in `layout` at `batch`, the
  // algorithm asked for first: direct, and Winograd unless "direct" was asked (channel-blocked
  // only); blocked only for 2-D convolutions.
  std::vector<dnnl::convolution_forward::primitive_desc> candidates(const dnnl::engine& engine, ActivationLayout layout,
                                                                    int64_t batch) const {
    bool blocked = layout == ActivationLayout::kChannelBlocked;
    if (blocked && g_.value(step_.node.input(0)).shape.size() != 4) return {};
    std::vector<dnnl::algorithm> algorithms{dnnl::algorithm::convolution_direct};
    if (blocked && algorithm_ != "direct" && winograd_shaped() && !first_layer())
      algorithms.insert(algorithm_ == "winograd" ? algorithms.begin() : algorithms.end(),
                        dnnl::algorithm::convolution_winograd);
    std::vector<dnnl::convolution_forward::primitive_desc> pds;
    for (auto alg : algorithms) {
      try {
        auto pd = make_pd(engine, layout, batch, alg);
        if (optimised(pd)) pds.push_back(pd);
      } catch (const dnnl::error&) {
        // no implementation for this layout and algorithm
      }
    }
    return pds;
  }

  // The candidate to run in `layout` at `batch`, if any: the first, or with "auto" the faster,
  // compared at a batch of at most 8 (timings the layout planner has usually made already).
  std::optional<dnnl::convolution_forward::primitive_desc> layout_pd(const dnnl::engine& engine,
                                                                     ActivationLayout layout, int64_t batch) const {
    auto pds = candidates(engine, layout, batch);
    if (pds.empty()) return std::nullopt;
    if (pds.size() == 1 || algorithm_ != "auto") return pds[0];
    PrimitiveCacheOff no_cache;
    auto timed = batch <= 8 ? pds : candidates(engine, layout, 8);
    if (timed.size() != pds.size()) return pds[0];
    size_t best = 0;
    double best_ms = time_pd(timed[0], engine);
    for (size_t i = 1; i < timed.size(); ++i)
      if (double ms = time_pd(timed[i], engine); ms < best_ms) best = i, best_ms = ms;
    return pds[best];
  }

  // One run's time on zero-filled scratch memories, measured once per process and problem
  // (equal layers of a network, or the same model loaded twice, are timed once).
  double time_pd(const dnnl::convolution_forward::primitive_desc& pd, const dnnl::engine& engine) const {
    std::string key =
        fmt::format("{} src {} wei {} dst {} attr {} {}", pd.impl_info_str(), desc_key(pd.src_desc()),
                    desc_key(pd.weights_desc()), desc_key(pd.dst_desc()), geometry_key(), omp_get_max_threads());
    static std::mutex mutex;
    static std::map<std::string, double> cache;
    {
      std::lock_guard lock(mutex);
      if (auto it = cache.find(key); it != cache.end()) return it->second;
    }
    dnnl::convolution_forward prim(pd);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, zero_memory(pd.src_desc(), engine)},
                                         {DNNL_ARG_WEIGHTS, zero_memory(pd.weights_desc(), engine)},
                                         {DNNL_ARG_DST, zero_memory(pd.dst_desc(), engine)}};
    if (step_.node.has_input(2)) args[DNNL_ARG_BIAS] = zero_memory(pd.bias_desc(), engine);
    if (pd.scratchpad_desc().get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = zero_memory(pd.scratchpad_desc(), engine);
    double ms = time_best_ms([&](dnnl::stream& s) { prim.execute(s, args); }, engine);
    std::lock_guard lock(mutex);
    cache[key] = ms;
    return ms;
  }

  // What else decides a convolution's time: geometry, bias and fused post-ops.
  std::string geometry_key() const {
    const graph::Node& n = step_.node;
    auto geo = geometry();
    std::string k = fmt::format("s{} d{} p{}/{} bias{}", fmt::join(geo.strides, "x"), fmt::join(geo.dilations, "x"),
                                fmt::join(geo.pads_begin, "x"), fmt::join(geo.pads_end, "x"), n.has_input(2));
    for (const auto& p : step_.post_ops)
      k += fmt::format(" {}{}/{}", p.kind == PostOp::Kind::kSum ? "Add" : activation_name(p.activation), p.alpha,
                       p.beta);
    return k;
  }

  FusedStep step_;                    // post-ops: those oneDNN runs
  std::optional<float> swish_alpha_;  // a trailing Swish this kernel runs itself
  const graph::Graph& g_;
  std::string algorithm_;  // SessionOptions::conv_algorithm
  dnnl::convolution_forward::primitive_desc pd_;
  PlannedPrimitive prim_;
  memory weights_, bias_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv_kernel(const FusedStep& step, const graph::Graph& g, const SessionOptions& options,
                                         std::string& why_not) {
  const graph::Node& n = step.node;
  if (!g.is_initializer(n.input(1)) || (n.has_input(2) && !g.is_initializer(n.input(2)))) {
    why_not = "convolution weights computed at run time";
    return nullptr;
  }
  size_t spatial = g.value(n.input(0)).shape.size() - 2;
  if (spatial < 1 || spatial > 3) {
    why_not = fmt::format("{}-D convolution", spatial);
    return nullptr;
  }
  return std::make_unique<ConvKernel>(step, g, options.conv_algorithm);
}

}  // namespace fluidedge::runtime::fast
