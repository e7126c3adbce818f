// Where a model comes from on the command line: an ONNX file, or `zoo:NAME` for a built-in
// architecture (random weights, fixed seed).
#pragma once

#include <string>

#include "graph/graph.h"

namespace fluidedge::cli {

graph::Graph load_model(const std::string& spec);

// Help text describing MODEL arguments.
inline constexpr const char* kModelHelp = "ONNX file, or zoo:NAME for a built-in model (see `fluidedge zoo list`)";

}  // namespace fluidedge::cli
