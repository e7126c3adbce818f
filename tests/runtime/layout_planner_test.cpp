// The layout planner's estimate and search on a small chain with made-up costs: what it picks
// follows from the numbers, so each case states what must come out.
#include <gtest/gtest.h>

#include "runtime/fast/layout_planner.h"
#include "runtime/fused_step.h"
#include "zoo/graph_builder.h"

namespace fluidedge::runtime::fast {
namespace {

using L = ActivationLayout;
constexpr auto kLib = L::kLibraryChoice;
constexpr auto kBlk = L::kChannelBlocked;

// image -> conv a (first layer) -> conv b -> conv c -> flatten -> linear.
struct Chain {
  graph::Graph g;
  std::vector<FusedStep> steps;
  std::vector<size_t> convs;  // step indices of a, b, c
  Chain() {
    zoo::GraphBuilder b("chain", {1, 3, 8, 8}, 1);
    std::string x = b.relu(b.conv(b.input(), "a", 16, 3, 1, 1));
    x = b.relu(b.conv(x, "b", 16, 3, 1, 1));
    x = b.relu(b.conv(x, "c", 16, 3, 1, 1));
    g = b.finish(b.linear(b.flatten(x), "fc", 10));
    steps = fuse_graph(g);
    for (size_t i = 0; i < steps.size(); ++i)
      if (steps[i].node.op_type == "Conv") convs.push_back(i);
  }
  // Conv times per layout (a, b, c), and one cost for every reorder; counts the reorders asked.
  LayoutPlanInputs inputs(std::vector<std::pair<double, double>> ms, double reorder, int* reorders = nullptr) {
    LayoutPlanInputs in;
    in.is_conv.assign(steps.size(), false);
    in.conv.resize(steps.size());
    for (size_t k = 0; k < convs.size(); ++k) {
      in.is_conv[convs[k]] = true;
      in.conv[convs[k]].ms[0] = ms[k].first;
      in.conv[convs[k]].ms[1] = ms[k].second;
      in.conv[convs[k]].first_layer = k == 0;
    }
    in.reorder_ms = [reorder, reorders](const std::string&, ValueLayout from, ValueLayout to) {
      EXPECT_NE(from, to);
      if (reorders) ++*reorders;
      return reorder;
    };
    return in;
  }
  std::vector<L> assign(L a, L b, L c) {
    std::vector<L> v(steps.size(), kLib);
    v[convs[0]] = a;
    v[convs[1]] = b;
    v[convs[2]] = c;
    return v;
  }
};

TEST(LayoutPlanner, EstimateCountsConvolutionsAndTheReordersTheyImply) {
  Chain chain;
  ASSERT_EQ(chain.convs.size(), 3u);
  int reorders = 0;
  auto in = chain.inputs({{1, 2}, {10, 20}, {100, 200}}, 0.5, &reorders);
  // All channels-last: the image into it, and the result back to plain for Flatten.
  EXPECT_DOUBLE_EQ(estimate_plan_ms(chain.g, chain.steps, in, chain.assign(kLib, kLib, kLib)), 111 + 2 * 0.5);
  EXPECT_EQ(reorders, 2);
  // All blocked: the first layer reads the image as it is; only the way out is reordered.
  reorders = 0;
  EXPECT_DOUBLE_EQ(estimate_plan_ms(chain.g, chain.steps, in, chain.assign(kBlk, kBlk, kBlk)), 222 + 0.5);
  EXPECT_EQ(reorders, 1);
  // A switch in the middle costs a reorder at each side of it.
  reorders = 0;
  EXPECT_DOUBLE_EQ(estimate_plan_ms(chain.g, chain.steps, in, chain.assign(kLib, kBlk, kLib)), 121 + 4 * 0.5);
  EXPECT_EQ(reorders, 4);
}

TEST(LayoutPlanner, PicksEachConvolutionsFasterLayoutWhenSwitchingIsCheap) {
  Chain chain;
  auto in = chain.inputs({{1, 2}, {20, 10}, {100, 200}}, 0.01);
  EXPECT_EQ(plan_layouts(chain.g, chain.steps, in), chain.assign(kLib, kBlk, kLib));
}

TEST(LayoutPlanner, StaysUniformWhenSwitchingCostsMoreThanItGains) {
  Chain chain;
  // All channels-last 121 + 2 reorders = 321; all blocked 240 + 1 = 340; b alone blocked
  // 111 + 4 reorders = 511.
  auto in = chain.inputs({{1, 30}, {20, 10}, {100, 200}}, 100);
  EXPECT_EQ(plan_layouts(chain.g, chain.steps, in), chain.assign(kLib, kLib, kLib));
  // All blocked 152 + 50 = 202; a and b blocked 112 + 2 * 50 = 212; all channels-last 221.
  in = chain.inputs({{1, 2}, {20, 10}, {100, 140}}, 50);
  EXPECT_EQ(plan_layouts(chain.g, chain.steps, in), chain.assign(kBlk, kBlk, kBlk));
  // c's gain pays for its switch: 112 + 2 * 50 = 212 against 262 and 221.
  in = chain.inputs({{1, 2}, {20, 10}, {100, 200}}, 50);
  EXPECT_EQ(plan_layouts(chain.g, chain.steps, in), chain.assign(kBlk, kBlk, kLib));
}

TEST(LayoutPlanner, IgnoresGainsWithinTimingNoise) {
  Chain chain;
  // b is 2 % faster blocked: less than the 5 % a flip must gain.
  auto in = chain.inputs({{1, 2}, {10, 9.8}, {100, 200}}, 0.0);
  EXPECT_EQ(plan_layouts(chain.g, chain.steps, in), chain.assign(kLib, kLib, kLib));
}

TEST(LayoutPlanner, NeverPlansALayoutNoOptimisedKernelRuns) {
  Chain chain;
  auto in = chain.inputs({{1, 2}, {-1, 30}, {100, 200}}, 0.01);  // b runs only blocked
  auto got = plan_layouts(chain.g, chain.steps, in);
  EXPECT_EQ(got[chain.convs[1]], kBlk);
  in = chain.inputs({{1, 2}, {30, -1}, {100, 1}}, 0.01);  // b runs only channels-last
  got = plan_layouts(chain.g, chain.steps, in);
  EXPECT_EQ(got[chain.convs[1]], kLib);
  EXPECT_EQ(got[chain.convs[2]], kBlk);
}

}  // namespace
}  // namespace fluidedge::runtime::fast
