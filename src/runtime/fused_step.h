// The lean backends' unit of execution: one main node plus the nodes fused into it
// (activations, and a residual Add as a "sum"), and the graph optimisation that makes them.
// Shared by the fast (oneDNN) and xnnpack backends; each applies the fused operations its
// library can fold into the main operator and runs the rest itself.
#pragma once

#include <string>
#include <vector>

#include "graph/activation.h"
#include "graph/graph.h"

namespace fluidedge::runtime {

// Activations are the graph layer's typed values (graph/activation.h).
using graph::Activation;
using graph::activation_name;
using graph::activation_value;

struct PostOp {
  enum class Kind { kEltwise, kSum } kind = Kind::kEltwise;
  Activation activation = Activation::kRelu;  // kEltwise
  float alpha = 0, beta = 0;
  std::string operand;  // kSum: the value added to the main node's output

  bool is(Activation a) const { return kind == Kind::kEltwise && activation == a; }
};

struct FusedStep {
  graph::Node node;                      // the main node; its outputs[0] is replaced by the fused output
  std::vector<PostOp> post_ops;          // applied in order to outputs[0]
  std::vector<std::string> fused_nodes;  // names of nodes folded into this step (for profiles)

  // Values the step reads at run time (non-initializer inputs of the node, then sum operands).
  std::vector<std::string> runtime_inputs(const graph::Graph& g) const;
};

// Which activations a backend's main operators can apply as post-ops.
using FusableActivation = bool (*)(Activation);
bool any_activation(Activation);

// Removes identities, folds batch norms and fuses activations (those `fusable` accepts) and
// residual adds into the preceding Conv/Gemm/MatMul. Returns steps in execution order.
std::vector<FusedStep> fuse_graph(graph::Graph& g, FusableActivation fusable = any_activation);

// Why a lean backend, computing in float32, cannot take the step (a runtime input of another
// type to an op that is not shape-only), naming `backend`; empty when it can. With
// `integer_data_movement`, the backend also runs MaxPool and Concat on uint8 and int8.
std::string float32_input_problem(const FusedStep& step, const graph::Graph& g, const char* backend,
                                  bool integer_data_movement = false);

// Whether a node is an activation fusable as a PostOp (Clip only with constant bounds).
bool is_fusable_activation(const graph::Graph& g, const graph::Node& n);
// The post-op of such a node (its parameters from attributes and constant inputs).
PostOp activation_post_op(const graph::Graph& g, const graph::Node& n);

}  // namespace fluidedge::runtime
