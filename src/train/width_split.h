// The width split of the Fluid paper: a base CNN's hidden layers divided into K channel groups,
// connected as one of three variants (DESIGN.md):
//   Static  — every group reads every group (the ordinary dense network);
//   Dynamic — group j reads groups 1..j; head j classifies from groups 1..j;
//   Fluid   — group j reads only group j (K independent sub-networks, head j each), plus a
//             combiner for every subset of two or more sub-networks.
// The result is one graph whose outputs are the predictions of every sub-network/combination.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::train {

enum class Variant { kStatic, kDynamic, kFluid };

Variant variant_from_name(const std::string& name);  // "static", "dynamic", "fluid"
std::string variant_name(Variant v);

struct SplitModel {
  Variant variant = Variant::kStatic;
  int groups = 1;
  graph::Graph graph;
  // Which training stage owns each parameter: 1..K for group j's weights (and head j), K + 1
  // for the combiners (Fluid). Static: everything is stage 1.
  std::map<std::string, int> param_stage;
  // Prediction outputs: "1", "2", "1+2", ... and "full" (the whole model), to graph output names.
  std::map<std::string, std::string> predictions;
  // Per group j (1-based): the value holding group j's output at each split layer, in order.
  std::vector<std::vector<std::string>> group_values;
  // The last hidden value of each group (what heads and combiners read), per group.
  std::vector<std::string> features;
  // Per group j: every value of group j that other groups' layers or heads read (Dynamic: the
  // activations device j must send on), in order. Fluid groups expose only their features.
  std::vector<std::vector<std::string>> exposed;
  int stages() const;
};

// Splits a sequential CNN (a chain of Conv / Relu / MaxPool / AveragePool / Flatten / Gemm,
// one input, last Gemm the classifier) into `groups` channel groups. Hidden widths must divide
// by `groups`. Weights are freshly initialised from `seed` (He-uniform), so the result trains
// from scratch. Errors name the layer that cannot be split.
SplitModel width_split(const graph::Graph& base, Variant variant, int groups, uint64_t seed);

// Subset keys in the order metrics list them: "1", "2", ..., "1+2", ..., "full".
std::vector<std::string> subset_keys(Variant variant, int groups);

}  // namespace fluidedge::train
