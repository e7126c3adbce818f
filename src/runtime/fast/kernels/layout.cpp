// Ops that move data without arithmetic: Concat (oneDNN concat, any layout), reshapes (free:
// a plain view of the same buffer), Transpose and Split (reorders between strided views), and
// constant Pad (fill, then a reorder into the interior).
#include <algorithm>
#include <cstring>

#include "graph/op_schema.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

// Whether concatenating `ins` along `axis` into `out` is a copy of contiguous chunks: every
// memory is dense and has the output's format (so the dimensions laid out outside the axis are
// the same, in the same order, in all of them). Then each of `outer` output chunks is the inputs' chunks one after the
// other (nchw along channels: one chunk per image; nChw16c too, when the channel counts are multiples of 16; nhwc: one
// per pixel). oneDNN's concat is up to 7x slower than this on blocked layouts at batch 1. Sets `outer` and each input's
// chunk in elements.
bool concat_is_chunk_copy(const std::vector<memory::desc>& ins, const memory::desc& out, int axis, int64_t& outer,
                          std::vector<int64_t>& chunks, size_t element_size) {
  // Checks density and blocking; sets the dimensions laid out outside the axis, outermost first.
  auto outside = [&](const memory::desc& d, std::vector<std::pair<int64_t, int>>& dims) {
    const auto& md = d.data;
    if (md.format_kind != dnnl_blocked || md.data_type != out.data.data_type || md.offset0 != 0) return false;
    const auto& b = md.format_desc.blocking;
    for (int i = 0; i < b.inner_nblks; ++i)
      if (b.inner_idxs[i] != axis || md.dims[axis] % b.inner_blks[i] != 0) return false;
    int64_t numel = 1;
    for (int i = 0; i < md.ndims; ++i) numel *= md.dims[i];
    if (static_cast<int64_t>(d.get_size()) != numel * static_cast<int64_t>(element_size))
      return false;  // padded or strided
    for (int i = 0; i < md.ndims; ++i)
      if (i != axis && md.dims[i] > 1 && b.strides[i] > b.strides[axis]) dims.push_back({b.strides[i], i});
    std::sort(dims.rbegin(), dims.rend());
    return true;
  };
  // The same format in all: equal inner blocks, and the dimensions in the same stride order
  // (plain and channel-blocked share their outer order, yet copy differently).
  auto format = [](const memory::desc& d) {
    const auto& md = d.data;
    const auto& b = md.format_desc.blocking;
    std::vector<int64_t> f(b.inner_blks, b.inner_blks + b.inner_nblks);
    f.insert(f.end(), b.inner_idxs, b.inner_idxs + b.inner_nblks);
    std::vector<std::pair<int64_t, int>> order;
    for (int i = 0; i < md.ndims; ++i)
      if (md.dims[i] > 1) order.push_back({b.strides[i], i});
    std::sort(order.rbegin(), order.rend());
    for (const auto& o : order) f.push_back(100 + o.second);
    return f;
  };
  std::vector<std::pair<int64_t, int>> want;
  if (!outside(out, want)) return false;
  for (const auto& d : ins)
    if (format(d) != format(out)) return false;
  outer = 1;
  for (const auto& [stride, dim] : want) outer *= out.data.dims[dim];
  chunks.clear();
  for (const auto& d : ins) {
    std::vector<std::pair<int64_t, int>> have;
    if (!outside(d, have)) return false;
    int64_t numel = 1;
    for (int i = 0; i < d.data.ndims; ++i) numel *= d.data.dims[i];
    chunks.push_back(numel / outer);
  }
  return true;
}

class ConcatKernel : public Kernel {
 public:
  ConcatKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Shape& y = g_.value(step_.node.outputs[0]).shape;
    int axis = static_cast<int>(
        graph::normalize_axis(step_.node, step_.node.attr_int("axis", 0), static_cast<int64_t>(y.size())));
    // oneDNN picks the output layout (the inputs' when they agree); the copy is ours when it is
    // one of contiguous chunks, oneDNN's otherwise.
    // Float, or the integers of a quantized model (all inputs of one type).
    const graph::ValueInfo& out = g_.value(step_.node.outputs[0]);
    element_size_ = graph::dtype_size(out.dtype);
    std::vector<memory::desc> srcs = plan.inputs;
    memory::desc dst(to_dims(y), dnnl_type(out.dtype), memory::format_tag::any);
    pd_ = dnnl::concat::primitive_desc(dst, axis, srcs, engine, scratchpad_attr());
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);
    chunk_copy_ = concat_is_chunk_copy(srcs, pd_.dst_desc(), axis, outer_, chunks_, element_size_);
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
    if (chunk_copy_ && outer_ == 1) {  // one chunk each: the inputs could have been written in place
      size_t offset = 0;
      for (int64_t chunk : chunks_) {
        plan.input_offsets.push_back(offset);
        offset += static_cast<size_t>(chunk) * element_size_;
      }
    }
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    if (!chunk_copy_) {
      std::unordered_map<int, memory> args{{DNNL_ARG_DST, out[0]}};
      for (size_t i = 0; i < in.size(); ++i) args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)] = in[i];
      prim_.execute(stream, std::move(args));
      return;
    }
    auto* y = static_cast<std::byte*>(out[0].get_data_handle());
    const auto e = static_cast<int64_t>(element_size_);
    int64_t row = 0;
    for (int64_t c : chunks_) row += c * e;
    int64_t offset = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const auto* x = static_cast<const std::byte*>(in[i].get_data_handle());
      int64_t chunk = chunks_[i] * e;
