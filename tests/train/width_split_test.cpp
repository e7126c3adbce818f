#include <set>

#include <gtest/gtest.h>

#include "graph/shape_inference.h"
#include "train/width_split.h"

namespace fluidedge::train {
namespace {

using graph::Graph;

// The paper CNN, built by hand so that this test depends on the graph layer only.
Graph paper_cnn() {
  Graph g;
  g.name = "paper_cnn";
  g.inputs = {"input"};
  g.values["input"] = {graph::DType::kFloat32, {1, 1, 28, 28}, true};
  auto w = [&](const std::string& n, graph::Shape s) {
    g.set_initializer(n, graph::Tensor(graph::DType::kFloat32, s));
  };
  auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out,
                  std::map<std::string, graph::Attribute> attrs = {}) {
    g.nodes.push_back({out, op, "", in, {out}, attrs});
    g.values.try_emplace(out);
  };
  const auto k2 = std::vector<int64_t>{2, 2};
  w("c1.w", {32, 1, 3, 3});
  w("c1.b", {32});
  w("c2.w", {64, 32, 3, 3});
  w("c2.b", {64});
  w("f1.w", {128, 1600});
  w("f1.b", {128});
  w("f2.w", {10, 128});
  w("f2.b", {10});
  node("Conv", {"input", "c1.w", "c1.b"}, "c1");
  node("Relu", {"c1"}, "r1");
  node("MaxPool", {"r1"}, "p1", {{"kernel_shape", k2}, {"strides", k2}});
  node("Conv", {"p1", "c2.w", "c2.b"}, "c2");
  node("Relu", {"c2"}, "r2");
  node("MaxPool", {"r2"}, "p2", {{"kernel_shape", k2}, {"strides", k2}});
  node("Flatten", {"p2"}, "f");
  node("Gemm", {"f", "f1.w", "f1.b"}, "h", {{"transB", int64_t{1}}});
  node("Relu", {"h"}, "hr");
  node("Gemm", {"hr", "f2.w", "f2.b"}, "output", {{"transB", int64_t{1}}});
  g.outputs = {"output"};
  graph::infer_shapes(g);
  return g;
}

// Initializers a value depends on (walking producers backwards).
std::set<std::string> params_of(const Graph& g, const std::string& value) {
  std::set<std::string> out, seen;
  std::vector<std::string> todo = {value};
  while (!todo.empty()) {
    std::string v = todo.back();
    todo.pop_back();
    if (!seen.insert(v).second) continue;
    if (g.is_initializer(v)) out.insert(v);
    int p = g.producer(v);
    if (p >= 0)
      for (const auto& in : g.nodes[p].inputs) todo.push_back(in);
  }
  return out;
}

TEST(WidthSplit, StaticIsTheDenseModel) {
  SplitModel m = width_split(paper_cnn(), Variant::kStatic, 2, 1);
  EXPECT_EQ(m.graph.parameter_count(), paper_cnn().parameter_count());
  EXPECT_EQ(m.predictions.size(), 1u);
  EXPECT_EQ(m.graph.value(m.predictions.at("full")).shape, (graph::Shape{1, 10}));
}

TEST(WidthSplit, FluidSubnetworksShareNothing) {
  SplitModel m = width_split(paper_cnn(), Variant::kFluid, 2, 1);
  ASSERT_EQ(subset_keys(Variant::kFluid, 2), (std::vector<std::string>{"1", "2", "1+2", "full"}));
  for (int j = 1; j <= 2; ++j) {
    for (const auto& p : params_of(m.graph, m.predictions.at(std::to_string(j))))
      EXPECT_EQ(m.param_stage.at(p), j) << p << " feeds sub-network " << j;
  }
  // The combiner reads both trunks; its own weights are the last stage's.
  auto both = params_of(m.graph, m.predictions.at("1+2"));
  int combiner = 0;
  for (const auto& p : both) combiner += m.param_stage.at(p) == 3;
  EXPECT_EQ(combiner, 2);  // weight and bias
  // Each sub-network is half the width: conv1 1->16, conv2 16->32, fc 800->64, head 64->10.
  int64_t sub = (16 * 9 + 16) + (32 * 16 * 9 + 32) + (64 * 800 + 64) + (10 * 64 + 10);
  int64_t count = 0;
  for (const auto& p : params_of(m.graph, m.predictions.at("1"))) count += m.graph.initializer(p)->numel();
  EXPECT_EQ(count, sub);
}

TEST(WidthSplit, DynamicGroupsReadEarlierGroups) {
  SplitModel m = width_split(paper_cnn(), Variant::kDynamic, 4, 1);
  EXPECT_EQ(subset_keys(Variant::kDynamic, 4), (std::vector<std::string>{"1", "1+2", "1+2+3", "1+2+3+4", "full"}));
  for (const auto& p : params_of(m.graph, m.predictions.at("1"))) EXPECT_EQ(m.param_stage.at(p), 1) << p;
  std::set<int> stages;
  for (const auto& p : params_of(m.graph, m.predictions.at("1+2"))) stages.insert(m.param_stage.at(p));
  EXPECT_EQ(stages, (std::set<int>{1, 2}));
  EXPECT_EQ(m.predictions.at("full"), m.predictions.at("1+2+3+4"));
}

TEST(WidthSplit, BadGroupCountsAreErrors) {
  EXPECT_THROW(width_split(paper_cnn(), Variant::kFluid, 5, 1), Error);
  EXPECT_THROW(width_split(paper_cnn(), Variant::kFluid, 1, 1), Error);
  // 32 channels do not divide into 3 groups.
  try {
    width_split(paper_cnn(), Variant::kFluid, 3, 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("do not divide into 3 groups"), std::string::npos) << e.what();
  }
  EXPECT_THROW(variant_from_name("elastic"), Error);
}

}  // namespace
}  // namespace fluidedge::train
