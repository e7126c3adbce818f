// Rewrites of a graph that keep its function: what backends run before planning and what the
// partitioner uses to cut a model into stages. Each returns how many nodes it changed.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::graph {

// Removes Identity and inference-mode Dropout nodes, rewiring their consumers (or renaming the
// producer's output when the removed node fed a graph output).
int remove_identities(Graph& graph);

// Folds a BatchNormalization that follows a Conv (whose output nothing else reads) into the
// convolution's weights and bias.
int fold_batch_norms(Graph& graph);

// The only node reading `value`, reading it once; -1 if several do, one reads it twice, or it
// is a graph output.
int sole_consumer(const Graph& g, const std::string& value);

// Removes nodes none of whose outputs reach a graph output.
int remove_dead_nodes(Graph& graph);

// The sub-graph computing `outputs` from `inputs` (values of `graph`): the nodes on paths
// between them, the initializers they read. Throws if `outputs` need a value that is neither
// in `inputs` nor computable from them and the initializers.
Graph extract_subgraph(const Graph& graph, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs, const std::string& name = "");

}  // namespace fluidedge::graph
