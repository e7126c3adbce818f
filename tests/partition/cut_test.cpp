#include <random>

#include <gtest/gtest.h>

#include "compare.h"
#include "graph/shape_inference.h"
#include "partition/cut.h"
#include "runtime/fast/fast_session.h"

namespace fluidedge::partition {
namespace {

using graph::Graph;

void add_node(Graph& g, const std::string& op, std::vector<std::string> in, const std::string& out,
              std::map<std::string, graph::Attribute> attrs = {}) {
  g.nodes.push_back({out, op, "", std::move(in), {out}, std::move(attrs)});
  g.values.try_emplace(out);
}

graph::Tensor random_tensor(graph::Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, 0.5f);
  graph::Tensor t(graph::DType::kFloat32, std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = n(rng);
  return t;
}

// x -> conv a -> relu r -> [conv b, conv c] -> add d -> relu y   (a residual-like diamond)
Graph diamond() {
  Graph g;
  g.name = "diamond";
  g.inputs = {"x"};
  g.values["x"] = {graph::DType::kFloat32, {1, 4, 8, 8}, true};
  const auto pads = std::vector<int64_t>{1, 1, 1, 1};
  g.set_initializer("wa", random_tensor({8, 4, 3, 3}, 1));
  g.set_initializer("wb", random_tensor({8, 8, 3, 3}, 2));
  g.set_initializer("wc", random_tensor({8, 8, 1, 1}, 3));
  add_node(g, "Conv", {"x", "wa"}, "a", {{"pads", pads}});
  add_node(g, "Relu", {"a"}, "r");
  add_node(g, "Conv", {"r", "wb"}, "b", {{"pads", pads}});
  add_node(g, "Conv", {"r", "wc"}, "c");
  add_node(g, "Add", {"b", "c"}, "d");
  add_node(g, "Relu", {"d"}, "y");
  g.outputs = {"y"};
  graph::infer_shapes(g);
  return g;
}

TEST(Cuts, DiamondHasSingleTensorCutsOutsideTheBranch) {
  Graph g = diamond();
  auto singles = single_tensor_cuts(g);
  std::vector<std::string> names;
  for (const auto& c : singles) names.push_back(c.tensors[0]);
  // After conv a, after relu r, after the add: the only points every path goes through.
  EXPECT_EQ(names, (std::vector<std::string>{"a", "r", "d"}));
  auto all = enumerate_cuts(g);
  ASSERT_EQ(all.size(), 5u);
  // Inside the branch (after conv b): both r (still needed by conv c) and b cross.
  EXPECT_EQ(all[2].tensors, (std::vector<std::string>{"b", "r"}));
  EXPECT_EQ(all[2].bytes, 2 * 8 * 8 * 8 * 4);
  // After conv c: b and c cross.
  EXPECT_EQ(all[3].tensors, (std::vector<std::string>{"b", "c"}));
}

TEST(Cuts, StagesComposeToTheWholeModel) {
  runtime::fast::register_fast_backend();
  Graph g = diamond();
  graph::Tensor x = random_tensor({1, 4, 8, 8}, 9);
  auto whole = runtime::make_session("fast", g)->run({{"x", x}}).at("y");
  for (std::vector<int> positions : {std::vector<int>{1}, {3}, {2, 4}, {1, 2, 3, 4, 5}}) {
    auto stages = split_stages(g, positions);
    ASSERT_EQ(stages.size(), positions.size() + 1);
    runtime::TensorMap values{{"x", x}};
    for (const auto& stage : stages) {
      runtime::TensorMap feeds;
      for (const auto& in : stage.inputs) feeds[in] = values.at(in);
      for (auto& [k, v] : runtime::make_session("fast", stage)->run(feeds)) values[k] = v;
    }
    EXPECT_LE(testing::relative_error(values.at("y"), whole), 1e-6);
  }
}

TEST(Cuts, BadPositionsAreErrors) {
  Graph g = diamond();
  EXPECT_THROW(split_stages(g, {0}), Error);
  EXPECT_THROW(split_stages(g, {3, 2}), Error);
  EXPECT_THROW(split_stages(g, {6}), Error);
}

}  // namespace
}  // namespace fluidedge::partition