#pragma omp parallel for schedule(static) if (outer_ > 1 && outer_ * chunk > (1 << 18))
      for (int64_t o = 0; o < outer_; ++o) std::memcpy(y + o * row + offset, x + o * chunk, chunk);
      offset += chunk;
    }
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  dnnl::concat::primitive_desc pd_;
  PlannedPrimitive prim_;
  bool chunk_copy_ = false;
  size_t element_size_ = sizeof(float);
  int64_t outer_ = 1;
  std::vector<int64_t> chunks_;
};

// Reshape, Flatten, Squeeze, Unsqueeze: the output is the input's buffer in plain layout (of
// float32, or of a quantized model's 8-bit integers).
class ViewKernel : public Kernel {
 public:
  ViewKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(const dnnl::engine&, KernelPlan& plan) override {
    plan.inputs[0] = value_desc(g_.value(step_.node.input(0)));
    plan.outputs = {value_desc(g_.value(step_.node.outputs[0]))};
    plan.alias = {0};
  }
  void execute(dnnl::stream&, const std::vector<memory>&, const std::vector<memory>&) override {}

 private:
  FusedStep step_;
  const graph::Graph& g_;
};

class TransposeKernel : public Kernel {
 public:
  TransposeKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Shape& x = g_.value(step_.node.input(0)).shape;
    const graph::Shape& y = g_.value(step_.node.outputs[0]).shape;
    int64_t rank = static_cast<int64_t>(x.size());
    std::vector<int64_t> perm(rank);
    for (int64_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
    perm = step_.node.attr_ints("perm", perm);
    // The input viewed in the output's dimension order: output dim d walks input dim perm[d].
    memory::dims in_strides(rank, 1), view_strides(rank);
    for (int64_t i = rank - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * x[i + 1];
    for (int64_t d = 0; d < rank; ++d) view_strides[d] = in_strides[perm[d]];
    view_ = memory::desc(to_dims(y), memory::data_type::f32, view_strides);
    plan.inputs[0] = plain_desc(x);
    plan.outputs = {plain_desc(y)};
    plan.alias = {-1};
    dnnl::reorder::primitive_desc pd(engine, view_, engine, plain_desc(y), scratchpad_attr());
    prim_ = PlannedPrimitive(pd, plan.scratchpad);
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    memory src(view_, in[0].get_engine(), in[0].get_data_handle());
    prim_.execute(stream, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, out[0]}});
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  memory::desc view_;
  PlannedPrimitive prim_;
};

class SplitKernel : public Kernel {
 public:
  SplitKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Shape& x = g_.value(step_.node.input(0)).shape;
    int64_t axis = graph::normalize_axis(step_.node, step_.node.attr_int("axis", 0), static_cast<int64_t>(x.size()));
    memory::desc src = plain_desc(x);
    plan.inputs[0] = src;
    plan.outputs.clear();
    plan.alias.clear();
    prims_.clear();
    views_.clear();
    int64_t offset = 0;
    for (const auto& name : step_.node.outputs) {
      if (name.empty()) {
        plan.outputs.emplace_back();
        plan.alias.push_back(-1);
        continue;
      }
      const graph::Shape& y = g_.value(name).shape;
      memory::dims offsets(x.size(), 0);
      offsets[axis] = offset;
      offset += y[axis];
      memory::desc view = src.submemory_desc(to_dims(y), offsets);
      views_.push_back(view);
      dnnl::reorder::primitive_desc pd(engine, view, engine, plain_desc(y), scratchpad_attr());
      prims_.emplace_back(pd, plan.scratchpad);
      plan.outputs.push_back(plain_desc(y));
      plan.alias.push_back(-1);
    }
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    size_t k = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (!out[i]) continue;
      memory src(views_[k], in[0].get_engine(), in[0].get_data_handle());
      if (out[i].get_desc().get_size() > 0) prims_[k].execute(stream, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, out[i]}});
      ++k;
    }
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  std::vector<memory::desc> views_;
  std::vector<PlannedPrimitive> prims_;
};

