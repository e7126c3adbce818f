// IDX files (the MNIST format), raw or gzip-compressed, and the labelled image datasets built
// from them.
#pragma once

#include <cstdint>
#include <string>

#include "graph/tensor.h"

namespace fluidedge::data {

// Reads an IDX file (".gz" or raw; detected by content). The tensor's dtype follows the IDX
// type byte (uint8, int8, int16, int32, float32, float64). Errors name the file and the problem
// (missing, wrong magic, truncated).
graph::Tensor read_idx(const std::string& path);

// Writes an uint8 tensor as a raw IDX file.
void write_idx(const graph::Tensor& tensor, const std::string& path);

}  // namespace fluidedge::data
