#include "runtime/quantized_lookup.h"

#include <algorithm>
#include <optional>
#include <set>

#include "graph/op_schema.h"
#include "graph/quantization.h"
#include "graph/shape_inference.h"
#include "graph/transforms.h"
#include "runtime/fast/fast_session.h"

namespace fluidedge::runtime {

namespace {

bool scalar_constant(const graph::Graph& g, const std::string& v) {
  const graph::Tensor* t = g.initializer(v);
  return t != nullptr && t->numel() == 1 && t->dtype() == graph::DType::kFloat32;
}

// An op that maps each element by itself: an activation, or arithmetic whose other operands are
// in `chain` or scalar constants.
bool elementwise_in(const graph::Graph& g, const graph::Node& n, const std::set<std::string>& chain) {
  bool activation = n.domain.empty() && graph::op_activation(n.op_type).has_value();
  bool arithmetic = n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Mul" || n.op_type == "Div";
  if (!activation && !arithmetic) return false;
  if (n.outputs.size() != 1) return false;
  bool reads_chain = false;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const std::string& in = n.inputs[i];
    if (in.empty()) continue;
    if (chain.count(in)) {
      reads_chain = true;
    } else if (!(scalar_constant(g, in) || (i > 0 && g.initializer(in) && g.initializer(in)->numel() == 1))) {
      // one value for every element: Clip's bounds, a scalar operand (never PRelu's per-channel slopes)
      return false;
    }
  }
  return reads_chain;
}

struct Chain {
  std::vector<int> nodes;  // in graph order
  int quantize = -1;       // the QuantizeLinear ending it
};

// The chain of elementwise ops reading `start` (a DequantizeLinear's output), if it ends in one
// QuantizeLinear and nothing outside it reads its values.
std::optional<Chain> chain_from(const graph::Graph& g, const std::string& start) {
  std::set<std::string> values{start};
  Chain c;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = g.nodes[i];
    if (elementwise_in(g, n, values)) {
      c.nodes.push_back(static_cast<int>(i));
      values.insert(n.outputs[0]);
    }
  }
  if (c.nodes.empty()) return std::nullopt;
  std::set<int> members(c.nodes.begin(), c.nodes.end());
  for (const auto& v : values) {
    if (v == start) continue;
    if (g.is_output(v)) return std::nullopt;
    for (int r : g.consumers(v)) {
      if (members.count(r)) continue;
      const graph::Node& q = g.nodes[r];
      if (q.op_type != "QuantizeLinear" || c.quantize >= 0) return std::nullopt;
      for (size_t k = 1; k < q.inputs.size(); ++k)
        if (!q.inputs[k].empty() && !g.is_initializer(q.inputs[k])) return std::nullopt;
      c.quantize = r;
    }
  }
  if (c.quantize < 0) return std::nullopt;
  return c;
}

}  // namespace

int fuse_quantized_lookups(graph::Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node dq = g.nodes[i];
    if (dq.op_type != "DequantizeLinear" || g.is_initializer(dq.inputs[0])) continue;
    bool constant_params = true;
    for (size_t k = 1; k < dq.inputs.size(); ++k)
      constant_params &= dq.inputs[k].empty() || g.is_initializer(dq.inputs[k]);
    if (!constant_params) continue;
    const graph::ValueInfo& x = g.value(dq.inputs[0]);
    if (x.dtype != graph::DType::kUInt8 && x.dtype != graph::DType::kInt8) continue;
    graph::QuantParams in = graph::quant_params(g, dq, 1, 2, x.dtype, 0, 0);
    if (!in.per_tensor()) continue;
    auto chain = chain_from(g, dq.outputs[0]);
    if (!chain) continue;
    const graph::Node& q = g.nodes[chain->quantize];
    graph::QuantParams out = graph::quant_params(g, q, 1, 2, graph::DType::kUInt8, 0, 0);
    if (!out.per_tensor()) continue;

    // The chain on the 256 dequantized values, on the fast backend.
    graph::Graph table_graph;
    table_graph.inputs = {dq.outputs[0]};
    std::vector<float> dequantized(256);
    const int32_t lowest = static_cast<int32_t>(graph::dtype_min(x.dtype));
    for (int k = 0; k < 256; ++k)
      dequantized[k] = (static_cast<float>(lowest + k) - static_cast<float>(in.zero_point[0])) * in.scale[0];
    table_graph.values[dq.outputs[0]] = graph::ValueInfo{graph::DType::kFloat32, {256}, true};
    for (int n : chain->nodes) {
      const graph::Node& node = g.nodes[n];
      for (const auto& v : node.inputs)
        if (const graph::Tensor* t = g.initializer(v)) table_graph.set_initializer(v, *t);
      for (const auto& o : node.outputs) table_graph.values.try_emplace(o);
      table_graph.nodes.push_back(node);
    }
    table_graph.outputs = {q.inputs[0]};
    graph::infer_shapes(table_graph);
    fast::FastSession session(table_graph, {});
    graph::Tensor values =
        session.run({{dq.outputs[0], graph::Tensor::from_vector<float>({256}, dequantized)}}).at(q.inputs[0]);
    graph::Tensor table(out.dtype, {256});
    const int64_t qmin = graph::dtype_min(out.dtype), qmax = graph::dtype_max(out.dtype);
    for (int k = 0; k < 256; ++k) {
      int32_t v = graph::quantize_scaled(values.data<float>()[k] / out.scale[0], out.zero_point[0], qmin, qmax);
      static_cast<uint8_t*>(table.raw())[k] = static_cast<uint8_t>(v);
    }
    std::string table_name = g.unique_name(q.name + "/table");
    g.set_initializer(table_name, std::move(table));
    graph::Node lookup;
    lookup.name = q.name;
    lookup.op_type = "QLinearLookup";
    lookup.domain = "ai.fluidedge";
    lookup.inputs = {dq.inputs[0], table_name};
    lookup.outputs = {q.outputs[0]};
    g.nodes[chain->quantize] = std::move(lookup);
    ++changed;
  }
  if (changed) {
    graph::remove_dead_nodes(g);
    graph::infer_shapes(g);
  }
  return changed;
}

}  // namespace fluidedge::runtime
