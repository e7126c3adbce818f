#include "partition/cut.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "graph/shape_inference.h"
#include "graph/transforms.h"

namespace fluidedge::partition {

namespace {

int64_t value_bytes(const graph::Graph& g, const std::string& v) {
  const auto& info = g.value(v);
  return graph::shape_numel(info.shape) * static_cast<int64_t>(graph::dtype_size(info.dtype));
}

// For each value: the node index producing it (-1 for graph inputs) and the last node index
// reading it (nodes.size() for graph outputs).
struct Lifetimes {
  std::map<std::string, int> first, last;
};

Lifetimes lifetimes(const graph::Graph& g) {
  Lifetimes l;
  for (const auto& in : g.inputs) l.first[in] = -1;
  int n = static_cast<int>(g.nodes.size());
  for (int i = 0; i < n; ++i) {
    for (const auto& in : g.nodes[i].inputs)
      if (!in.empty() && !g.is_initializer(in)) l.last[in] = std::max(l.last[in], i);
    for (const auto& out : g.nodes[i].outputs)
      if (!out.empty()) l.first[out] = i;
  }
  for (const auto& out : g.outputs)
    if (!g.is_initializer(out)) l.last[out] = n;
  return l;
}

// Values alive across position p: produced before p (or graph inputs) and read at or after p.
std::vector<std::string> crossing(const Lifetimes& l, int p) {
  std::vector<std::string> out;
  for (const auto& [v, first] : l.first) {
    auto it = l.last.find(v);
    if (it != l.last.end() && first < p && it->second >= p) out.push_back(v);
  }
  return out;
}

}  // namespace

graph::Graph partitionable_graph(const graph::Graph& model) {
  graph::Graph g = model;
  graph::remove_identities(g);
  graph::fold_batch_norms(g);
  graph::remove_dead_nodes(g);
  g.prune_unused();
  graph::infer_shapes(g);
  return g;
}

std::vector<Cut> enumerate_cuts(const graph::Graph& g) {
  Lifetimes l = lifetimes(g);
  std::vector<Cut> cuts;
  for (int p = 1; p < static_cast<int>(g.nodes.size()); ++p) {
    Cut c;
    c.position = p;
    c.tensors = crossing(l, p);
    for (const auto& v : c.tensors) c.bytes += value_bytes(g, v);
    cuts.push_back(std::move(c));
  }
  return cuts;
}

std::vector<Cut> single_tensor_cuts(const graph::Graph& g) {
  std::vector<Cut> out;
  for (auto& c : enumerate_cuts(g))
    if (c.single_tensor()) out.push_back(std::move(c));
  return out;
}

std::vector<int> stage_bounds(const std::vector<int>& positions, int nodes) {
  std::vector<int> bounds = {0};
  bounds.insert(bounds.end(), positions.begin(), positions.end());
  bounds.push_back(nodes);
  return bounds;
}

graph::Graph split_stage(const graph::Graph& g, int begin, int end) {
  std::vector<int> positions;
  if (begin > 0) positions.push_back(begin);
  if (end < static_cast<int>(g.nodes.size())) positions.push_back(end);
  return std::move(split_stages(g, positions).at(begin > 0 ? 1 : 0));
}

std::vector<graph::Graph> split_stages(const graph::Graph& g, const std::vector<int>& positions) {
  int n = static_cast<int>(g.nodes.size());
  for (size_t i = 0; i < positions.size(); ++i)
    if (positions[i] < 1 || positions[i] >= n || (i > 0 && positions[i] <= positions[i - 1]))
      fail("cut positions must increase strictly within 1..{} (the model has {} nodes)", n - 1, n);
  Lifetimes l = lifetimes(g);
  const std::vector<int> bounds = stage_bounds(positions, n);
  std::vector<graph::Graph> stages;
  for (size_t s = 0; s + 1 < bounds.size(); ++s) {
    int begin = bounds[s], end = bounds[s + 1];
    std::vector<std::string> ins = begin == 0 ? g.inputs : crossing(l, begin);
    std::vector<std::string> outs = end == n ? g.outputs : crossing(l, end);
    graph::Graph stage;
    stage.name = fmt::format("{}_stage{}", g.name, s + 1);
    stage.opset = g.opset;
    stage.inputs = ins;
    stage.outputs = outs;
    for (const auto& v : ins) stage.values[v] = g.value(v);
    for (int i = begin; i < end; ++i) {
      const graph::Node& node = g.nodes[i];
      stage.nodes.push_back(node);
      for (const auto& in : node.inputs)
        if (const graph::Tensor* t = in.empty() ? nullptr : g.initializer(in)) stage.set_initializer(in, *t);
      for (const auto& o : node.outputs)
        if (!o.empty()) stage.values[o] = g.value(o);
    }
    for (const auto& o : outs)
      if (const graph::Tensor* t = g.initializer(o)) stage.set_initializer(o, *t);
    graph::infer_shapes(stage);
    stages.push_back(std::move(stage));
  }
  return stages;
}

}  // namespace fluidedge::partition
