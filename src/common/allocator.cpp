#include "common/allocator.h"

#include <malloc.h>

namespace fluidedge {

void keep_large_allocations_in_heap() {
  static bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)done;
}

}  // namespace fluidedge
