#include "runtime/backends.h"

#include "runtime/fast/fast_session.h"
#include "runtime/xnnpack/xnnpack_session.h"

namespace fluidedge::runtime {

void register_lean_backends() {
  fast::register_fast_backend();
  xnnpack::register_xnnpack_backend();
}

}  // namespace fluidedge::runtime
