// Pinning work to one core: a device node owns a core, and a profile meant for that device is
// measured on the same core (the cores of a shared VM do not run at the same speed).
#pragma once

#include <sched.h>

namespace fluidedge {

// Pins the whole process (every thread it starts later too) to `cpu`; false if the core does
// not exist or may not be used.
bool pin_process_to_cpu(int cpu);

// Pins the calling thread to `cpu` for the lifetime of the object, then restores the thread's
// previous set of cores. `pinned()` says whether the pin took (a missing core is not an error
// here: the caller decides).
class ScopedThreadPin {
 public:
  explicit ScopedThreadPin(int cpu);
  ~ScopedThreadPin();
  ScopedThreadPin(const ScopedThreadPin&) = delete;
  ScopedThreadPin& operator=(const ScopedThreadPin&) = delete;
  bool pinned() const { return pinned_; }

 private:
  cpu_set_t previous_{};
  bool pinned_ = false;
};

}  // namespace fluidedge
