// The lean backends' loops for the quantization ops, exact to their ONNX definitions (and to
// the reference backend): QuantizeLinear and DequantizeLinear, and direct integer loops for
// QLinearConv, ConvInteger, QLinearMatMul and MatMulInteger in whatever form the library
// kernels do not take (a weight zero point, uint8 weights, run-time operands). The fast paths
// for quantized convolutions are the backends' own kernels; these are the oracle-exact rest.
#pragma once

#include <memory>
#include <string>

#include "runtime/loop_ops.h"

namespace fluidedge::runtime {

// The loop of a quantization op's step, or nullptr (why in `why_not`) when the step is another
// op or a form these loops do not take.
std::unique_ptr<LoopOp> make_quantized_loop_op(const FusedStep& step, const graph::Graph& g, std::string& why_not);

}  // namespace fluidedge::runtime
