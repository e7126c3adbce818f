// Built-in architectures for tests, benchmarks and demos, built directly as IR with random
// weights (fixed seed). Each has torchvision 0.14's structure and parameter count (the paper
// CNN and LeNet-5 are defined in docs/zoo.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fluidedge::zoo {

std::vector<std::string> zoo_names();
bool zoo_has(const std::string& name);
std::string zoo_description(const std::string& name);

// The architecture with random weights drawn from `seed`; shapes inferred, batch 1. Unknown
// names are an error listing the valid ones.
graph::Graph build_model(const std::string& name, uint64_t seed = 0);

}  // namespace fluidedge::zoo
