#include "common/cpu_affinity.h"

#include <pthread.h>

namespace fluidedge {
namespace {

bool one_core(int cpu, cpu_set_t& set) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return true;
}

}  // namespace

bool pin_process_to_cpu(int cpu) {
  cpu_set_t set;
  return one_core(cpu, set) && sched_setaffinity(0, sizeof(set), &set) == 0;
}

ScopedThreadPin::ScopedThreadPin(int cpu) {
  cpu_set_t set;
  if (pthread_getaffinity_np(pthread_self(), sizeof(previous_), &previous_) != 0) return;
  pinned_ = one_core(cpu, set) && pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

ScopedThreadPin::~ScopedThreadPin() {
  if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof(previous_), &previous_);
}

}  // namespace fluidedge
