// Helpers shared by the kernels (the op -> kernel dispatch is kernel_table.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "runtime/fast/kernel.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

memory::dims to_dims(const graph::Shape& shape) { return memory::dims(shape.begin(), shape.end()); }

memory::desc plain_desc(const graph::Shape& shape, memory::data_type type) {
  if (shape.empty()) return memory::desc({1}, type, memory::format_tag::a);
  memory::dims strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * shape[i + 1];
  return memory::desc(to_dims(shape), type, strides);
}

memory::dims convolution_weight_dims(const graph::Shape& weights, int64_t groups) {
  memory::dims dims = to_dims(weights);
  if (groups > 1) {
    dims[0] /= groups;
    dims.insert(dims.begin(), groups);
  }
  return dims;
}

memory::data_type dnnl_type(graph::DType dtype) {
  switch (dtype) {
    case graph::DType::kFloat32:
      return memory::data_type::f32;
    case graph::DType::kUInt8:
      return memory::data_type::u8;
    case graph::DType::kInt8:
      return memory::data_type::s8;
    case graph::DType::kInt32:
      return memory::data_type::s32;
    default:
      return memory::data_type::undef;
  }
}

memory::desc value_desc(const graph::ValueInfo& v) {
  if (memory::data_type t = dnnl_type(v.dtype); t != memory::data_type::undef) return plain_desc(v.shape, t);
  int64_t bytes = std::max<int64_t>(1, graph::shape_numel(v.shape) * static_cast<int64_t>(graph::dtype_size(v.dtype)));
  return memory::desc({bytes}, memory::data_type::u8, memory::format_tag::a);
}

memory constant_memory(const graph::Tensor& t, const dnnl::engine& engine) {
  graph::Tensor f = t.dtype() == graph::DType::kFloat32 ? t : t.cast(graph::DType::kFloat32);
  memory m(plain_desc(f.shape()), engine);
  std::memcpy(m.get_data_handle(), f.raw(), f.nbytes());
  return m;
}

memory constant_in_layout(const graph::Tensor& t, const memory::desc& view, const memory::desc& want,
                          const dnnl::engine& engine, graph::Tensor& owner) {
  // Integer weights stay integer when `view` says so (int8 convolutions); the rest is float.
  bool keep = t.dtype() == graph::DType::kFloat32 || dnnl_type(t.dtype()) == view.data_type();
  graph::Tensor f = keep ? t : t.cast(graph::DType::kFloat32);
  // oneDNN reads weights and reorder sources only; the tensor's bytes are never written.
  memory src(view, engine, const_cast<void*>(f.raw()));
  if (view == want) {
    owner = f;
    return src;
  }
  owner = graph::Tensor();
  memory dst(want, engine);
  dnnl::stream s(engine);
  dnnl::reorder(src, dst).execute(s, src, dst);
  s.wait();
  return dst;
}

memory ConstantCache::get(const graph::Tensor& t, const memory::desc& view, const memory::desc& want,
                          const dnnl::engine& engine) {
  for (const Entry& e : entries_)
    if (e.data == t.raw() && e.view == view && e.want == want) return e.constant;
  Entry e{t.raw(), view, want, memory(), graph::Tensor()};
  e.constant = constant_in_layout(t, view, want, engine, e.owner);
  entries_.push_back(e);
  return e.constant;
}

memory::desc like(const memory::desc& model, const graph::Shape& shape) {
  using tag = memory::format_tag;
  if (model.dims().size() == 4 && shape.size() == 4)
    for (tag t : {tag::acdb, tag::aBcd16b, tag::aBcd8b})
      if (model == memory::desc(model.dims(), memory::data_type::f32, t))
        return memory::desc(to_dims(shape), memory::data_type::f32, t);
  return plain_desc(shape);
}

