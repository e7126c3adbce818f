// Constructors of the fast backend's kernels, one per op family (one file each).
#pragma once

#include <memory>
#include <string>

#include "runtime/fast/kernel.h"

namespace fluidedge::runtime::fast {

std::unique_ptr<Kernel> make_conv_kernel(const FusedStep&, const graph::Graph&, const SessionOptions&,
                                         std::string& why_not);
std::unique_ptr<Kernel> make_pool_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_linear_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_eltwise_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_binary_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_batch_norm_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_softmax_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_concat_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
std::unique_ptr<Kernel> make_layout_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
// QLinearConv on oneDNN's int8 convolution where it runs it exactly, else on the shared loops.
std::unique_ptr<Kernel> make_quantized_conv_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);
// The shared loop ops (runtime/loop_ops.h) in plain layouts: what oneDNN has no primitive for.
std::unique_ptr<Kernel> make_loop_kernel(const FusedStep&, const graph::Graph&, std::string& why_not);

}  // namespace fluidedge::runtime::fast
