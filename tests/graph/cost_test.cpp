#include <gtest/gtest.h>

#include "graph/cost.h"
#include "graph/shape_inference.h"
#include "graph_test_util.h"

namespace fluidedge::graph {
namespace {

using testing::add_input;
using testing::add_node;
using testing::random_weights;

// MACs of a convolution = output elements x (input channels / groups) x kernel area.
TEST(Cost, GroupedAndDepthwiseConvolutions) {
  Graph g;
  add_input(g, "x", {1, 32, 10, 10});
  g.set_initializer("dense", random_weights({64, 32, 3, 3}));
  g.set_initializer("grouped", random_weights({64, 8, 3, 3}));
  g.set_initializer("depthwise", random_weights({32, 1, 3, 3}));
  const auto pads = std::vector<int64_t>{1, 1, 1, 1};
  add_node(g, "Conv", {"x", "dense"}, {"a"}, {{"pads", pads}});
  add_node(g, "Conv", {"x", "grouped"}, {"b"}, {{"pads", pads}, {"group", int64_t{4}}});
  add_node(g, "Conv", {"x", "depthwise"}, {"c"}, {{"pads", pads}, {"group", int64_t{32}}});
  g.outputs = {"a", "b", "c"};
  infer_shapes(g);
  EXPECT_EQ(node_cost(g, g.nodes[0]).macs, 64 * 100 * 32 * 9);
  EXPECT_EQ(node_cost(g, g.nodes[1]).macs, 64 * 100 * 8 * 9);
  EXPECT_EQ(node_cost(g, g.nodes[2]).macs, 32 * 100 * 1 * 9);
  EXPECT_EQ(node_cost(g, g.nodes[2]).params, 32 * 9);
  EXPECT_EQ(node_cost(g, g.nodes[0]).output_bytes, 64 * 100 * 4);
  GraphCost total = graph_cost(g);
  EXPECT_EQ(total.macs, 64 * 100 * 40 * 9 + 32 * 100 * 9);
  EXPECT_EQ(total.op_histogram["Conv"], 3);
  EXPECT_EQ(total.largest_activation_bytes, 64 * 100 * 4);
}

TEST(Cost, BatchNormStatisticsAreNotParameters) {
  Graph g;
  add_input(g, "x", {1, 4, 2, 2});
  for (const char* n : {"s", "b", "m", "v"}) g.set_initializer(n, random_weights({4}));
  add_node(g, "BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"});
  g.outputs = {"y"};
  infer_shapes(g);
  EXPECT_EQ(g.parameter_count(), 8);
}

TEST(Cost, GemmAndBatchedMatMul) {
  Graph g;
  add_input(g, "x", {2, 16});
  add_input(g, "p", {3, 4, 5});
  add_input(g, "q", {3, 5, 6});
  g.set_initializer("w", random_weights({8, 16}));
  add_node(g, "Gemm", {"x", "w"}, {"y"}, {{"transB", int64_t{1}}});
  add_node(g, "MatMul", {"p", "q"}, {"z"});
  g.outputs = {"y", "z"};
  infer_shapes(g);
  EXPECT_EQ(node_cost(g, g.nodes[0]).macs, 2 * 8 * 16);
  EXPECT_EQ(node_cost(g, g.nodes[1]).macs, 3 * 4 * 6 * 5);
}

}  // namespace
}  // namespace fluidedge::graph
