#include "cli/model_source.h"

#include "graph/onnx_io.h"
#include "zoo/zoo.h"

namespace fluidedge::cli {

graph::Graph load_model(const std::string& spec) {
  if (spec.starts_with("zoo:")) return zoo::build_model(spec.substr(4));
  return graph::load_onnx(spec);
}

}  // namespace fluidedge::cli