double time_best_ms(const std::function<void(dnnl::stream&)>& run, const dnnl::engine& engine) {
  dnnl::stream stream(engine);
  auto once = [&] {
    auto t0 = std::chrono::steady_clock::now();
    run(stream);
    stream.wait();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  double warm = once();  // first touch of the memories; code and weights into cache
  double best = once();
  for (int i = 0; i < 3 && warm + best < 20; ++i) best = std::min(best, once());  // short runs are noisy
  return best;
}

memory zero_memory(const memory::desc& desc, const dnnl::engine& engine) {
  memory m(desc, engine);
  std::memset(m.get_data_handle(), 0, desc.get_size());
  return m;
}

dnnl::primitive_attr post_op_attr(const FusedStep& step) {
  dnnl::post_ops ops;
  using A = dnnl::algorithm;
  for (const PostOp& p : step.post_ops) {
    if (p.kind == PostOp::Kind::kSum) {
      ops.append_sum(1.f);
      continue;
    }
    switch (p.activation) {  // no default: a new Activation fails to compile until it has its post-op
      case Activation::kRelu:
        ops.append_eltwise(1.f, A::eltwise_relu, 0.f, 0.f);
        break;
      case Activation::kLeakyRelu:
        ops.append_eltwise(1.f, A::eltwise_relu, p.alpha, 0.f);
        break;
      case Activation::kClip:
        ops.append_eltwise(1.f, A::eltwise_clip_v2, p.alpha, p.beta);
        break;
      case Activation::kSigmoid:
        ops.append_eltwise(1.f, A::eltwise_logistic, 0.f, 0.f);
        break;
      case Activation::kSwish:
        ops.append_eltwise(1.f, A::eltwise_swish, p.alpha, 0.f);
        break;
      case Activation::kTanh:
        ops.append_eltwise(1.f, A::eltwise_tanh, 0.f, 0.f);
        break;
      case Activation::kHardSwish:
        ops.append_eltwise(1.f, A::eltwise_hardswish, 0.f, 0.f);
        break;
      case Activation::kHardSigmoid:
        // max(0, min(1, alpha * x + beta)): oneDNN 2.6 has no hardsigmoid; compose it.
        ops.append_eltwise(1.f, A::eltwise_linear, p.alpha, p.beta);
        ops.append_eltwise(1.f, A::eltwise_clip_v2, 0.f, 1.f);
        break;
      case Activation::kElu:
        ops.append_eltwise(1.f, A::eltwise_elu, p.alpha, 0.f);
        break;
      case Activation::kSelu:  // gamma elu(x; alpha): oneDNN 2.6 has no selu
        ops.append_eltwise(1.f, A::eltwise_elu, p.alpha, 0.f);
        ops.append_eltwise(1.f, A::eltwise_linear, p.beta, 0.f);
        break;
      case Activation::kGeluErf:
        ops.append_eltwise(1.f, A::eltwise_gelu_erf, 0.f, 0.f);
        break;
      case Activation::kGeluTanh:
        ops.append_eltwise(1.f, A::eltwise_gelu_tanh, 0.f, 0.f);
        break;
      case Activation::kExp:
        ops.append_eltwise(1.f, A::eltwise_exp, 0.f, 0.f);
        break;
      case Activation::kSqrt:
        ops.append_eltwise(1.f, A::eltwise_sqrt, 0.f, 0.f);
        break;
      case Activation::kAbs:
        ops.append_eltwise(1.f, A::eltwise_abs, 0.f, 0.f);
        break;
      case Activation::kNeg:
        ops.append_eltwise(1.f, A::eltwise_linear, -1.f, 0.f);
        break;
      case Activation::kErf:
        // The session does not fuse Erf, and its standalone kernel runs it as a loop.
        fail("internal: {} has no oneDNN post-op", activation_name(p.activation));
    }
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::primitive_attr scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::shared_ptr<std::byte[]> aligned_buffer(size_t bytes, const char* what) {
  size_t size = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, size);
  if (p == nullptr) fail("out of memory allocating {} ({} bytes)", what, bytes);
  return std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}

void PlanScratchpad::allocate() {
  if (bytes_ > 0 && !data_) data_ = aligned_buffer(bytes_, "a plan's scratchpad");
}

PlannedPrimitive::PlannedPrimitive(const dnnl::primitive_desc_base& pd, std::shared_ptr<PlanScratchpad> plan)
    : primitive_(pd.get()), scratch_desc_(pd.scratchpad_desc()), plan_(std::move(plan)) {
  plan_->reserve(scratch_desc_.get_size());
}

void PlannedPrimitive::execute(dnnl::stream& stream, std::unordered_map<int, memory>&& args) {
  if (scratch_desc_.get_size() > 0) {
    if (!scratch_) scratch_ = memory(scratch_desc_, stream.get_engine(), plan_->data());
    args[DNNL_ARG_SCRATCHPAD] = scratch_;
  }
  primitive_.execute(stream, args);
}

}  // namespace fluidedge::runtime::fast
