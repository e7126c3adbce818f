#include <gtest/gtest.h>

#include "graph/cost.h"
#include "graph/op_schema.h"
#include "zoo/zoo.h"

namespace fluidedge::zoo {
namespace {

struct Expected {
  const char* name;
  int64_t params;  // torchvision 0.14's sum(p.numel() for p in model.parameters())
  int64_t macs;    // Conv + Linear multiply-accumulates per sample, counted in PyTorch
  int64_t classes;
};

// Verified with tests/tools/export_torchvision.py (which recounts them on every test run and
// the conformance tests compare against that too).
const Expected kExpected[] = {
    {"paper_cnn", 225034, 2631040, 10},           {"lenet5", 61706, 416520, 10},
    {"alexnet", 61100840, 714188480, 1000},       {"vgg16", 138357544, 15470264320, 1000},
    {"resnet18", 11689512, 1814073344, 1000},     {"resnet50", 25557032, 4089184256, 1000},
    {"mobilenet_v2", 3504872, 300774272, 1000},   {"efficientnet_b0", 5288548, 385814752, 1000},
    {"squeezenet1_1", 1235496, 349151936, 1000},  {"googlenet", 6624904, 1498376192, 1000},
    {"regnet_x_400mf", 5495976, 413812608, 1000},
};

class ZooModel : public ::testing::TestWithParam<Expected> {};

TEST_P(ZooModel, MatchesTorchvision) {
  const Expected& e = GetParam();
  graph::Graph g = build_model(e.name);
  graph::GraphCost cost = graph::graph_cost(g);
  EXPECT_EQ(cost.params, e.params);
  EXPECT_EQ(cost.macs, e.macs);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).shape, (graph::Shape{1, e.classes}));
  for (const auto& n : g.nodes) EXPECT_NE(graph::find_op_schema(n.op_type), nullptr) << n.describe();
}

TEST_P(ZooModel, IsTopologicallySortedAndSeeded) {
  graph::Graph g = build_model(GetParam().name, 7);
  auto before = g.nodes;
  g.topological_sort();
  ASSERT_EQ(before.size(), g.nodes.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].name, g.nodes[i].name);
  // Same seed, same weights; another seed, other weights.
  graph::Graph again = build_model(GetParam().name, 7), other = build_model(GetParam().name, 8);
  const auto& [name, w] = *g.initializers.begin();
  EXPECT_TRUE(w.equals(again.initializers.at(name)));
  bool differs = false;
  for (const auto& [n, t] : g.initializers) differs |= !t.equals(other.initializers.at(n));
  EXPECT_TRUE(differs);
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooModel, ::testing::ValuesIn(kExpected),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Zoo, ListsEveryModelAndRejectsUnknownNames) {
  EXPECT_EQ(zoo_names().size(), std::size(kExpected));
  try {
    build_model("resnet1000");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resnet18"), std::string::npos);
  }
}

}  // namespace
}  // namespace fluidedge::zoo
