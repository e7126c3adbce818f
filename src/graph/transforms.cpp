#include "graph/transforms.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "graph/shape_inference.h"

namespace fluidedge::graph {

namespace {

void rename_uses(Graph& g, const std::string& from, const std::string& to) {
  for (Node& n : g.nodes)
    for (auto& in : n.inputs)
      if (in == from) in = to;
}

}  // namespace

int sole_consumer(const Graph& g, const std::string& value) {
  if (g.is_output(value)) return -1;
  auto c = g.consumers(value);
  if (c.size() != 1) return -1;
  // A node reading the value twice (x * x) is not a function of it alone.
  const auto& n = g.nodes[c[0]];
  if (std::count(n.inputs.begin(), n.inputs.end(), value) != 1) return -1;
  return c[0];
}

int remove_identities(Graph& graph) {
  int removed = 0;
  for (size_t i = 0; i < graph.nodes.size();) {
    Node& n = graph.nodes[i];
    bool dropout = n.op_type == "Dropout" && (n.outputs.size() < 2 || n.outputs[1].empty()) &&
                   !(n.has_input(2));  // training_mode given: leave it to the backend to refuse
    if ((n.op_type != "Identity" && !dropout) || n.inputs.empty()) {
      ++i;
      continue;
    }
    std::string in = n.inputs[0], out = n.outputs[0];
    bool in_is_boundary = graph.is_initializer(in) || graph.is_output(in) ||
                          std::find(graph.inputs.begin(), graph.inputs.end(), in) != graph.inputs.end();
    if (!graph.is_output(out)) {
      graph.nodes.erase(graph.nodes.begin() + static_cast<long>(i));
      rename_uses(graph, out, in);
    } else if (!in_is_boundary && graph.consumers(in).size() == 1) {
      // The output name is part of the model's interface: keep it, rename the producer's.
      int p = graph.producer(in);
      graph.nodes.erase(graph.nodes.begin() + static_cast<long>(i));
      for (auto& o : graph.nodes[p].outputs)
        if (o == in) o = out;
    } else {
      ++i;
      continue;
    }
    ++removed;
  }
  if (removed) {
    graph.prune_unused();
    infer_shapes(graph);
  }
  return removed;
}

int fold_batch_norms(Graph& graph) {
  int folded = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    Node& bn = graph.nodes[i];
    if (bn.op_type != "BatchNormalization" || bn.outputs.size() > 1) continue;
    int p = graph.producer(bn.input(0));
    if (p < 0) continue;
    Node& conv = graph.nodes[p];
    if (conv.op_type != "Conv" || graph.consumers(conv.outputs[0]).size() != 1 || graph.is_output(conv.outputs[0]))
      continue;
    const Tensor* w = graph.initializer(conv.input(1));
    const Tensor* b = conv.has_input(2) ? graph.initializer(conv.input(2)) : nullptr;
    const Tensor* scale = graph.initializer(bn.input(1));
    const Tensor* shift = graph.initializer(bn.input(2));
    const Tensor* mean = graph.initializer(bn.input(3));
    const Tensor* var = graph.initializer(bn.input(4));
    if (!w || (conv.has_input(2) && !b) || !scale || !shift || !mean || !var) continue;
    if (w->dtype() != DType::kFloat32) continue;
    int64_t oc = w->dim(0), per = w->numel() / oc;
    float eps = bn.attr_float("epsilon", 1e-5f);
    auto s = scale->to_float(), t = shift->to_float(), m = mean->to_float(), v = var->to_float();
    Tensor new_w = w->clone();
    std::vector<float> new_b(static_cast<size_t>(oc));
    auto old_b = b ? b->to_float() : std::vector<float>(static_cast<size_t>(oc), 0.f);
    float* pw = new_w.data<float>();
    for (int64_t c = 0; c < oc; ++c) {
      double k = s[c] / std::sqrt(static_cast<double>(v[c]) + eps);
      for (int64_t j = 0; j < per; ++j) pw[c * per + j] = static_cast<float>(pw[c * per + j] * k);
      new_b[c] = static_cast<float>((old_b[c] - m[c]) * k + t[c]);
    }
    std::string wname = graph.unique_name(conv.input(1) + ".bnfold");
    std::string bname = graph.unique_name(conv.name + ".bias.bnfold");
    graph.set_initializer(wname, new_w);
    graph.set_initializer(bname, Tensor::from_vector<float>({oc}, new_b));
    conv.inputs.resize(3);
    conv.inputs[1] = wname;
    conv.inputs[2] = bname;
    std::string bn_out = bn.outputs[0];
    conv.outputs[0] = bn_out;
    graph.nodes.erase(graph.nodes.begin() + static_cast<long>(i));
    --i;
    ++folded;
  }
  if (folded) {
    graph.prune_unused();
    infer_shapes(graph);
  }
  return folded;
}

