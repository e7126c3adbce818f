// Where a model can be cut into pipeline stages. Cuts are positions in a topological order of
// the nodes: everything before runs on one device, everything after on the next, and every
// tensor produced before and read after crosses the link — so residual and inception blocks can
// be cut too, at their true link cost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::partition {

struct Cut {
  int position = 0;                  // nodes [0, position) before the cut
  std::vector<std::string> tensors;  // values crossing it (sorted by name)
  int64_t bytes = 0;                 // their total size at the graph's batch
  bool single_tensor() const { return tensors.size() == 1; }
};

// The graph the partitioner cuts: the model after the rewrites every backend applies anyway
// (identities removed, batch norms folded into their convolutions, dead nodes removed). No cut
// then separates a convolution from its batch norm, stage files carry no dead weight, and node
// names stay those of the model, so device profiles (keyed by node name) still apply.
graph::Graph partitionable_graph(const graph::Graph& model);

// Every cut position 1 .. nodes-1 of the graph's (topologically sorted) node order, with the
// tensors crossing it. Graph inputs read after the cut cross it too (they must be forwarded).
std::vector<Cut> enumerate_cuts(const graph::Graph& graph);

// The cuts through which exactly one tensor passes (every input-to-output path goes through it).
std::vector<Cut> single_tensor_cuts(const graph::Graph& graph);

// The stage graphs of a plan cutting at `positions` (strictly increasing, each in 1..nodes-1):
// stage i runs nodes [positions[i-1], positions[i]) and forwards what later stages need.
// Composing the stages in order computes the original graph's outputs.
std::vector<graph::Graph> split_stages(const graph::Graph& graph, const std::vector<int>& positions);

// The one stage running nodes [begin, end) of `graph` (0 and nodes for its ends), as split_stages
// makes it.
graph::Graph split_stage(const graph::Graph& graph, int begin, int end);

// Where the stages of a plan cutting at `positions` begin and end: 0, the positions, `nodes`
// (stage s runs nodes [bounds[s], bounds[s + 1])).
std::vector<int> stage_bounds(const std::vector<int>& positions, int nodes);

}  // namespace fluidedge::partition
