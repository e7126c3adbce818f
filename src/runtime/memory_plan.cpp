#include "runtime/memory_plan.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <numeric>

namespace fluidedge::runtime {

namespace {

constexpr size_t kAlignment = 64;

size_t aligned(size_t bytes) { return (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

MemoryPlan plan_memory(const std::vector<MemorySlot>& slots, const std::vector<InPlaceSum>& sums) {
  const int n = static_cast<int>(slots.size());
  auto death = [&](int s) { return std::max(slots[s].last, slots[s].first); };

  // Storage units: a slot's bytes are those of its unit, at `at` within it. Views and placed
  // slots belong to their source's unit; accepted in-place sums merge the output's unit into
  // the operand's (union-find over unit roots).
  std::vector<int> unit(n, -1);
  std::vector<size_t> at(n, 0);
  std::function<void(int)> resolve = [&](int s) {
    if (unit[s] >= 0) return;
    if (int a = slots[s].alias_of; a >= 0) {
      resolve(a);
      unit[s] = unit[a];
      at[s] = at[a];
    } else if (int p = slots[s].placed_in; p >= 0) {
      resolve(p);
      unit[s] = unit[p];
      at[s] = at[p] + slots[s].offset;
    } else {
      unit[s] = s;
    }
  };
  for (int s = 0; s < n; ++s) resolve(s);
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> find = [&](int u) { return parent[u] == u ? u : parent[u] = find(parent[u]); };
  auto unit_of = [&](int s) { return find(unit[s]); };

  MemoryPlan plan;
  plan.sum_in_place.assign(sums.size(), false);
  std::vector<size_t> order(sums.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sums[a].step < sums[b].step; });
  for (size_t i : order) {
    const InPlaceSum& sum = sums[i];
    int o = sum.operand, s = sum.output;
    const MemorySlot &operand = slots[o], &output = slots[s];
    if (operand.alias_of >= 0 || operand.placed_in >= 0 || output.alias_of >= 0 || output.placed_in >= 0) continue;
    if (death(o) != sum.step || operand.bytes < output.bytes || unit_of(o) == unit_of(s)) continue;
    bool alone = true;  // nothing else on the operand's bytes is read at or after the step
    for (int m = 0; m < n && alone; ++m)
      if (m != o && unit_of(m) == unit_of(o) && death(m) >= sum.step) alone = false;
    if (!alone) continue;
    parent[unit_of(s)] = unit_of(o);
    plan.sum_in_place[i] = true;
  }

  // Each unit's size and lifetime.
  std::vector<size_t> size(n, 0);
  std::vector<int> start(n, INT_MAX), end(n, INT_MIN);
  for (int m = 0; m < n; ++m) {
    int u = unit_of(m);
    size[u] = std::max(size[u], at[m] + slots[m].bytes);
    start[u] = std::min(start[u], slots[m].first);
    end[u] = std::max(end[u], death(m));
  }
  std::vector<int> units;
  for (int u = 0; u < n; ++u)
    if (unit[u] == u && find(u) == u) {
      size[u] = aligned(size[u]);
      units.push_back(u);
    }

  // Largest first, each at the lowest offset where it overlaps no unit alive at the same time.
  std::stable_sort(units.begin(), units.end(),
                   [&](int a, int b) { return size[a] != size[b] ? size[a] > size[b] : start[a] < start[b]; });
  std::vector<size_t> unit_offset(n, 0);
  std::vector<int> placed;
  for (int u : units) {
    std::vector<int> overlapping;
    for (int v : placed)
      if (start[v] <= end[u] && start[u] <= end[v]) overlapping.push_back(v);
    std::sort(overlapping.begin(), overlapping.end(), [&](int a, int b) { return unit_offset[a] < unit_offset[b]; });
    size_t offset = 0;
    for (int v : overlapping) {
      if (unit_offset[v] >= offset + size[u]) break;  // the gap before v holds it
      offset = std::max(offset, unit_offset[v] + size[v]);
    }
    unit_offset[u] = offset;
    placed.push_back(u);
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size[u]);
  }

  plan.offsets.resize(n);
  for (int s = 0; s < n; ++s) plan.offsets[s] = unit_offset[unit_of(s)] + at[s];
  int first_step = INT_MAX, last_step = INT_MIN;
  for (int u : units) first_step = std::min(first_step, start[u]), last_step = std::max(last_step, end[u]);
  for (int t = first_step; t <= last_step && !units.empty(); ++t) {
    size_t live = 0;
    for (int u : units)
      if (start[u] <= t && t <= end[u]) live += size[u];
    plan.peak_live_bytes = std::max(plan.peak_live_bytes, live);
  }
  return plan;
}

}  // namespace fluidedge::runtime
