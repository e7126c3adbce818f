// A kernel executes one FusedStep on oneDNN memories. Kernels are planned once per batch size:
// plan() creates the primitives and says which layout each input must have (the session
// reorders where a producer's layout differs) and which layout each output gets.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "graph/graph.h"
#include "runtime/fast/layout_planner.h"
#include "runtime/fused_step.h"
#include "runtime/session.h"

namespace fluidedge::runtime::fast {

using dnnl::memory;

// A buffer of `bytes` (at least 64) aligned to 64 bytes; `what` names it if memory runs out.
std::shared_ptr<std::byte[]> aligned_buffer(size_t bytes, const char* what);

// The scratch memory oneDNN primitives use while they run, one buffer per plan, sized for the
// largest need and shared by the plan's steps (they run one at a time). Every primitive is made
// with a user-managed scratchpad (post_op_attr, scratchpad_attr) and run as a PlannedPrimitive,
// so that a plan runs on whichever thread calls it: oneDNN's own scratchpad is, for its Winograd and brgemm kernels,
// a buffer of the thread that created the primitive, and such a primitive created on one
// thread and run on another wrote through a null pointer (a device node serving its first
// request on another thread than the one that loaded its part).
class PlanScratchpad {
 public:
  void reserve(size_t bytes) { bytes_ = std::max(bytes_, bytes); }
  // After every step is planned.
  void allocate();
  size_t bytes() const { return bytes_; }
  std::byte* data() const { return data_.get(); }

 private:
  size_t bytes_ = 0;
  std::shared_ptr<std::byte[]> data_;
};

// A oneDNN primitive as a plan runs it: with its scratchpad in the plan's buffer.
class PlannedPrimitive {
 public:
  PlannedPrimitive() = default;
  // The primitive of `pd` (made with a user-managed scratchpad); reserves its scratchpad in `plan`.
  PlannedPrimitive(const dnnl::primitive_desc_base& pd, std::shared_ptr<PlanScratchpad> plan);
  // Runs it on `args`, adding its scratchpad if it needs one.
  void execute(dnnl::stream& stream, std::unordered_map<int, memory>&& args);

 private:
  dnnl::primitive primitive_;
  memory::desc scratch_desc_;
  std::shared_ptr<PlanScratchpad> plan_;
  memory scratch_;  // made on first use, once the plan's buffer exists
};

// Constant tensors (weights) in the layouts kernels want, shared by every plan of a session: a
// plan for another batch size whose kernels want a tensor in a layout it already has reuses
// that copy (AlexNet planned at batches 1 and 32 held its 244 MB of weights three times).
class ConstantCache {
 public:
  // `t` in layout `want`, as constant_in_layout makes it; once per tensor, view and layout.
  memory get(const graph::Tensor& t, const memory::desc& view, const memory::desc& want, const dnnl::engine& engine);

