#include "runtime/backends.h"

#include "runtime/fast/fast_session.h"
#include "runtime/xnnpack/xnnpack_session.h"

namespace fluidedge::runtime {

std::string default_backend() {
#if defined(__aarch64__) || defined(__arm__)
  return "xnnpack";
#else
  return "fast";
#endif
}

std::string backend_cpu_features(const std::string& backend) {
  if (backend == "fast") return fast::cpu_features();
  if (backend == "xnnpack") return xnnpack::cpu_features();
  return "";
}

void register_lean_backends() {
  fast::register_fast_backend();
  xnnpack::register_xnnpack_backend();
}

}  // namespace fluidedge::runtime
