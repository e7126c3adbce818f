// Static type and shape inference over a whole graph, and re-planning for another batch size.
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace fluidedge::graph {

// Infers the dtype and shape of every node output in topological order, checking each node
// against its op schema (arity, types, shapes). Graph inputs and initializers must already
// have their ValueInfo. Throws an Error naming the first offending node.
void infer_shapes(Graph& graph);

// Infers one node's outputs from its inputs' ValueInfo (which must be known) and records
// them in graph.values.
void infer_node(Graph& graph, const Node& node);

// Sets dimension 0 of every graph input to `batch` and re-infers all shapes.
void set_batch(Graph& graph, int64_t batch);

// Batch size of the graph: dimension 0 of its first input (1 if it has none).
int64_t graph_batch(const Graph& graph);

}  // namespace fluidedge::graph
