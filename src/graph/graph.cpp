#include "graph/graph.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

namespace fluidedge::graph {

const ValueInfo& Graph::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) fail("graph '{}' has no value named '{}'", this->name, name);
  return it->second;
}

ValueInfo& Graph::value(const std::string& name) {
  auto it = values.find(name);
  if (it == values.end()) fail("graph '{}' has no value named '{}'", this->name, name);
  return it->second;
}

const Tensor* Graph::initializer(const std::string& name) const {
  auto it = initializers.find(name);
  return it == initializers.end() ? nullptr : &it->second;
}

void Graph::set_initializer(const std::string& name, Tensor tensor) {
  values[name] = ValueInfo{tensor.dtype(), tensor.shape(), true};
  initializers[name] = std::move(tensor);
}

int Graph::producer(const std::string& value) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& out : nodes[i].outputs)
      if (out == value) return static_cast<int>(i);
  return -1;
}

std::vector<int> Graph::consumers(const std::string& value) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (std::find(nodes[i].inputs.begin(), nodes[i].inputs.end(), value) != nodes[i].inputs.end())
      out.push_back(static_cast<int>(i));
  return out;
}

void Graph::topological_sort() {
  std::unordered_map<std::string, int> producer_of;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& out : nodes[i].outputs)
      if (!out.empty()) {
        if (producer_of.count(out))
          fail("graph '{}': value '{}' is produced by both {} and {}", name, out, nodes[producer_of[out]].describe(),
               nodes[i].describe());
        producer_of[out] = static_cast<int>(i);
      }
  std::set<std::string> available(inputs.begin(), inputs.end());
  for (const auto& [k, v] : initializers) available.insert(k);

  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<int>> dependents(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& in : nodes[i].inputs) {
      if (in.empty() || available.count(in)) continue;
      auto it = producer_of.find(in);
      if (it == producer_of.end())
        fail(
            "graph '{}': {} reads '{}', which is not a graph input, an initializer or any "
            "node's output",
            name, nodes[i].describe(), in);
      ++pending[i];
      dependents[it->second].push_back(static_cast<int>(i));
    }
  }
  // Kahn's algorithm with a min-heap on the original index keeps the order stable.
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (pending[i] == 0) ready.push(static_cast<int>(i));
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    sorted.push_back(std::move(nodes[i]));
    for (int d : dependents[i])
      if (--pending[d] == 0) ready.push(d);
  }
  if (sorted.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (pending[i] > 0) fail("graph '{}' has a cycle through {}", name, nodes[i].describe());
  }
  nodes = std::move(sorted);
}

std::string Graph::unique_name(const std::string& prefix) const {
  if (!values.count(prefix) && producer(prefix) < 0) return prefix;
  for (int i = 1;; ++i) {
    std::string candidate = prefix + "_" + std::to_string(i);
    if (!values.count(candidate) && producer(candidate) < 0) return candidate;
  }
}

void Graph::prune_unused() {
  std::set<std::string> used(outputs.begin(), outputs.end());
  used.insert(inputs.begin(), inputs.end());
  for (const auto& n : nodes) {
    used.insert(n.inputs.begin(), n.inputs.end());
    used.insert(n.outputs.begin(), n.outputs.end());
  }
  for (auto it = initializers.begin(); it != initializers.end();)
    it = used.count(it->first) ? std::next(it) : initializers.erase(it);
  for (auto it = values.begin(); it != values.end();) it = used.count(it->first) ? std::next(it) : values.erase(it);
}

int64_t Graph::parameter_count() const {
  // Running statistics of batch normalisation are buffers, not parameters (as in PyTorch), and
  // scalar constants (Clip bounds, exporter arithmetic) are not parameters either.
  std::set<std::string> statistics;
  for (const auto& n : nodes)
    if (n.op_type == "BatchNormalization")
      for (size_t i = 3; i < n.inputs.size(); ++i) statistics.insert(n.inputs[i]);
  int64_t count = 0;
  for (const auto& [name, t] : initializers)
    if (dtype_is_float(t.dtype()) && !statistics.count(name) && t.rank() > 0) count += t.numel();
  return count;
}

}  // namespace fluidedge::graph
