// The fast backend's unit of execution: one main node plus the elementwise nodes fused into it
// as oneDNN post-ops (activations, and a residual Add as a "sum" post-op).
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::runtime::fast {

struct PostOp {
  enum class Kind { kEltwise, kSum } kind = Kind::kEltwise;
  std::string op_type;   // the fused node's op (Relu, Clip, HardSwish, Sigmoid, Add, ...)
  float alpha = 0, beta = 0;
  std::string operand;   // kSum: the value added to the main node's output
};

struct FusedStep {
  graph::Node node;              // the main node; its outputs[0] is replaced by the fused output
  std::vector<PostOp> post_ops;  // applied in order to outputs[0]
  std::vector<std::string> fused_nodes;  // names of nodes folded into this step (for profiles)

  // Values the step reads at run time (non-initializer inputs of the node, then sum operands).
  std::vector<std::string> runtime_inputs(const graph::Graph& g) const;
};

// Removes identities, folds batch norms and fuses activations and residual adds into the
// preceding Conv/Gemm/MatMul where oneDNN supports it. Returns steps in execution order.
std::vector<FusedStep> fuse_graph(graph::Graph& g);

// Whether an activation node can be expressed as oneDNN eltwise post-ops.
bool is_fusable_activation(const graph::Graph& g, const graph::Node& n);
// The post-op of such a node (its parameters from attributes and constant inputs).
PostOp activation_post_op(const graph::Graph& g, const graph::Node& n);

}  // namespace fluidedge::runtime::fast
