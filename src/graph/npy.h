// NumPy .npy files: how users hand inputs to `fluidedge run` and get outputs back.
// Supports little-endian float32/float64/float16(read only as raw)/int8/uint8/int16/int32/int64/bool,
// C order (Fortran order is rejected with a clear error).
#pragma once

#include <string>

#include "graph/tensor.h"

namespace fluidedge::graph {

Tensor load_npy(const std::string& path);
void save_npy(const Tensor& tensor, const std::string& path);

}  // namespace fluidedge::graph
