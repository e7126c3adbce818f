// Builders of each architecture family (one file each); zoo.cpp lists them by name.
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace fluidedge::zoo {

graph::Graph build_paper_cnn(uint64_t seed);
graph::Graph build_lenet5(uint64_t seed);
graph::Graph build_alexnet(uint64_t seed);
graph::Graph build_vgg16(uint64_t seed);
graph::Graph build_squeezenet1_1(uint64_t seed);
graph::Graph build_resnet18(uint64_t seed);
graph::Graph build_resnet50(uint64_t seed);
graph::Graph build_regnet_x_400mf(uint64_t seed);
graph::Graph build_mobilenet_v2(uint64_t seed);
graph::Graph build_efficientnet_b0(uint64_t seed);
graph::Graph build_googlenet(uint64_t seed);

}  // namespace fluidedge::zoo
