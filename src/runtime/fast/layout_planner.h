// The activation layout of each convolution, chosen by measurement.
//
// oneDNN ties a convolution's implementation to its layout: on AVX-512, channels-last
// activations run the brgemm kernels and channel-blocked ones (nChw16c) the direct jit kernels.
// Neither wins everywhere. Measured on this project's zoo: brgemm is 5-20 % faster on wide dense
// convolutions with spatial kernels and up to 1.5x on strided 3x3 ones; the direct kernels are
// up to 2x faster on memory-bound pointwise convolutions (a 1x1 over 112x112 at batch 32) and
// 1.5-1.9x on a first layer reading a 1- or 3-channel image as it is. Switching layouts costs a
// reorder of the tensor in between.
//
// So the planner takes each convolution's time in both layouts (measured by the kernel at plan
// time) and the cost of every reorder a choice implies (measured too), estimates a whole plan by
// walking the steps as the session will plan them, and searches: the better uniform layout first,
// then single-convolution flips while the estimate improves.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/fused_step.h"

namespace fluidedge::runtime::fast {

enum class ActivationLayout {
  kLibraryChoice,   // what oneDNN picks for `any` (channels-last with brgemm on AVX-512)
  kChannelBlocked,  // nChw16c (a first layer reads its plain input)
};

// How a 4-D activation is laid out between steps, as the planner models it.
enum class ValueLayout { kPlain, kLibrary, kBlocked };

struct ConvTimes {
  // ms of one run in each ActivationLayout; negative: no optimised kernel runs it that way.
  double ms[2] = {-1, -1};
  bool first_layer = false;  // blocked reads a plain input
};

struct LayoutPlanInputs {
  // Per step; steps that are not convolutions have no entry (is_conv false).
  std::vector<bool> is_conv;
  std::vector<ConvTimes> conv;
  // Time to reorder a value between two layouts (never called with equal layouts).
  std::function<double(const std::string& value, ValueLayout from, ValueLayout to)> reorder_ms;
};

// Estimated time of a plan: the convolutions in `assigned` (one per step; ignored for others)
// plus every reorder that assignment implies.
double estimate_plan_ms(const graph::Graph& g, const std::vector<FusedStep>& steps, const LayoutPlanInputs& in,
                        const std::vector<ActivationLayout>& assigned);

// The assignment with the lowest estimate the search finds (one entry per step).
std::vector<ActivationLayout> plan_layouts(const graph::Graph& g, const std::vector<FusedStep>& steps,
                                           const LayoutPlanInputs& in);

}  // namespace fluidedge::runtime::fast
