#include "graph/cost.h"

#include <algorithm>
#include <set>

#include "graph/op_schema.h"

namespace fluidedge::graph {

namespace {

int64_t value_bytes(const ValueInfo& v) { return shape_numel(v.shape) * static_cast<int64_t>(dtype_size(v.dtype)); }

}  // namespace

NodeCost node_cost(const Graph& graph, const Node& node) {
  NodeCost cost;
  std::vector<const ValueInfo*> in, out;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const auto& name = node.inputs[i];
    if (name.empty()) {
      in.push_back(nullptr);
      continue;
    }
    const ValueInfo& v = graph.value(name);
    in.push_back(&v);
    if (const Tensor* t = graph.initializer(name)) {
      cost.weight_bytes += static_cast<int64_t>(t->nbytes());
      bool statistic = node.op_type == "BatchNormalization" && i >= 3;
      if (dtype_is_float(t->dtype()) && !statistic && t->rank() > 0) cost.params += t->numel();
    } else {
      cost.input_bytes += value_bytes(v);
    }
  }
  for (const auto& name : node.outputs) {
    if (name.empty()) {
      out.push_back(nullptr);
      continue;
    }
    const ValueInfo& v = graph.value(name);
    out.push_back(&v);
    cost.output_bytes += value_bytes(v);
  }
  const OpSchema* schema = find_op_schema(node.op_type);
  if (schema != nullptr && schema->macs != nullptr) cost.macs = schema->macs(node, in, out);
  return cost;
}

GraphCost graph_cost(const Graph& graph) {
  GraphCost total;
  for (const Node& node : graph.nodes) {
    NodeCost c = node_cost(graph, node);
    total.macs += c.macs;
    total.activation_bytes += c.output_bytes;
    total.largest_activation_bytes = std::max(total.largest_activation_bytes, c.output_bytes);
    total.op_histogram[node.op_type] += 1;
  }
  total.params = graph.parameter_count();
  for (const auto& [name, t] : graph.initializers) total.weight_bytes += static_cast<int64_t>(t.nbytes());
  return total;
}

}  // namespace fluidedge::graph
