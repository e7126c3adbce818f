#include <gtest/gtest.h>

#include "graph/shape_inference.h"
#include "graph/transforms.h"
#include "graph_test_util.h"

namespace fluidedge::graph {
namespace {

using testing::add_input;
using testing::add_node;

TEST(Transforms, FoldBatchNormIntoConv) {
  // 1x1 convolution, 2 -> 2 channels: easy to check by hand.
  Graph g;
  add_input(g, "x", {1, 2, 1, 1});
  g.set_initializer("w", Tensor::from_vector<float>({2, 2, 1, 1}, {1, 2, 3, 4}));
  g.set_initializer("gamma", Tensor::from_vector<float>({2}, {2, 0.5f}));
  g.set_initializer("beta", Tensor::from_vector<float>({2}, {1, -1}));
  g.set_initializer("mean", Tensor::from_vector<float>({2}, {10, 20}));
  g.set_initializer("var", Tensor::from_vector<float>({2}, {3, 15}));
  add_node(g, "Conv", {"x", "w"}, {"c"});
  add_node(g, "BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"y"}, {{"epsilon", 1.0f}});
  g.outputs = {"y"};
  infer_shapes(g);
  ASSERT_EQ(fold_batch_norms(g), 1);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
  // k = gamma / sqrt(var + eps) = {1, 0.125}; w' = w * k; b' = (0 - mean) * k + beta.
  auto w = g.initializer(g.nodes[0].inputs[1])->to_float();
  auto b = g.initializer(g.nodes[0].inputs[2])->to_float();
  EXPECT_EQ(w, (std::vector<float>{1, 2, 0.375f, 0.5f}));
  EXPECT_FLOAT_EQ(b[0], -9.f);
  EXPECT_FLOAT_EQ(b[1], -3.5f);
  EXPECT_FALSE(g.has_value("c"));
}

TEST(Transforms, BatchNormAfterSharedConvIsKept) {
  Graph g;
  add_input(g, "x", {1, 2, 1, 1});
  g.set_initializer("w", Tensor::from_vector<float>({2, 2, 1, 1}, {1, 2, 3, 4}));
  for (const char* n : {"s", "b", "m", "v"}) g.set_initializer(n, Tensor::from_vector<float>({2}, {1, 1}));
  add_node(g, "Conv", {"x", "w"}, {"c"});
  add_node(g, "BatchNormalization", {"c", "s", "b", "m", "v"}, {"y"});
  add_node(g, "Relu", {"c"}, {"r"});
  g.outputs = {"y", "r"};
  infer_shapes(g);
  EXPECT_EQ(fold_batch_norms(g), 0);
}

TEST(Transforms, RemoveIdentitiesKeepsOutputNames) {
  Graph g;
  add_input(g, "x", {1, 4});
  add_node(g, "Relu", {"x"}, {"a"});
  add_node(g, "Dropout", {"a"}, {"b"});
  add_node(g, "Identity", {"b"}, {"y"});
  g.outputs = {"y"};
  infer_shapes(g);
  EXPECT_EQ(remove_identities(g), 2);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Relu");
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
  EXPECT_EQ(g.nodes[0].inputs[0], "x");
}

TEST(Transforms, ExtractSubgraphAcrossABranch) {
  // x -> a -> b -> d, a -> c -> d (a residual-like diamond). Cut after a: stage 2 takes a.
  Graph g;
  add_input(g, "x", {1, 4});
  add_node(g, "Relu", {"x"}, {"a"});
  add_node(g, "Sigmoid", {"a"}, {"b"});
  add_node(g, "Tanh", {"a"}, {"c"});
  add_node(g, "Add", {"b", "c"}, {"d"});
  g.outputs = {"d"};
  infer_shapes(g);
  Graph first = extract_subgraph(g, {"x"}, {"a"});
  EXPECT_EQ(first.nodes.size(), 1u);
  Graph second = extract_subgraph(g, {"a"}, {"d"});
  EXPECT_EQ(second.nodes.size(), 3u);
  EXPECT_EQ(second.value("d").shape, (Shape{1, 4}));
  // Cutting through only one branch leaves 'a' unreachable: an error, not a wrong graph.
  EXPECT_THROW(extract_subgraph(g, {"b"}, {"d"}), Error);
}

TEST(Transforms, RemoveDeadNodes) {
  Graph g;
  add_input(g, "x", {1, 4});
  add_node(g, "Relu", {"x"}, {"a"});
  add_node(g, "Tanh", {"x"}, {"unused"});
  g.outputs = {"a"};
  infer_shapes(g);
  EXPECT_EQ(remove_dead_nodes(g), 1);
  EXPECT_EQ(g.nodes.size(), 1u);
}

}  // namespace
}  // namespace fluidedge::graph
