// ONNX in and out. Import accepts opsets 11 to 17 and normalises every node to opset-17
// semantics, folds the constant sub-graphs PyTorch's exporter writes around Reshape, and
// infers all shapes; anything fluidedge cannot run is an error naming the node, op and opset.
// Export writes opset 17 with a symbolic batch dimension, and re-imports to the same graph.
#pragma once

#include <string>
#include <string_view>

#include "graph/graph.h"

namespace fluidedge::graph {

// Loads, normalises, folds and shape-infers an ONNX model file. External data is read relative
// to the file's directory. Dynamic dimensions (dim_param) become 1; the batch size is set per
// run by the backends.
Graph load_onnx(const std::string& path);
// The same from bytes in memory; `label` names the model in messages, `base_dir` is where
// external data files are looked up.
Graph parse_onnx(std::string_view bytes, const std::string& label, const std::string& base_dir);

// Writes the graph as an ONNX model (opset 17, ir_version 8). Inputs and outputs get the
// symbolic batch dimension "batch". Throws if the file cannot be written.
void save_onnx(const Graph& graph, const std::string& path);
std::string serialize_onnx(const Graph& graph);

// Reads a serialized onnx.TensorProto (the .pb files of ONNX's backend node tests).
Tensor load_onnx_tensor(const std::string& path);

}  // namespace fluidedge::graph
