// Rewrites of quantized models in ONNX's QDQ format (QuantizeLinear/DequantizeLinear around
// float ops, as PyTorch and ONNX Runtime's quantizer write them) into the integer ops they mean,
// for backends with integer kernels. Each keeps the model's function up to the rounding of the
// float op it replaces (an integer op rounds once, where the QDQ form computes in float first);
// each returns how many nodes it changed.
#pragma once

#include "graph/graph.h"

namespace fluidedge::graph {

// DequantizeLinear(x) and DequantizeLinear(constant weights) [and DequantizeLinear(constant
// int32 bias)] into a Conv whose output only a QuantizeLinear reads (directly, or through a Relu
// or Clip that the saturation already does: Relu6 quantized to [0, 6], a Relu whose zero point is
// the type's minimum) become one
// QLinearConv from x's integers to the QuantizeLinear's. Activations must be quantized per
// tensor, weights per tensor or per output channel; a float bias is quantized to x_scale *
// w_scale. Patterns outside that stay as they are.
int fuse_qdq_convolutions(Graph& graph);

// Every rewrite below, then what they left dead removed.
int fuse_qdq(Graph& graph);

// DequantizeLinear(x) -> Gemm(DequantizeLinear(constant weights), bias) -> [Relu ->]
// QuantizeLinear (x of rank 2) becomes a 1x1 QLinearConv between two Reshapes: the inner product
// on the backends' int8 convolutions. Part of fuse_qdq.
// DequantizeLinear(a), DequantizeLinear(b) -> Add -> [Relu ->] QuantizeLinear (per tensor, one
// 8-bit type) and DequantizeLinear(x) -> GlobalAveragePool -> QuantizeLinear become ONNX
// Runtime's contrib ops QLinearAdd and QLinearGlobalAveragePool (domain com.microsoft), as ONNX
// Runtime's own optimiser makes them; DequantizeLinear -> MaxPool -> QuantizeLinear with equal
// parameters becomes a MaxPool of the integers, and a Concat of dequantized inputs quantized on
// their own parameters a Concat of the integers. Part of fuse_qdq.

// Every uint8 activation of an integer graph (after fuse_qdq) becomes int8 with its zero point
// less 128: the same real values, each integer 128 lower. XNNPACK's per-channel int8 kernels
// (qc8) take only int8 activations. Weights are left as they are. Nothing changes (0 is
// returned) when a uint8 activation is a graph input or output or feeds an op it does not know.
int to_signed_activations(Graph& graph);

// A DequantizeLinear of constants becomes the float constant it computes.
int fold_constant_dequantize(Graph& graph);

}  // namespace fluidedge::graph
