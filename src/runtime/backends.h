// The backends of the lean runtime (fast on oneDNN, xnnpack on XNNPACK), registered in one call;
// the reference backend registers itself from its own library (workstation builds only).
#pragma once

#include <string>

namespace fluidedge::runtime {

// Registers "fast" and "xnnpack" with make_session (idempotent).
void register_lean_backends();

// The backend a node, `run` and `profile` use when none is named: the fastest on this CPU.
// On Arm, xnnpack (oneDNN 2.6's Arm kernels need SVE, which Cortex-A72/A76 boards lack, so it
// falls back to reference loops there). On x86, fast: `bench runtime` measures it ahead of
// xnnpack on most zoo models here (its JIT kernels, Winograd and per-layer layouts).
std::string default_backend();

// The CPU features a lean backend's kernels use here ("avx512_core", "neon neonfma dot", ...).
std::string backend_cpu_features(const std::string& backend);

}  // namespace fluidedge::runtime
