#include <gtest/gtest.h>

#include "graph/shape_inference.h"
#include "graph_test_util.h"

namespace fluidedge::graph {
namespace {

using testing::add_input;
using testing::add_node;
using testing::random_weights;

TEST(ShapeInference, ConvPoolGemmChain) {
  Graph g;
  add_input(g, "x", {1, 3, 32, 32});
  g.set_initializer("w", random_weights({8, 3, 3, 3}));
  add_node(g, "Conv", {"x", "w"}, {"c"},
           {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"strides", std::vector<int64_t>{2, 2}}});
  add_node(g, "MaxPool", {"c"}, {"p"},
           {{"kernel_shape", std::vector<int64_t>{3, 3}},
            {"strides", std::vector<int64_t>{2, 2}},
            {"ceil_mode", int64_t{1}}});
  add_node(g, "Flatten", {"p"}, {"f"});
  g.set_initializer("fc", random_weights({10, 8 * 8 * 8}));
  add_node(g, "Gemm", {"f", "fc"}, {"y"}, {{"transB", int64_t{1}}});
  g.outputs = {"y"};
  infer_shapes(g);
  EXPECT_EQ(g.value("c").shape, (Shape{1, 8, 16, 16}));
  // ceil((16 - 3) / 2) + 1 = 8 with ceil_mode, 7 without.
  EXPECT_EQ(g.value("p").shape, (Shape{1, 8, 8, 8}));
  EXPECT_EQ(g.value("y").shape, (Shape{1, 10}));
  set_batch(g, 5);
  EXPECT_EQ(g.value("y").shape, (Shape{5, 10}));
}

TEST(ShapeInference, AutoPadSameUpper) {
  Graph g;
  add_input(g, "x", {1, 2, 7, 7});
  g.set_initializer("w", random_weights({4, 2, 3, 3}));
  add_node(g, "Conv", {"x", "w"}, {"y"},
           {{"auto_pad", std::string("SAME_UPPER")}, {"strides", std::vector<int64_t>{2, 2}}});
  g.outputs = {"y"};
  infer_shapes(g);
  EXPECT_EQ(g.value("y").shape, (Shape{1, 4, 4, 4}));
}

TEST(ShapeInference, BroadcastMismatchNamesTheNode) {
  Graph g;
  add_input(g, "a", {2, 3});
  add_input(g, "b", {4});
  add_node(g, "Add", {"a", "b"}, {"y"});
  g.outputs = {"y"};
  try {
    infer_shapes(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Add_0"), std::string::npos) << e.what();
  }
}

TEST(ShapeInference, ReshapeWithZeroAndMinusOne) {
  Graph g;
  add_input(g, "x", {2, 3, 4});
  g.set_initializer("s", Tensor::from_vector<int64_t>({2}, {0, -1}));
  add_node(g, "Reshape", {"x", "s"}, {"y"});
  g.outputs = {"y"};
  infer_shapes(g);
  EXPECT_EQ(g.value("y").shape, (Shape{2, 12}));
}

TEST(ShapeInference, UnknownOpIsAnErrorNamingIt) {
  Graph g;
  add_input(g, "x", {1});
  add_node(g, "FancyOp", {"x"}, {"y"});
  g.outputs = {"y"};
  try {
    infer_shapes(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("FancyOp"), std::string::npos);
  }
}

TEST(Graph, TopologicalSortDetectsCycles) {
  Graph g;
  add_input(g, "x", {1});
  add_node(g, "Add", {"x", "b"}, {"a"});
  add_node(g, "Relu", {"a"}, {"b"});
  g.outputs = {"b"};
  EXPECT_THROW(g.topological_sort(), Error);
}

TEST(Graph, TopologicalSortReorders) {
  Graph g;
  add_input(g, "x", {1});
  add_node(g, "Relu", {"a"}, {"b"});
  add_node(g, "Relu", {"x"}, {"a"});
  g.outputs = {"b"};
  g.topological_sort();
  EXPECT_EQ(g.nodes[0].outputs[0], "a");
}

}  // namespace
}  // namespace fluidedge::graph
