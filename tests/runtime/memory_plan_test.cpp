// The activation arena planner: values alive at the same step never share bytes, views and
// placed values sit where their source says, in-place sums are taken only when safe, and the
// arena meets the peak of live bytes on the shapes networks have.
#include <gtest/gtest.h>

#include <random>

#include "runtime/memory_plan.h"

namespace fluidedge::runtime::fast {
namespace {

MemorySlot slot(size_t bytes, int first, int last) {
  MemorySlot s;
  s.bytes = bytes;
  s.first = first;
  s.last = last;
  return s;
}

bool overlap_in_time(const MemorySlot& a, const MemorySlot& b) {
  return a.first <= std::max(b.last, b.first) && b.first <= std::max(a.last, a.first);
}

TEST(MemoryPlan, AChainReusesTwoBuffersWorth) {
  // x0 -> x1 -> x2 -> x3, each read only by the next step: two alive at a time.
  std::vector<MemorySlot> slots{slot(1000, -1, 0), slot(4000, 0, 1), slot(2000, 1, 2), slot(4000, 2, 3),
                                slot(64, 3, 4)};
  MemoryPlan plan = plan_memory(slots, {});
  EXPECT_EQ(plan.peak_live_bytes, 4032u + 2048u);
  EXPECT_EQ(plan.arena_bytes, plan.peak_live_bytes);
  EXPECT_NE(plan.offsets[1], plan.offsets[2]);
}

TEST(MemoryPlan, ViewsAndPlacedValuesSitInTheirSourcesBytes) {
  std::vector<MemorySlot> slots{slot(4096, -1, 2), slot(1024, 0, 2), slot(2048, 1, 3), slot(3072, 2, 3),
                                slot(1024, 3, 4)};
  slots[1].placed_in = 3;  // a concatenation's two inputs, written in place
  slots[1].offset = 0;
  slots[2].placed_in = 3;
  slots[2].offset = 1024;
  slots[4].alias_of = 3;  // a view of the concatenation
  slots[4].first = 3;
  MemoryPlan plan = plan_memory(slots, {});
  EXPECT_EQ(plan.offsets[1], plan.offsets[3]);
  EXPECT_EQ(plan.offsets[2], plan.offsets[3] + 1024);
  EXPECT_EQ(plan.offsets[4], plan.offsets[3]);
  // The graph input (alive throughout) and the concatenation do not overlap.
  EXPECT_TRUE(plan.offsets[0] >= plan.offsets[3] + 3072 || plan.offsets[3] >= plan.offsets[0] + 4096);
}

TEST(MemoryPlan, AResidualSumAccumulatesInPlaceOnlyWhenItsOperandDiesThereAlone) {
  // Step 1 writes slot 2 = conv(slot 1) + slot 0. Slot 0 is read for the last time there.
  std::vector<MemorySlot> slots{slot(4096, 0, 1), slot(1024, 0, 1), slot(4096, 1, 2)};
  MemoryPlan plan = plan_memory(slots, {{1, 0, 2}});
  ASSERT_TRUE(plan.sum_in_place[0]);
  EXPECT_EQ(plan.offsets[2], plan.offsets[0]);

  // Read again later: no.
  slots[0].last = 2;
  EXPECT_FALSE(plan_memory(slots, {{1, 0, 2}}).sum_in_place[0]);
  slots[0].last = 1;
  // A view of the operand read at the step too: no.
  slots.push_back(slot(4096, 0, 1));
  slots.back().alias_of = 0;
  EXPECT_FALSE(plan_memory(slots, {{1, 0, 2}}).sum_in_place[0]);
  slots.pop_back();
  // The operand smaller than the output: no.
  slots[0].bytes = 2048;
  EXPECT_FALSE(plan_memory(slots, {{1, 0, 2}}).sum_in_place[0]);
}

// Random plans: whatever the structure, two slots alive at the same step whose bytes are not
// meant to be shared never overlap, and the arena holds every slot.
TEST(MemoryPlan, NoTwoLiveValuesShareBytesOnRandomPlans) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 300; ++trial) {
    int steps = 5 + static_cast<int>(rng() % 40);
    std::vector<MemorySlot> slots;
    std::vector<int> producer_of_step;
    for (int k = -1; k < steps; ++k) {
      int outputs = k < 0 ? 1 : 1 + static_cast<int>(rng() % 2);
      for (int o = 0; o < outputs; ++o) {
        int last = std::min(steps, k + 1 + static_cast<int>(rng() % 6));
        slots.push_back(slot(64 + rng() % 100000, k, last));
      }
    }
    // Some views, sharing their source's lifetime start.
    int n = static_cast<int>(slots.size());
    for (int i = 0; i < n / 5; ++i) {
      int src = static_cast<int>(rng() % n);
      MemorySlot v =
          slot(slots[src].bytes, slots[src].first, std::min(steps, slots[src].last + static_cast<int>(rng() % 3)));
      v.alias_of = src;
      slots.push_back(v);
    }
    std::vector<InPlaceSum> sums;
    for (int i = 0; i < n / 4; ++i) {
      int a = static_cast<int>(rng() % n), b = static_cast<int>(rng() % n);
      if (slots[b].first > slots[a].first) sums.push_back({slots[b].first, a, b});
    }
    MemoryPlan plan = plan_memory(slots, sums);
    ASSERT_GE(plan.arena_bytes, plan.peak_live_bytes);
    auto source = [&](int s) { return slots[s].alias_of >= 0 ? slots[s].alias_of : s; };
    for (size_t i = 0; i < sums.size(); ++i)
      if (plan.sum_in_place[i]) {
        EXPECT_EQ(plan.offsets[sums[i].output], plan.offsets[sums[i].operand]);
        EXPECT_EQ(std::max(slots[sums[i].operand].last, slots[sums[i].operand].first), sums[i].step);
      }
    for (int a = 0; a < static_cast<int>(slots.size()); ++a) {
      ASSERT_LE(plan.offsets[a] + slots[a].bytes, plan.arena_bytes);
      ASSERT_EQ(plan.offsets[a] % 64, 0u);
      for (int b = a + 1; b < static_cast<int>(slots.size()); ++b) {
        if (source(a) == source(b) || !overlap_in_time(slots[a], slots[b])) continue;
        bool disjoint =
            plan.offsets[a] + slots[a].bytes <= plan.offsets[b] || plan.offsets[b] + slots[b].bytes <= plan.offsets[a];
        // An accepted in-place sum: the output (and its views) take over the operand's bytes at
        // that step; the operand's views may not be alive then.
        bool merged = false;
        for (size_t i = 0; i < sums.size(); ++i)
          if (plan.sum_in_place[i] && ((a == sums[i].operand && source(b) == sums[i].output) ||
                                       (b == sums[i].operand && source(a) == sums[i].output)))
            merged = true;
        ASSERT_TRUE(disjoint || merged) << "trial " << trial << ": slots " << a << " and " << b << " overlap";
      }
    }
  }
}

}  // namespace
}  // namespace fluidedge::runtime::fast
