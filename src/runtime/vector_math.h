// Activations the fast backend computes itself rather than as oneDNN post-ops, because its own
// loops are faster here. oneDNN 2.6's swish post-op costs ~0.27 ns an element on this machine's
// cores (its exp keeps extra range handling); the loop here ~0.18 ns, which on EfficientNet-B0
// (6.6 M swish elements an image) is ~0.6 ms of 7.5.
#pragma once

#include <cstddef>

namespace fluidedge::runtime {

// The instruction sets these loops have versions for.
enum class VectorIsa { kScalar, kAvx2, kAvx512 };
// The best one this CPU runs.
VectorIsa best_vector_isa();

// data[i] = data[i] * sigmoid(alpha * data[i]) for i < count, with a relative error of a few
// float32 ulps. Runs the best_vector_isa() version; split over `threads` OpenMP threads when the
// array is large.
void swish_in_place(float* data, size_t count, float alpha, int threads = 1);
// The same with the version for `isa` (tests check each); `isa` must be one this CPU runs.
void swish_in_place(VectorIsa isa, float* data, size_t count, float alpha);

}  // namespace fluidedge::runtime
