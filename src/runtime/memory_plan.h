// Where a plan's activations live: one arena, in which every value gets a byte range that no
// value alive at the same step overlaps. Values are placed largest first at the lowest offset
// free over their lifetime, which lands within a few percent of the peak of live bytes; the
// buffer-per-value pool this replaces took up to 1.9x that (GoogLeNet at batch 32: 286 MB
// for a peak of 148).
#pragma once

#include <cstddef>
#include <vector>

namespace fluidedge::runtime {

struct MemorySlot {
  size_t bytes = 0;
  int first = 0;       // step that writes it (-1: before the first step, as graph inputs)
  int last = 0;        // last step that reads it (values kept to the end: the number of steps)
  int alias_of = -1;   // a view: the same bytes as this slot
  int placed_in = -1;  // inside this slot's bytes ...
  size_t offset = 0;   // ... at this byte offset (a concatenation's input written in place)
};

// A residual sum that may accumulate in place: step `step` writes `output` as a sum post-op on
// `operand`. Accepted when `operand` dies at that step with nothing else on its bytes alive, is
// neither a view nor placed, and is at least as large. The caller offers only sums whose step
// reads the operand through the sum alone (in y = Conv(x) + x the convolution reads x too).
struct InPlaceSum {
  int step = 0;
  int operand = -1;
  int output = -1;
};

struct MemoryPlan {
  size_t arena_bytes = 0;
  std::vector<size_t> offsets;     // per slot, in the arena
  std::vector<bool> sum_in_place;  // per InPlaceSum: accepted (output shares operand's bytes)
  size_t peak_live_bytes = 0;      // the most bytes alive at one step: what no plan can go below
};

// Offsets aligned to 64 bytes. Slots a caller must not share (graph inputs and outputs) are
// given lifetimes to the end and are never operands of in-place sums.
MemoryPlan plan_memory(const std::vector<MemorySlot>& slots, const std::vector<InPlaceSum>& sums);

}  // namespace fluidedge::runtime
