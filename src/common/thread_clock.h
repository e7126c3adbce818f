// CPU time of the calling thread: what a one-thread computation cost, whatever else the machine
// was doing meanwhile (wall time would include the time spent descheduled).
#pragma once

#include <ctime>

namespace fluidedge {

// CPU time the calling thread has used so far, in milliseconds.
inline double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

}  // namespace fluidedge
