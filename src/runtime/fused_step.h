// The lean backends' unit of execution: one main node plus the nodes fused into it
// (activations, and a residual Add as a "sum"), and the graph optimisation that makes them.
// Shared by the fast (oneDNN) and xnnpack backends; each applies the fused operations its
// library can fold into the main operator and runs the rest itself.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::runtime {

// A fused elementwise activation, typed: the ONNX op it came from, with its parameters.
enum class Activation {
  kRelu,         // max(x, 0)
  kLeakyRelu,    // x >= 0 ? x : alpha x
  kClip,         // min(max(x, alpha), beta); +-inf where the bound is absent
  kSigmoid,      // 1 / (1 + exp(-x))
  kSwish,        // x sigmoid(alpha x): SiLU as exporters write it, Mul(x, Sigmoid(x)) (alpha 1)
  kTanh,
  kHardSwish,    // x max(0, min(1, x / 6 + 1 / 2))
  kHardSigmoid,  // max(0, min(1, alpha x + beta))
};
// "Relu", "LeakyRelu", ...: the ONNX op (or "Swish", the pattern's name) for messages.
const char* activation_name(Activation a);
// The activation of a single-value function, in double precision: the one definition the
// backends' own loops are tested against.
double activation_value(Activation a, double alpha, double beta, double x);

struct PostOp {
  enum class Kind { kEltwise, kSum } kind = Kind::kEltwise;
  Activation activation = Activation::kRelu;  // kEltwise
  float alpha = 0, beta = 0;
  std::string operand;  // kSum: the value added to the main node's output

  bool is(Activation a) const { return kind == Kind::kEltwise && activation == a; }
};

struct FusedStep {
  graph::Node node;              // the main node; its outputs[0] is replaced by the fused output
  std::vector<PostOp> post_ops;  // applied in order to outputs[0]
  std::vector<std::string> fused_nodes;  // names of nodes folded into this step (for profiles)

  // Values the step reads at run time (non-initializer inputs of the node, then sum operands).
  std::vector<std::string> runtime_inputs(const graph::Graph& g) const;
};

// Removes identities, folds batch norms and fuses activations and residual adds into the
// preceding Conv/Gemm/MatMul. Returns steps in execution order.
std::vector<FusedStep> fuse_graph(graph::Graph& g);

// Whether a node is an activation fusable as a PostOp (Clip only with constant bounds).
bool is_fusable_activation(const graph::Graph& g, const graph::Node& n);
// The post-op of such a node (its parameters from attributes and constant inputs).
PostOp activation_post_op(const graph::Graph& g, const graph::Node& n);

}  // namespace fluidedge::runtime
