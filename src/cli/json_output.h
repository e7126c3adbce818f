// Small helpers shared by the commands for their machine-readable (--json) output.
#pragma once

#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "graph/graph.h"

namespace fluidedge::cli {

using Json = nlohmann::ordered_json;

// {"name", "dtype", "shape"} of a graph value.
inline Json value_json(const graph::Graph& g, const std::string& name) {
  const auto& v = g.value(name);
  return Json{{"name", name}, {"dtype", graph::dtype_name(v.dtype)}, {"shape", v.shape}};
}

inline void print_json(const Json& j) { std::cout << j.dump(2) << std::endl; }

}  // namespace fluidedge::cli
