// Zoo models for tests, each built once per test binary (VGG-16's random weights alone take
// seconds): every test file of a binary shares the one cache.
#pragma once

#include <map>
#include <string>

#include "zoo/zoo.h"

namespace fluidedge::testing {

inline const graph::Graph& zoo_model(const std::string& name) {
  static std::map<std::string, graph::Graph> built;
  auto it = built.find(name);
  if (it == built.end()) it = built.emplace(name, zoo::build_model(name)).first;
  return it->second;
}

}  // namespace fluidedge::testing
