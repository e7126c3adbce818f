// Process-wide allocator tuning for ATen workloads.
#pragma once

namespace fluidedge {

// Keeps large blocks (up to 32 MiB) in the heap instead of mmap-ing and unmapping them on every
// allocation. Training allocates and frees tens of MiB of activations per step; with glibc's
// defaults each step page-faults them in afresh, which made the paper CNN train 7x slower here.
void keep_large_allocations_in_heap();

}  // namespace fluidedge
