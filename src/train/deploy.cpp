#include "train/deploy.h"

#include "graph/transforms.h"

namespace fluidedge::train {

std::vector<Part> deployable_parts(const SplitModel& m) {
  const graph::Graph& g = m.graph;
  const std::string input = g.inputs.at(0);
  std::vector<Part> parts;
  if (m.variant == Variant::kStatic) {
    parts.push_back({"part1", "whole model (to be cut into stages by the partitioner)", "full", g});
    return parts;
  }
  auto keys = subset_keys(m.variant, m.groups);
  for (int j = 1; j <= m.groups; ++j) {
    std::vector<std::string> ins = {input}, outs;
    std::string key = m.variant == Variant::kDynamic ? keys[j - 1] : std::to_string(j);
    if (m.variant == Variant::kDynamic) {
      for (int i = 1; i < j; ++i) ins.insert(ins.end(), m.exposed[i - 1].begin(), m.exposed[i - 1].end());
      for (const auto& v : m.exposed[j - 1])
        if (v != m.predictions.at(key)) outs.push_back(v);
    } else {
      outs = {m.features[j - 1]};
    }
    outs.push_back(m.predictions.at(key));
    std::string name = "part" + std::to_string(j);
    parts.push_back({name,
                     m.variant == Variant::kFluid ? "sub-network " + std::to_string(j) : "group " + std::to_string(j),
                     key, graph::extract_subgraph(g, ins, outs, g.name + "_" + name)});
  }
  if (m.variant == Variant::kFluid)
    for (const auto& key : keys) {
      if (key.find('+') == std::string::npos) continue;
      std::vector<std::string> ins;
      for (size_t p = 0; p < key.size(); p += 2) ins.push_back(m.features[key[p] - '1']);
      parts.push_back({"combiner_" + key, "combiner of " + key, key,
                       graph::extract_subgraph(g, ins, {m.predictions.at(key)}, "combiner_" + key)});
    }
  return parts;
}

}  // namespace fluidedge::train
