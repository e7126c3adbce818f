// The ops the lean backends run as their own loops over plain (row-major) buffers, where neither
// oneDNN nor XNNPACK has a primitive for them: broadcasting Pow, PRelu and Where, the reductions,
// LayerNormalization, Slice, activations no library operator computes (Erf, ...) over float32,
// and the quantization ops' integer loops (quantized_loops.h).
// Each backend's op table wraps make_loop_op in its own kernel type (plain layouts in and out).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "runtime/fused_step.h"

namespace fluidedge::runtime {

// `activation` (with the post-op's alpha and beta) over `count` floats in place, on `threads`
// OpenMP threads for large counts. Every Activation has a loop here.
void activation_in_place(const PostOp& activation, float* data, size_t count, int threads = 1);

class LoopOp {
 public:
  virtual ~LoopOp() = default;
  // `inputs`: the step's runtime inputs (FusedStep::runtime_inputs order), plain, each of its
  // value's dtype; `outputs`: one per node output, plain (nullptr for omitted optional ones),
  // output 0 of output_count() elements. Applies the step's activation post-ops to output 0
  // after the op.
  virtual void run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs, int threads) const = 0;
  size_t output_count() const { return output_count_; }
  // Whether it maps each element to the element at the same place, whatever the layout (its
  // inputs then all have output 0's shape): a kernel may run it in the layout its input has.
  virtual bool elementwise() const { return false; }
  // Whether it also takes its 4-D input channels-last (NHWC) through run_channels_last (its
  // output has no spatial extent, so its bytes are the same in either layout).
  virtual bool channels_last() const { return false; }
  virtual void run_channels_last(const std::vector<const void*>& inputs, const std::vector<void*>& outputs,
                                 int threads) const {
    run(inputs, outputs, threads);
  }

 protected:
  size_t output_count_ = 0;
};

// A loop over float32 values (a Where's condition may be bool, one byte per element).
class FloatLoopOp : public LoopOp {
 public:
  void run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs, int threads) const final;

 protected:
  virtual void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                         int threads) const = 0;
};

// The loop of a step whose op is Pow, PRelu, Where, a reduction, LayerNormalization, Slice, an
// activation or a quantization op (quantized_loops.h), or nullptr with the reason in `why_not`
// (another op, or an input form it does not handle). `g` is the plan's graph (shapes inferred).
std::unique_ptr<LoopOp> make_loop_op(const FusedStep& step, const graph::Graph& g, std::string& why_not);

}  // namespace fluidedge::runtime
