// A kernel executes one FusedStep on oneDNN memories. Kernels are planned once per batch size:
// plan() creates the primitives and says which layout each input must have (the session
// reorders where a producer's layout differs) and which layout each output gets.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "graph/graph.h"
#include "runtime/fast/fused_step.h"
#include "runtime/fast/layout_planner.h"

namespace fluidedge::runtime::fast {

using dnnl::memory;

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
  virtual void execute(dnnl::stream& stream, const std::vector<memory>& inputs,
                       const std::vector<memory>& outputs) = 0;
};

// Creates the kernel for a step, or returns nullptr if the fast backend cannot run it (the
// reason, for the user, in `why_not`).
std::unique_ptr<Kernel> make_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not);

// Helpers shared by kernels.
memory::dims to_dims(const graph::Shape& shape);
memory::desc plain_desc(const graph::Shape& shape, memory::data_type type = memory::data_type::f32);
// A float32 layout of `shape` in the format of `model` (plain, channels-last or channel-blocked);
// plain when that format is none of those.
memory::desc like(const memory::desc& model, const graph::Shape& shape);
// A oneDNN memory holding a copy of a constant tensor (plain layout, owns its buffer).
memory constant_memory(const graph::Tensor& t, const dnnl::engine& engine);
// Best of a few runs of `run` (ms) after a warm-up run; fewer when one run takes long.
double time_best_ms(const std::function<void(dnnl::stream&)>& run, const dnnl::engine& engine);
// A memory of `desc` filled with zeros (scratch for timing: no NaN or denormal slows it).
memory zero_memory(const memory::desc& desc, const dnnl::engine& engine);
// Post-ops of the step's fused nodes (eltwise and sum) as oneDNN attributes.
dnnl::primitive_attr post_op_attr(const FusedStep& step);

}  // namespace fluidedge::runtime::fast
