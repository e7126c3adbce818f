// The reference backend: the Session interface over AtenExecutor. Clarity over speed; it is the
// oracle the fast backend and every conformance test are checked against.
#pragma once

#include <string>
#include <vector>

#include "runtime/session.h"

namespace fluidedge::runtime::reference {

// Registers the "reference" backend with runtime::make_session (idempotent). Called explicitly
// by the binaries and tests that link it: a static registrar in a static library would be
// dropped by the linker.
void register_reference_backend();

// Op types the reference backend's op table (aten_ops.cpp) has an entry for.
std::vector<std::string> reference_table_ops();

}  // namespace fluidedge::runtime::reference