int remove_dead_nodes(Graph& graph) {
  std::set<std::string> live(graph.outputs.begin(), graph.outputs.end());
  std::vector<bool> keep(graph.nodes.size(), false);
  for (size_t k = graph.nodes.size(); k-- > 0;) {
    const Node& n = graph.nodes[k];
    for (const auto& o : n.outputs)
      if (live.count(o)) keep[k] = true;
    if (keep[k])
      for (const auto& in : n.inputs) live.insert(in);
  }
  std::vector<Node> kept;
  for (size_t k = 0; k < graph.nodes.size(); ++k)
    if (keep[k]) kept.push_back(std::move(graph.nodes[k]));
  int removed = static_cast<int>(graph.nodes.size() - kept.size());
  graph.nodes = std::move(kept);
  if (removed) graph.prune_unused();
  return removed;
}

Graph extract_subgraph(const Graph& graph, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs, const std::string& name) {
  std::set<std::string> boundary(inputs.begin(), inputs.end());
  std::set<std::string> needed(outputs.begin(), outputs.end());
  std::vector<bool> take(graph.nodes.size(), false);
  for (size_t k = graph.nodes.size(); k-- > 0;) {
    const Node& n = graph.nodes[k];
    bool produces = false;
    for (const auto& o : n.outputs)
      if (needed.count(o) && !boundary.count(o)) produces = true;
    if (!produces) continue;
    take[k] = true;
    for (const auto& in : n.inputs)
      if (!in.empty()) needed.insert(in);
  }
  Graph sub;
  sub.name = name.empty() ? graph.name : name;
  sub.opset = graph.opset;
  sub.inputs = inputs;
  sub.outputs = outputs;
  for (const auto& in : inputs) sub.values[in] = graph.value(in);
  for (size_t k = 0; k < graph.nodes.size(); ++k) {
    if (!take[k]) continue;
    const Node& n = graph.nodes[k];
    sub.nodes.push_back(n);
    for (const auto& in : n.inputs) {
      if (in.empty() || boundary.count(in)) continue;
      if (const Tensor* t = graph.initializer(in)) {
        sub.set_initializer(in, *t);
      } else if (graph.producer(in) < 0) {
        fail(
            "cannot extract a stage of '{}' computing {}: it needs '{}', which is not among its "
            "inputs",
            graph.name, outputs.empty() ? "" : outputs[0], in);
      }
    }
    for (const auto& o : n.outputs)
      if (!o.empty()) sub.values[o] = graph.value(o);
  }
  for (const auto& o : outputs)
    if (!sub.has_value(o)) fail("cannot extract a stage of '{}': output '{}' is not a value of it", graph.name, o);
  // Graph outputs that are initializers (folded constants) carry over as initializers.
  for (const auto& o : outputs)
    if (const Tensor* t = graph.initializer(o)) sub.set_initializer(o, *t);
  infer_shapes(sub);
  return sub;
}

}  // namespace fluidedge::graph
