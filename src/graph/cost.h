// Static cost of nodes and graphs: multiply-accumulates, parameters and activation bytes.
// The partitioner's cost models and `fluidedge info` both read these numbers.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/graph.h"

namespace fluidedge::graph {

struct NodeCost {
  int64_t macs = 0;          // multiply-accumulates (Conv, Gemm, MatMul; grouped convs counted per group)
  int64_t params = 0;        // elements of float initializers the node reads (BN statistics excluded)
  int64_t weight_bytes = 0;  // bytes of all initializers the node reads
  int64_t input_bytes = 0;   // bytes of the non-initializer inputs
  int64_t output_bytes = 0;  // bytes of all outputs
};

NodeCost node_cost(const Graph& graph, const Node& node);

struct GraphCost {
  int64_t macs = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
  int64_t activation_bytes = 0;  // sum of every node output's bytes
  int64_t largest_activation_bytes = 0;
  std::map<std::string, int> op_histogram;
};

GraphCost graph_cost(const Graph& graph);

}  // namespace fluidedge::graph
