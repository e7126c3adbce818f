// The backends of the lean runtime (fast on oneDNN, xnnpack on XNNPACK), registered in one call;
// the reference backend registers itself from its own library (workstation builds only).
#pragma once

namespace fluidedge::runtime {

// Registers "fast" and "xnnpack" with make_session (idempotent).
void register_lean_backends();

}  // namespace fluidedge::runtime
