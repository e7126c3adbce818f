// The schema lists of each op family; op_schema.cpp gathers them into the registry.
#pragma once

#include <vector>

#include "graph/op_schema.h"

namespace fluidedge::graph::ops {

std::vector<OpSchema> window_schemas();        // Conv, MaxPool, AveragePool, GlobalAveragePool
std::vector<OpSchema> elementwise_schemas();   // Add, Relu, Clip, BatchNormalization, Softmax, ...
std::vector<OpSchema> linear_schemas();        // Gemm, MatMul
std::vector<OpSchema> layout_schemas();        // Reshape, Flatten, Transpose, Concat, Split, Pad, ...
std::vector<OpSchema> reduction_schemas();     // ReduceMean, ReduceMax, ReduceSum, ReduceL2, LayerNormalization
std::vector<OpSchema> fold_schemas();          // Shape, Gather, Cast, Slice, ConstantOfShape
std::vector<OpSchema> quantization_schemas();  // QuantizeLinear, DequantizeLinear, QLinearConv, ...

}  // namespace fluidedge::graph::ops
