// Writes a float model as a quantized one in ONNX's QDQ format, as ONNX Runtime's quantizer does:
// QuantizeLinear -> DequantizeLinear pairs on the activations around the ops that run in
// integers (Conv, Gemm, MatMul with constant weights, Add, GlobalAveragePool, MaxPool, Concat), int8
// weights (symmetric, per output channel or per tensor) and int32 biases at x_scale * w_scale
// behind DequantizeLinear. Activations are uint8 with a zero point; an output that only a Relu
// reads is quantized after the Relu (its zero point is then 0, and runtimes drop the Relu);
// MaxPool's output and Concat's inputs share parameters, so that they move integers. Any
// other op stays in float between a DequantizeLinear and a QuantizeLinear.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "quantize/calibration.h"

namespace fluidedge::quantize {

struct QdqOptions {
  bool per_channel = true;  // weights: one scale per output channel, else one per tensor
  // Weights in 7 bits ([-63, 63]): x86 CPUs without VNNI multiply uint8 by int8 with vpmaddubsw,
  // whose int16 pair sums saturate with full-range weights; with 7 they cannot, and oneDNN's
  // int8 kernels run there exactly (else the fast backend falls back to slower exact loops).
  bool reduce_range = false;
};

// The float model as quantization sees it: identities removed, batch norms folded into the
// convolutions before them (their weights are quantized folded).
graph::Graph prepare_for_quantization(const graph::Graph& graph);

// The activations write_qdq quantizes (each needs a range), in graph order.
std::vector<std::string> quantized_activations(const graph::Graph& prepared);

// The QDQ model of `prepared` with these activation ranges (one per quantized_activations()).
graph::Graph write_qdq(const graph::Graph& prepared, const std::map<std::string, TensorRange>& ranges,
                       const QdqOptions& options);

}  // namespace fluidedge::quantize
