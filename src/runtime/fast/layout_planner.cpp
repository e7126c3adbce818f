#include "runtime/fast/layout_planner.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "graph/op_schema.h"

namespace fluidedge::runtime::fast {

namespace {

// A flip must gain this share of the flipped convolutions' own time: isolated timings of
// small convolutions differ by a few per cent from run to run, and in place by as much again.
constexpr double kMinFlipGain = 0.05;
constexpr double kUnavailable = std::numeric_limits<double>::infinity();

// Ops whose kernels take their first input's layout as it comes and give it to their output;
// their other same-shaped inputs are reordered to it.
bool follows_input_layout(const graph::Graph& g, const graph::Node& n) {
  return n.domain.empty() && graph::op_has_trait(n.op_type, graph::kFollowsInputLayout) &&
         (!graph::op_activation(n.op_type) || is_fusable_activation(g, n));
}

bool is_4d(const graph::Graph& g, const std::string& value) { return g.value(value).shape.size() == 4; }

}  // namespace

double estimate_plan_ms(const graph::Graph& g, const std::vector<FusedStep>& steps, const LayoutPlanInputs& in,
                        const std::vector<ActivationLayout>& assigned) {
  std::map<std::string, ValueLayout> layout;
  auto layout_of = [&](const std::string& v) {
    auto it = layout.find(v);
    return it == layout.end() ? ValueLayout::kPlain : it->second;  // graph inputs are plain
  };
  double total = 0;
  auto bring = [&](const std::string& v, ValueLayout to) {
    ValueLayout from = layout_of(v);
    if (from != to && is_4d(g, v)) total += in.reorder_ms(v, from, to);
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const FusedStep& step = steps[i];
    std::vector<std::string> ins = step.runtime_inputs(g);
    const auto& outs = step.node.outputs;
    if (in.is_conv[i]) {
      const ConvTimes& c = in.conv[i];
      int k = static_cast<int>(assigned[i]);
      if (c.ms[k] < 0) return kUnavailable;
      total += c.ms[k];
      bool blocked = assigned[i] == ActivationLayout::kChannelBlocked;
      ValueLayout out = blocked ? ValueLayout::kBlocked : ValueLayout::kLibrary;
      if (!ins.empty() && is_4d(g, ins[0])) bring(ins[0], blocked && c.first_layer ? ValueLayout::kPlain : out);
      for (size_t j = 1; j < ins.size(); ++j) bring(ins[j], out);  // the residual of a sum post-op
      if (!outs.empty() && !outs[0].empty()) layout[outs[0]] = out;
      continue;
    }
    if (follows_input_layout(g, step.node) && !ins.empty() && is_4d(g, ins[0])) {
      ValueLayout first = layout_of(ins[0]);
      const graph::Shape& shape = g.value(ins[0]).shape;
      for (size_t j = 1; j < ins.size(); ++j)
        if (g.value(ins[j]).shape == shape || step.node.op_type == "Concat") bring(ins[j], first);
      for (const auto& o : outs)
        if (!o.empty() && is_4d(g, o)) layout[o] = first;
      continue;
    }
    for (const auto& v : ins) bring(v, ValueLayout::kPlain);  // everything else reads plain
    for (const auto& o : outs)
      if (!o.empty()) layout[o] = ValueLayout::kPlain;
  }
  for (const auto& o : g.outputs)
    if (g.has_value(o) && is_4d(g, o)) bring(o, ValueLayout::kPlain);  // handed back plain
  return total;
}

std::vector<ActivationLayout> plan_layouts(const graph::Graph& g, const std::vector<FusedStep>& steps,
                                           const LayoutPlanInputs& in) {
  const auto lib = ActivationLayout::kLibraryChoice, blk = ActivationLayout::kChannelBlocked;
  // Uniform starts: every convolution in one layout where it can run so, else the other.
  auto uniform = [&](ActivationLayout want) {
    std::vector<ActivationLayout> a(steps.size(), lib);
    for (size_t i = 0; i < steps.size(); ++i)
      if (in.is_conv[i]) a[i] = in.conv[i].ms[static_cast<int>(want)] >= 0 ? want : (want == lib ? blk : lib);
    return a;
  };
  std::vector<ActivationLayout> best = uniform(lib);
  double best_ms = estimate_plan_ms(g, steps, in, best);
  std::vector<ActivationLayout> other = uniform(blk);
  if (double ms = estimate_plan_ms(g, steps, in, other); ms < best_ms) {
    best = other;
    best_ms = ms;
  }
  // Flip runs of one to four consecutive convolutions (a block's worth: one flip alone may
  // only move a reorder) while that helps; a few passes.
  std::vector<size_t> convs;
  for (size_t i = 0; i < steps.size(); ++i)
    if (in.is_conv[i]) convs.push_back(i);
  for (int pass = 0; pass < 4; ++pass) {
    bool improved = false;
    for (size_t c = 0; c < convs.size(); ++c)
      for (size_t len = 1; len <= 4 && c + len <= convs.size(); ++len) {
        auto trial = best;
        double flipped_ms = 0;
        for (size_t k = c; k < c + len; ++k) {
          trial[convs[k]] = trial[convs[k]] == lib ? blk : lib;
          const auto& t = in.conv[convs[k]].ms;
          flipped_ms += std::max(std::min(t[0], t[1]), 0.0);
        }
        double ms = estimate_plan_ms(g, steps, in, trial);
        // Only for a gain well above timing noise: 5 % of the flipped convolutions' time.
        if (ms < best_ms - kMinFlipGain * flipped_ms) {
          best = std::move(trial);
          best_ms = ms;
          improved = true;
        }
      }
    if (!improved) break;
  }
  return best;
}

}  // namespace fluidedge::runtime::fast
