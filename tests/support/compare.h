// Comparing tensors the way the acceptance criteria state it: ||a - b|| / ||b||.
#pragma once

#include <cmath>

#include "graph/tensor.h"

namespace fluidedge::testing {

inline double relative_error(const graph::Tensor& got, const graph::Tensor& want) {
  auto a = got.to_float(), b = want.to_float();
  if (a.size() != b.size()) return INFINITY;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  if (std::isnan(diff)) return INFINITY;
  return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

}  // namespace fluidedge::testing