class PadKernel : public Kernel {
 public:
  PadKernel(const FusedStep& step, const graph::Graph& g, float value) : step_(step), g_(g), value_(value) {}
  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Shape& x = g_.value(step_.node.input(0)).shape;
    const graph::Shape& y = g_.value(step_.node.outputs[0]).shape;
    size_t rank = x.size();
    auto pads = g_.initializer(step_.node.input(1))->to_int64();
    std::vector<int64_t> axes(rank);
    for (size_t i = 0; i < rank; ++i) axes[i] = static_cast<int64_t>(i);
    if (step_.node.has_input(3)) {
      axes = g_.initializer(step_.node.input(3))->to_int64();
      for (auto& a : axes) a = graph::normalize_axis(step_.node, a, static_cast<int64_t>(rank));
    }
    memory::dims offsets(rank, 0);
    size_t n = axes.size();
    for (size_t i = 0; i < n; ++i) offsets[axes[i]] = pads[i];
    interior_ = plain_desc(y).submemory_desc(to_dims(x), offsets);
    plan.inputs[0] = plain_desc(x);
    plan.outputs = {plain_desc(y)};
    plan.alias = {-1};
    dnnl::reorder::primitive_desc pd(engine, plain_desc(x), engine, interior_, scratchpad_attr());
    prim_ = PlannedPrimitive(pd, plan.scratchpad);
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    float* p = static_cast<float*>(out[0].get_data_handle());
    size_t count = out[0].get_desc().get_size() / sizeof(float);
    std::fill(p, p + count, value_);
    memory dst(interior_, out[0].get_engine(), out[0].get_data_handle());
    prim_.execute(stream, {{DNNL_ARG_FROM, in[0]}, {DNNL_ARG_TO, dst}});
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  float value_;
  memory::desc interior_;
  PlannedPrimitive prim_;
};

// Identity and inference-mode Dropout that could not be removed (a graph input passed straight
// to a graph output): a copy, plus Dropout's all-true mask.
class CopyKernel : public Kernel {
 public:
  CopyKernel(const FusedStep& step, const graph::Graph& g) : step_(step), g_(g) {}
  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Shape& y = g_.value(step_.node.outputs[0]).shape;
    plan.outputs = {plain_desc(y)};
    plan.alias = {-1};
    if (step_.node.outputs.size() > 1 && !step_.node.outputs[1].empty())
      plan.outputs.push_back(
          memory::desc({std::max<int64_t>(1, graph::shape_numel(y))}, memory::data_type::u8, memory::format_tag::a)),
          plan.alias.push_back(-1);
    dnnl::reorder::primitive_desc pd(engine, plan.inputs[0], engine, plain_desc(y), scratchpad_attr());
    prim_ = PlannedPrimitive(pd, plan.scratchpad);
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    prim_.execute(stream, {{DNNL_ARG_FROM, in[0]}, {DNNL_ARG_TO, out[0]}});
    if (out.size() > 1 && out[1]) std::memset(out[1].get_data_handle(), 1, out[1].get_desc().get_size());
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  PlannedPrimitive prim_;
};

}  // namespace

std::unique_ptr<Kernel> make_concat_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  for (const auto& in : step.node.inputs)
    if (g.is_initializer(in)) {
      why_not = "Concat of a constant";
      return nullptr;
    }
  return std::make_unique<ConcatKernel>(step, g);
}

std::unique_ptr<Kernel> make_layout_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  const std::string& op = n.op_type;
  if (g.is_initializer(n.input(0))) {
    why_not = op + " of a constant";
    return nullptr;
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
    const graph::DType t = g.value(n.input(0)).dtype;
    if (t != graph::DType::kFloat32 && t != graph::DType::kUInt8 && t != graph::DType::kInt8) {
      why_not = fmt::format("a view of {} data", graph::dtype_name(t));
      return nullptr;
    }
    return std::make_unique<ViewKernel>(step, g);
  }
  if (op == "Transpose") return std::make_unique<TransposeKernel>(step, g);
  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout" && n.has_input(2)) {
      why_not = "Dropout with a training_mode input";
      return nullptr;
    }
    return std::make_unique<CopyKernel>(step, g);
  }
  if (op == "Split") {
    for (const auto& o : n.outputs)
      if (!o.empty() && graph::shape_numel(g.value(o).shape) == 0) {
        why_not = "Split with an empty part";
        return nullptr;
      }
    return std::make_unique<SplitKernel>(step, g);
  }
  // Pad. Reflect and edge, and cropping: the shared loop.
  auto pads = g.initializer(n.input(1))->to_int64();
  if (n.attr_string("mode", "constant") != "constant" ||
      std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
    return make_loop_kernel(step, g, why_not);
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

}  // namespace fluidedge::runtime::fast
