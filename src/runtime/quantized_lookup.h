// Elementwise float ops between a DequantizeLinear and a QuantizeLinear, as quantized models
// leave activations their runtimes have no integer kernel for (EfficientNet's SiLU:
// DQ -> Sigmoid, Mul -> Q), become one table lookup: with 8-bit input and output, the chain is a
// function of 256 values. The table is computed by running the chain itself on the fast backend
// over those 256 values, so every entry is what the float path would have given.
#pragma once

#include "graph/graph.h"

namespace fluidedge::runtime {

// Rewrites each such chain into an ai.fluidedge QLinearLookup; returns how many.
int fuse_quantized_lookups(graph::Graph& g);

}  // namespace fluidedge::runtime
