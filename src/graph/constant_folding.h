// Constant folding: evaluates every node whose inputs are all known at import time (the
// Shape -> Gather -> Unsqueeze -> Concat chains exporters write around Reshape, Constant
// arithmetic, casts) and replaces it by an initializer, so backends see static shapes only.
#pragma once

#include "graph/graph.h"

namespace fluidedge::graph {

// Infers shapes node by node and folds every foldable node; removes what becomes unused.
// Nodes of fold-only ops that cannot be folded (their input is not constant) are an error
// naming the node. Returns the number of nodes folded.
int fold_constants(Graph& graph);

// Evaluates one node on constant inputs, if fluidedge knows how to fold its op (small
// integer and float arithmetic and data movement). Returns false if it does not.
bool evaluate_constant_node(const Node& node, const std::vector<const Tensor*>& inputs,
                            const std::vector<ValueInfo>& output_infos, std::vector<Tensor>& outputs);

}  // namespace fluidedge::graph