 private:
  struct Entry {
    const void* data;  // the tensor's buffer (copies of a graph share it)
    memory::desc view, want;
    memory constant;
    graph::Tensor owner;  // the tensor, when `constant` shares its buffer
  };
  std::vector<Entry> entries_;
};

struct KernelPlan {
  // In: the layouts the step's runtime inputs currently have (FusedStep::runtime_inputs order).
  // Out (set by the kernel): the layouts it needs them in.
  std::vector<memory::desc> inputs;
  // Set by the kernel: one per node output ({} for omitted optional outputs).
  std::vector<memory::desc> outputs;
  // Output i is a view of input alias[i] (same buffer; reshapes), or -1.
  std::vector<int> alias;
  // In: the activation layout the session planned for this step (layout_planner.h; used by
  // convolutions, the other kernels follow their inputs).
  ActivationLayout layout = ActivationLayout::kLibraryChoice;
  // Index of the runtime input a "sum" post-op accumulates into output 0, or -1. The session
  // places that input's data in output 0's buffer before execute().
  int sum_input = -1;
  // Set by a kernel whose output 0 is its inputs laid one after another, each a contiguous byte
  // range (a concatenation of dense chunks, e.g. along channels at batch 1): input i's byte
  // offset in output 0. The session may then have each input's producer write it in place and
  // skip the step.
  std::vector<size_t> input_offsets;
  // Set by a convolution running Winograd's algorithm (plan stats).
  bool winograd = false;
  // In: the plan's scratchpad, for the kernel's primitives (PlannedPrimitive).
  std::shared_ptr<PlanScratchpad> scratchpad;
  // In: the session's weights in kernel layouts, where kernels take theirs.
  std::shared_ptr<ConstantCache> constants;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Creates primitives for the layouts in plan.inputs and fills the rest of `plan`.
  virtual void plan(const dnnl::engine& engine, KernelPlan& plan) = 0;
  // For the layout planner (convolutions): the time (ms) of one run at batch `batch` in each
  // ActivationLayout, measured on scratch memories (negative where no optimised kernel runs it
  // that way). Kernels that follow their inputs' layout answer nothing (the default).
  virtual std::optional<ConvTimes> time_layouts(const dnnl::engine&, int64_t /*batch*/) { return std::nullopt; }
  // Runs the step; memories are in the layouts plan() asked for.
  virtual void execute(dnnl::stream& stream, const std::vector<memory>& inputs, const std::vector<memory>& outputs) = 0;
};

// Creates the kernel for a step from the backend's op table (kernels/kernel_table.cpp), or
// returns nullptr if the fast backend cannot run it (the reason, for the user, in `why_not`).
std::unique_ptr<Kernel> make_kernel(const FusedStep& step, const graph::Graph& g, const SessionOptions& options,
                                    std::string& why_not);
// Op types the op table has an entry for (the coverage test holds it to supported_ops()).
std::vector<std::string> kernel_table_ops();

// Helpers shared by kernels.
memory::dims to_dims(const graph::Shape& shape);
memory::desc plain_desc(const graph::Shape& shape, memory::data_type type = memory::data_type::f32);
// A convolution's weight dims as oneDNN takes them: (O, I, k...), or (G, O/G, I, k...) in groups.
memory::dims convolution_weight_dims(const graph::Shape& weights, int64_t groups);
// oneDNN's type for a value's dtype (float32, uint8, int8, int32), or undef for any other.
memory::data_type dnnl_type(graph::DType dtype);
// A value as the plan holds it when no kernel asks for a layout: plain in its own type, or, for
// a type oneDNN has not, its bytes.
memory::desc value_desc(const graph::ValueInfo& v);
// A float32 layout of `shape` in the format of `model` (plain, channels-last or channel-blocked);
// plain when that format is none of those.
memory::desc like(const memory::desc& model, const graph::Shape& shape);
// While alive, oneDNN's primitive cache is off: primitives created only to be timed do not
// stay in it holding their code and buffers.
class PrimitiveCacheOff {
 public:
  PrimitiveCacheOff() : capacity_(dnnl::get_primitive_cache_capacity()) { dnnl::set_primitive_cache_capacity(0); }
  ~PrimitiveCacheOff() { dnnl::set_primitive_cache_capacity(capacity_); }
  PrimitiveCacheOff(const PrimitiveCacheOff&) = delete;
  PrimitiveCacheOff& operator=(const PrimitiveCacheOff&) = delete;

 private:
  int capacity_;
};
// A oneDNN memory holding a copy of a constant tensor (plain layout, owns its buffer).
memory constant_memory(const graph::Tensor& t, const dnnl::engine& engine);
// Constant `t` (weights) in layout `want`, where `view` describes t's data as float32 (the same
// elements; dims and strides may differ from t's shape). Shares t's buffer when `want` equals
// `view` (`owner` then holds it), otherwise reorders it into a new buffer with no other copy:
// a model's weights are in memory once as loaded and at most once more as the kernels want them.
memory constant_in_layout(const graph::Tensor& t, const memory::desc& view, const memory::desc& want,
                          const dnnl::engine& engine, graph::Tensor& owner);
// Best of a few runs of `run` (ms) after a warm-up run; fewer when one run takes long.
double time_best_ms(const std::function<void(dnnl::stream&)>& run, const dnnl::engine& engine);
// A memory of `desc` filled with zeros (scratch for timing: no NaN or denormal slows it).
memory zero_memory(const memory::desc& desc, const dnnl::engine& engine);
// Post-ops of the step's fused nodes (eltwise and sum) as oneDNN attributes, with a
// user-managed scratchpad (PlanScratchpad).
dnnl::primitive_attr post_op_attr(const FusedStep& step);
// Attributes with a user-managed scratchpad and nothing else.
dnnl::primitive_attr scratchpad_attr();

}  // namespace fluidedge::runtime::fast
