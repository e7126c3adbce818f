// A kernel of the xnnpack backend executes one FusedStep on the session's buffers, typed float*
// but each holding its value's own elements (an int8 value's bytes). Kernels are made
// per plan (one batch size): plan() says which layout each input must have (the session converts
// where a producer's layout differs) and creates XNNPACK's operators, packing their weights;
// bind() gives them the plan's buffers (fixed for the plan's life, so XNNPACK's setup runs once);
// run() executes.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <xnnpack.h>

#include "graph/graph.h"
#include "runtime/fused_step.h"
#include "runtime/session.h"

namespace fluidedge::runtime::xnnpack {

// How a value's elements lie in its buffer. ONNX's order is kPlain (row-major over the value's
// shape); a rank-4 activation may be kNhwc (channels innermost), the layout XNNPACK's
// convolutions and pools work in.
enum class Layout { kPlain, kNhwc };

// Whether a value of `shape` has the same bytes in both layouts (rank 4 with one channel or
// one pixel, e.g. the output of a global pool), so no conversion is needed between them.
bool layouts_agree(const graph::Shape& shape);
// `shape` (N, C, H, W) as XNNPACK sees a kNhwc buffer: (N, H, W, C). Other ranks unchanged.
graph::Shape nhwc_shape(const graph::Shape& shape);
// `shape` padded with leading 1s to `rank`.
graph::Shape padded(const graph::Shape& shape, size_t rank);

struct KernelPlan {
  // In: the layouts the step's runtime inputs have (FusedStep::runtime_inputs order).
  // Out (set by the kernel): the layouts it needs them in.
  std::vector<Layout> inputs;
  // Set by the kernel: one per node output (kPlain for omitted optional outputs).
  std::vector<Layout> outputs;
  // Output i is a view of input alias[i] (same buffer; reshapes), or -1.
  std::vector<int> alias;
  // Set by a concatenation: its output is `part_rows` rows of `part_row_stride` elements, and
  // input i fills `part_offsets[i]` onwards in every row. The session may then have each input's
  // producer write its part there (Kernel::write_rows) and skip the copy.
  std::vector<size_t> part_offsets;
  size_t part_rows = 0, part_row_stride = 0;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Chooses the layouts (fills `plan`) and creates the kernel's operators.
  virtual void plan(KernelPlan& plan) = 0;
  // Gives the kernel the buffers of its runtime inputs and outputs (nullptr for omitted
  // outputs), in the layouts plan() asked for. Called once per plan, after plan().
  virtual void bind(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                    pthreadpool_t threads) = 0;
  // Runs the step on the bound buffers.
  virtual void run(pthreadpool_t threads) = 0;
  // After plan(), before bind(): whether output 0 can be written as `rows` rows `row_stride`
  // elements apart (inside a concatenation's output), each row the elements it would otherwise
  // write contiguously. Any kernel can when `rows` is 1 (one contiguous range).
  virtual bool can_write_rows(size_t rows, size_t /*row_stride*/) const { return rows == 1; }
  // Makes it so (after can_write_rows said yes); bind() then gets output 0 at its first row.
  virtual void write_rows(size_t /*rows*/, size_t /*row_stride*/) {}
};

// The kernel of a step, from the backend's op table (kernel_table.cpp), or nullptr when the
// xnnpack backend cannot run it (the reason, for the user, in `why_not`). `g` is the plan's graph.
std::unique_ptr<Kernel> make_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not);

// Op types the op table has an entry for (the coverage test holds it to supported_ops()).
std::vector<std::string> kernel_table_ops();

// ---- Helpers shared by kernels ----

// Throws a user-facing error naming `what` unless `status` is xnn_status_success.
void check(xnn_status status, const char* what);

// An XNNPACK operator, deleted with it.
struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// A float buffer with the XNN_EXTRA_BYTES of slack XNNPACK's kernels may read past the end.
std::shared_ptr<float[]> float_buffer(size_t count, const char* what);

// The activations a kernel applies to its output after its main operation. A leading run of
// Relu and Clip folds into the main operator's output range (XNNPACK's min/max); the rest run
// in place, each as an XNNPACK operator or one of the backend's own loops.
class ActivationChain {
 public:
  ActivationChain() = default;
  // `ops` must be activations (no sums); `fold_range`: whether the leading clamps may be folded.
  explicit ActivationChain(const std::vector<PostOp>& ops, bool fold_range = true);
  float output_min() const { return min_; }
  float output_max() const { return max_; }
  bool empty() const { return rest_.empty(); }
  // Creates operators for buffers of `count` elements.
  void plan(size_t count);
  void bind(float* data, pthreadpool_t threads);
  void run(pthreadpool_t threads);

 private:
  struct Step {
    PostOp op;
    Operator xnn;  // null: the backend's own loop
  };
  float min_ = -std::numeric_limits<float>::infinity(), max_ = std::numeric_limits<float>::infinity();
  std::vector<Step> rest_;
  size_t count_ = 0;
  float* data_ = nullptr;
};

// The kernels of each op family (one file each), as the op table calls them.
std::unique_ptr<Kernel> make_conv_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_linear_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_pool_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_activation_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_binary_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_batch_norm_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_softmax_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_concat_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_split_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_view_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_transpose_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_pad_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
// QLinearConv on XNNPACK's per-channel int8 convolution where it can (else the shared loop).
std::unique_ptr<Kernel> make_quantized_conv_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
// The shared loop ops (runtime/loop_ops.h) in plain layouts: what XNNPACK has no operator for.
std::unique_ptr<Kernel> make_loop_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);

// The output channels of each of the operators a convolution runs as (conv.cpp), when it has
// `out_c` channels, `k` weights per output channel and `pixels` output pixels per image: all of
// them, unless its weights exceed the cache budget and there are pixels enough to read them more
// than once. Blocks are multiples of 16 channels (XNNPACK's widest tile), as equal as that allows.
int64_t conv_channel_block(int64_t out_c, int64_t k, int64_t pixels);

// The backend's own loop for a layout conversion of a rank-4 value of ONNX shape `shape`
// (N, C, H, W): kPlain -> kNhwc when `to_nhwc`, else back; elements of `element_bytes` (1, 2, 4
// or 8: an int8 value's, a float's, ...).
void convert_layout(const void* from, void* to, const graph::Shape& shape, bool to_nhwc, size_t element_bytes = 4);
// A plain tensor permuted: out has dims shape[perm[0]], shape[perm[1]], ...
void transpose(const float* in, float* out, const graph::Shape& shape, const std::vector<int64_t>& perm);

}  // namespace fluidedge::runtime::xnnpack
