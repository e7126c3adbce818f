// Activations the fast backend computes itself rather than as oneDNN post-ops, because its own
// loops are faster here. oneDNN 2.6's swish post-op costs ~0.27 ns an element on this machine's
// cores (its exp keeps extra range handling); the loop here ~0.18 ns, which on EfficientNet-B0
// (6.6 M swish elements an image) is ~0.6 ms of 7.5.
#pragma once

#include <cstddef>
#include <vector>

namespace fluidedge::runtime {

// The instruction sets these loops have versions for. The x86-64 ones are built only there and
// chosen at run time by what the CPU reports; NEON is built only for aarch64, where every CPU has
// it (ARMv8-A; a Raspberry Pi 4/5's Cortex-A72/A76 have no SVE, and nothing here needs it).
enum class VectorIsa { kScalar, kAvx2, kAvx512, kNeon };
// The best one this CPU runs.
VectorIsa best_vector_isa();
// Every one this CPU runs, the scalar version first (the tests check each).
std::vector<VectorIsa> runnable_vector_isas();
// "scalar", "avx2", "avx512", "neon": for logs and stats.
const char* vector_isa_name(VectorIsa isa);

// data[i] = data[i] * sigmoid(alpha * data[i]) for i < count, with a relative error of a few
// float32 ulps. Runs the best_vector_isa() version; split over `threads` OpenMP threads when the
// array is large.
void swish_in_place(float* data, size_t count, float alpha, int threads = 1);
// The same with the version for `isa` (tests check each); `isa` must be one this CPU runs (one
// not built for this architecture throws Error).
void swish_in_place(VectorIsa isa, float* data, size_t count, float alpha);

}  // namespace fluidedge::runtime
