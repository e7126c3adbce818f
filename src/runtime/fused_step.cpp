#include "runtime/fused_step.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string_view>

#include "common/error.h"
#include "graph/op_schema.h"
#include "graph/qdq_transforms.h"
#include "graph/transforms.h"

namespace fluidedge::runtime {

namespace {

bool scalar_constant(const graph::Graph& g, const graph::Node& n, size_t i, float& out) {
  if (!n.has_input(i)) return false;
  const graph::Tensor* t = g.initializer(n.input(i));
  if (t == nullptr || t->numel() != 1 || !graph::dtype_is_float(t->dtype())) return false;
  out = t->to_float()[0];
  return true;
}

// If `value` is read exactly by a Sigmoid and by a Mul of `value` with that Sigmoid's output
// (and by nothing else), the index of the Mul; else -1.
int swish_mul(const graph::Graph& g, const std::string& value, const std::set<int>& absorbed) {
  if (g.is_output(value)) return -1;
  auto c = g.consumers(value);
  if (c.size() != 2) return -1;
  for (int k = 0; k < 2; ++k) {
    const graph::Node& sig = g.nodes[c[k]];
    const graph::Node& mul = g.nodes[c[1 - k]];
    if (sig.op_type != "Sigmoid" || mul.op_type != "Mul" || absorbed.count(c[0]) || absorbed.count(c[1])) continue;
    const std::string& s = sig.outputs[0];
    bool pair = (mul.inputs[0] == value && mul.inputs[1] == s) || (mul.inputs[1] == value && mul.inputs[0] == s);
    if (pair && !g.is_output(s) && g.consumers(s).size() == 1) return c[1 - k];
  }
  return -1;
}

}  // namespace

std::vector<std::string> FusedStep::runtime_inputs(const graph::Graph& g) const {
  std::vector<std::string> out;
  for (const auto& in : node.inputs)
    if (!in.empty() && !g.is_initializer(in)) out.push_back(in);
  for (const auto& p : post_ops)
    if (p.kind == PostOp::Kind::kSum) out.push_back(p.operand);
  return out;
}

bool any_activation(Activation) { return true; }

std::string float32_input_problem(const FusedStep& step, const graph::Graph& g, const char* backend,
                                  bool integer_data_movement) {
  if (graph::op_has_trait(step.node.op_type, graph::kShapeOnly) ||
      graph::op_has_trait(step.node.op_type, graph::kQuantized))
    return "";
  if (integer_data_movement && (step.node.op_type == "MaxPool" || step.node.op_type == "Concat") &&
      step.post_ops.empty()) {
    graph::DType t = g.value(step.node.inputs[0]).dtype;
    if (t == graph::DType::kUInt8 || t == graph::DType::kInt8) return "";
  }
  for (size_t i = 0; i < step.node.inputs.size(); ++i) {
    const std::string& in = step.node.inputs[i];
    if (in.empty() || g.is_initializer(in)) continue;
    const graph::DType dtype = g.value(in).dtype;
    // The shared Where loop (loop_ops.h) reads a bool condition as bytes.
    if (dtype == graph::DType::kFloat32 || (step.node.op_type == "Where" && i == 0 && dtype == graph::DType::kBool))
      continue;
    return fmt::format("input '{}' is {}; the {} backend computes in float32", in, graph::dtype_name(dtype), backend);
  }
  return "";
}

bool is_fusable_activation(const graph::Graph& g, const graph::Node& n) {
  std::optional<Activation> a = n.domain.empty() ? graph::op_activation(n.op_type) : std::nullopt;
  if (!a) return false;
  if (*a == Activation::kClip) {
    float v;
    return (!n.has_input(1) || scalar_constant(g, n, 1, v)) && (!n.has_input(2) || scalar_constant(g, n, 2, v));
  }
  return true;
}

PostOp activation_post_op(const graph::Graph& g, const graph::Node& n) {
  std::optional<Activation> a = n.domain.empty() ? graph::op_activation(n.op_type) : std::nullopt;
  if (!a) fail("{}: not a fusable activation", n.describe());
  PostOp p;
  p.activation = *a;
  switch (*a) {
    case Activation::kLeakyRelu:
      p.alpha = n.attr_float("alpha", 0.01f);
      break;
    case Activation::kElu:
      p.alpha = n.attr_float("alpha", 1.f);
      break;
    case Activation::kSelu:
      p.alpha = n.attr_float("alpha", 1.67326319217681884765625f);
      p.beta = n.attr_float("gamma", 1.05070102214813232421875f);
      break;
    case Activation::kGeluErf: {
      std::string approximate = n.attr_string("approximate", "none");
      if (approximate == "tanh")
        p.activation = Activation::kGeluTanh;
      else if (approximate != "none")
        fail("{}: approximate '{}' is not one of none, tanh", n.describe(), approximate);
      break;
    }
    case Activation::kHardSigmoid:
      p.alpha = n.attr_float("alpha", 0.2f);
      p.beta = n.attr_float("beta", 0.5f);
      break;
    case Activation::kClip:
      p.alpha = -std::numeric_limits<float>::infinity();
      p.beta = std::numeric_limits<float>::infinity();
      scalar_constant(g, n, 1, p.alpha);
      scalar_constant(g, n, 2, p.beta);
      break;
    default:
      break;
  }
  return p;
}

std::vector<FusedStep> fuse_graph(graph::Graph& g, FusableActivation fusable) {
  graph::remove_identities(g);
  graph::fold_constant_dequantize(g);  // weights of QDQ ops left in float
  graph::fold_batch_norms(g);
  graph::remove_dead_nodes(g);

  std::set<int> absorbed;
  std::vector<FusedStep> steps;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    if (absorbed.count(i)) continue;
    FusedStep step;
    step.node = g.nodes[i];
    bool can_fuse = step.node.op_type == "Conv" || step.node.op_type == "Gemm" || step.node.op_type == "MatMul";
    if (can_fuse && g.value(step.node.outputs[0]).dtype == graph::DType::kFloat32) {
      std::string out = step.node.outputs[0];
      bool summed = false;
      while (true) {
        // SiLU as exporters write it: y = x * sigmoid(x), i.e. x feeds both the Sigmoid and the Mul.
        if (int mul = swish_mul(g, out, absorbed); mul >= 0) {
          PostOp p;
          p.activation = Activation::kSwish;
          p.alpha = 1.f;
          step.post_ops.push_back(p);
          int sig = g.producer(g.nodes[mul].inputs[0] == out ? g.nodes[mul].inputs[1] : g.nodes[mul].inputs[0]);
          absorbed.insert(sig);
          absorbed.insert(mul);
          step.fused_nodes.push_back(g.nodes[sig].name);
          step.fused_nodes.push_back(g.nodes[mul].name);
          out = g.nodes[mul].outputs[0];
          continue;
        }
        int c = graph::sole_consumer(g, out);
        if (c < 0 || absorbed.count(c)) break;
        const graph::Node& next = g.nodes[c];
        if (is_fusable_activation(g, next) && fusable(activation_post_op(g, next).activation)) {
          step.post_ops.push_back(activation_post_op(g, next));
        } else if (next.op_type == "Add" && !summed && step.node.op_type == "Conv") {
          // Residual add: the other operand must be computed before this step and have the
          // same shape (no broadcasting in a sum post-op).
          const std::string& other = next.inputs[0] == out ? next.inputs[1] : next.inputs[0];
          int producer = g.producer(other);
          if (g.is_initializer(other) || producer >= i || g.value(other).shape != g.value(out).shape) break;
          PostOp p;
          p.kind = PostOp::Kind::kSum;
          p.operand = other;
          step.post_ops.push_back(p);
          summed = true;
        } else {
          break;
        }
        absorbed.insert(c);
        step.fused_nodes.push_back(next.name);
        out = next.outputs[0];
      }
      step.node.outputs[0] = out;
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace fluidedge::runtime
