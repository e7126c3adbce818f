#include "graph/shape_inference.h"

#include "graph/op_schema.h"

namespace fluidedge::graph {

void infer_node(Graph& graph, const Node& node) {
  const OpSchema* schema = find_op_schema(node.op_type);
  if (schema == nullptr || node.domain != schema->domain)
    fail("{}: operator '{}{}' is not supported (opset {})", node.describe(),
         node.domain.empty() ? "" : node.domain + ".", node.op_type, graph.opset);
  int n_in = static_cast<int>(node.inputs.size());
  while (n_in > 0 && node.inputs[n_in - 1].empty()) --n_in;
  if (n_in < schema->min_inputs || n_in > schema->max_inputs)
    fail("{}: has {} inputs; {} takes {} to {}", node.describe(), n_in, node.op_type, schema->min_inputs,
         schema->max_inputs);
  if (static_cast<int>(node.outputs.size()) > schema->max_outputs || node.outputs.empty())
    fail("{}: has {} outputs; {} produces at most {}", node.describe(), node.outputs.size(), node.op_type,
         schema->max_outputs);
  InferContext ctx{node, {}, {}, {}};
  for (const auto& in : node.inputs) {
    if (in.empty()) {
      ctx.inputs.push_back(nullptr);
      ctx.constants.push_back(nullptr);
      continue;
    }
    const ValueInfo& v = graph.value(in);
    if (!v.has_shape) fail("{}: input '{}' has no inferred shape", node.describe(), in);
    ctx.inputs.push_back(&v);
    ctx.constants.push_back(graph.initializer(in));
  }
  schema->infer(ctx);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty()) continue;
    if (i >= ctx.outputs.size() || !ctx.outputs[i].has_shape)
      fail("{}: output {} ('{}') is not supported", node.describe(), i, node.outputs[i]);
    graph.values[node.outputs[i]] = ctx.outputs[i];
  }
}

void infer_shapes(Graph& graph) {
  for (const auto& in : graph.inputs) {
    const auto& v = graph.value(in);
    if (!v.has_shape) fail("graph input '{}' has no shape", in);
  }
  for (const Node& node : graph.nodes) infer_node(graph, node);
  for (const auto& out : graph.outputs)
    if (!graph.has_value(out)) fail("graph output '{}' is not produced by any node", out);
}

void set_batch(Graph& graph, int64_t batch) {
  if (batch < 1) fail("batch size must be at least 1, got {}", batch);
  // Inputs whose dimension 0 is the current batch follow it; others (broadcast operands) keep
  // their size.
  int64_t current = graph_batch(graph);
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    auto& v = graph.value(graph.inputs[i]);
    if (!v.shape.empty() && (i == 0 || v.shape[0] == current)) v.shape[0] = batch;
  }
  infer_shapes(graph);
}

int64_t graph_batch(const Graph& graph) {
  for (const auto& in : graph.inputs) {
    const auto& s = graph.value(in).shape;
    if (!s.empty()) return s[0];
  }
  return 1;
}

}  // namespace fluidedge::graph
