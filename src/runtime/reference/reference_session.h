// The reference backend: the Session interface over AtenExecutor. Clarity over speed; it is the
// oracle the fast backend and every conformance test are checked against.
#pragma once

#include "runtime/session.h"

namespace fluidedge::runtime::reference {

// Registers the "reference" backend with runtime::make_session (idempotent). Called explicitly
// by the binaries and tests that link it: a static registrar in a static library would be
// dropped by the linker.
void register_reference_backend();

}  // namespace fluidedge::runtime::reference
