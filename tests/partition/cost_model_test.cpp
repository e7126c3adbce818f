// The cost model: device and link formulas, the composition of a plan's cost, and the
// constraints that make a plan infeasible (memory, link capacity, latency).
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "common/error.h"
#include "graph/cost.h"
#include "graph/shape_inference.h"
#include "partition/cost_model.h"
#include "partition/cut.h"
#include "quantize/post_training.h"
#include "zoo_models.h"

namespace fluidedge::partition {
namespace {

using graph::Graph;

const Graph& model(const std::string& name) { return testing::zoo_model(name); }

SystemDescription two_devices(const std::string& extra = "") {
  return parse_system(R"(
devices:
  - {name: a, peak_gflops: 10, memory_bandwidth_gbps: 4, active_power_w: 5, idle_power_w: 2}
  - {name: b, peak_gflops: 20, memory_bandwidth_gbps: 8, active_power_w: 8, idle_power_w: 1}
links:
  - {rate_mbps: 100, latency_ms: 0.5, overhead: 0.05, power_w: 0.4}
)" + extra,
                      "test.yaml");
}

// x[1,64,56,56] -> 3x3 conv to 64 channels with `groups` groups.
Graph conv_graph(int64_t groups) {
  Graph g;
  g.name = "conv";
  g.inputs = {"x"};
  g.values["x"] = {graph::DType::kFloat32, {1, 64, 56, 56}, true};
  g.set_initializer("w", graph::Tensor(graph::DType::kFloat32, {64, 64 / groups, 3, 3}));
  g.nodes.push_back(
      {"conv", "Conv", "", {"x", "w"}, {"y"}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", groups}}});
  g.values.try_emplace("y");
  g.outputs = {"y"};
  graph::infer_shapes(g);
  return g;
}

TEST(DeviceModel, GroupedConvCostsLessThanDense) {
  DeviceModel pi(two_devices().devices[0]);
  Graph dense = conv_graph(1), depthwise = conv_graph(64);
  double dense_ms = pi.node_ms(dense, dense.nodes[0]);
  double depthwise_ms = pi.node_ms(depthwise, depthwise.nodes[0]);
  EXPECT_EQ(graph::node_cost(dense, dense.nodes[0]).macs, 64 * graph::node_cost(depthwise, depthwise.nodes[0]).macs);
  // Dense: 2 * 115.6 M MACs at 10 GFLOP/s * 0.5 = 46.2 ms (compute-bound).
  EXPECT_NEAR(dense_ms, 2.0 * 64 * 64 * 9 * 56 * 56 / 5e6 + DeviceModel::kNodeOverheadMs, 1e-6);
  EXPECT_LT(depthwise_ms * 20, dense_ms);
  // Depthwise: 64x fewer MACs (0.72 ms of compute), which still beats moving its two
  // activations of 802,816 bytes at 4 GB/s (0.41 ms).
  EXPECT_NEAR(depthwise_ms, 2.0 * 64 * 9 * 56 * 56 / 5e6 + DeviceModel::kNodeOverheadMs, 1e-6);
  // On a board with a quarter of the bandwidth it is memory-bound instead.
  DeviceSpec narrow = two_devices().devices[0];
  narrow.memory_bandwidth_gbps = 1;
  EXPECT_NEAR(DeviceModel(narrow).node_ms(depthwise, depthwise.nodes[0]),
              (2 * 802816.0 + 64 * 9 * 4) / 1e6 + DeviceModel::kNodeOverheadMs, 1e-6);
}

TEST(DeviceModel, ElementwiseOpsCostTheirBytesAndLowerPrecisionHalvesThem) {
  Graph g;
  g.inputs = {"x"};
  g.values["x"] = {graph::DType::kFloat32, {1, 64, 56, 56}, true};
  g.nodes.push_back({"relu", "Relu", "", {"x"}, {"y"}, {}});
  g.values.try_emplace("y");
  g.outputs = {"y"};
  graph::infer_shapes(g);
  SystemDescription s = two_devices();
  DeviceModel full(s.devices[0]);
  EXPECT_NEAR(full.node_ms(g, g.nodes[0]), 2 * 802816.0 / 4e6 + DeviceModel::kNodeOverheadMs, 1e-9);
  s.devices[0].precision = Precision::kFp16;
  DeviceModel half(s.devices[0]);
  EXPECT_NEAR(half.node_ms(g, g.nodes[0]) - DeviceModel::kNodeOverheadMs,
              (full.node_ms(g, g.nodes[0]) - DeviceModel::kNodeOverheadMs) / 2, 1e-9);
}

TEST(DeviceModel, ProfiledDeviceUsesMeasuredTimesAndCountsMisses) {
  const Graph& g = model("paper_cnn");
  ASSERT_GE(g.nodes.size(), 3u);
  DeviceSpec spec;
  spec.name = "measured";
  spec.profile = DeviceProfile{};
  spec.profile->node_ms[g.nodes[0].name] = 2.5;
  spec.profile->node_ms[g.nodes[2].name] = 0.75;
  NodeLatencies lat = DeviceModel(spec).node_latencies(g);
  EXPECT_DOUBLE_EQ(lat.ms[0], 2.5);
  EXPECT_DOUBLE_EQ(lat.ms[1], 0.0);
  EXPECT_DOUBLE_EQ(lat.ms[2], 0.75);
  EXPECT_EQ(lat.missing_from_profile, static_cast<int>(g.nodes.size()) - 2);
  ASSERT_FALSE(lat.missing_names.empty());
  EXPECT_EQ(lat.missing_names[0], g.nodes[1].name);
}

// What a node emulating the device (`node --emulate`) waits for a batch: the whole graph's time,
// activations and MACs times the rows, weights and per-node overhead once.
TEST(DeviceModel, GraphTimeScalesWithTheRowsButReadsWeightsOnce) {
  DeviceSpec narrow = two_devices().devices[0];
  narrow.memory_bandwidth_gbps = 1;
  DeviceModel pi(narrow);
  Graph dense = conv_graph(1), depthwise = conv_graph(64);
  EXPECT_DOUBLE_EQ(pi.graph_ms(dense, 1), pi.node_ms(dense, dense.nodes[0]));
  // Compute-bound: four rows, four times the compute, one overhead.
  EXPECT_NEAR(pi.graph_ms(dense, 4), 4 * 2.0 * 64 * 64 * 9 * 56 * 56 / 5e6 + DeviceModel::kNodeOverheadMs, 1e-6);
  // Memory-bound: four rows' activations, the 64x9 weights once.
  EXPECT_NEAR(pi.graph_ms(depthwise, 4), (4 * 2 * 802816.0 + 64 * 9 * 4) / 1e6 + DeviceModel::kNodeOverheadMs, 1e-6);
  EXPECT_LT(pi.graph_ms(depthwise, 4), 4 * pi.graph_ms(depthwise, 1));
}

// An int8 device is given its stage quantized (QDQ); emulating it (node --emulate) costs that
// file, which must cost what the partitioner predicted from the float stage.
TEST(DeviceModel, AQuantizedStageCostsWhatItsFloatStageDoes) {
  DeviceSpec spec = two_devices().devices[0];
  spec.precision = Precision::kInt8;
  DeviceModel board(spec);
  for (const char* name : {"resnet18", "mobilenet_v2"}) {
    const Graph g = partitionable_graph(model(name));
    const Graph q = quantize::quantize_model(g, quantize::random_samples(g, 2, 1), {}).graph;
    int qdq = 0;
    for (const auto& n : q.nodes) qdq += n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear";
    ASSERT_GT(qdq, 0);
    EXPECT_NEAR(board.graph_ms(q, 1), board.graph_ms(g, 1), 0.03 * board.graph_ms(g, 1)) << name;
  }
}

TEST(DeviceModel, ProfiledGraphTimeScalesByTheProfilesBatch) {
  const Graph& g = model("paper_cnn");
  DeviceSpec spec;
  spec.name = "measured";
  spec.profile = DeviceProfile{};
  spec.profile->batch = 2;
  spec.profile->node_ms[g.nodes[0].name] = 2.5;
  spec.profile->node_ms[g.nodes[2].name] = 0.75;
  DeviceModel model(spec);
  EXPECT_DOUBLE_EQ(model.graph_ms(g, 2), 3.25);
  EXPECT_DOUBLE_EQ(model.graph_ms(g, 1), 1.625);
  EXPECT_DOUBLE_EQ(model.graph_ms(g, 6), 9.75);
}

TEST(LinkModel, TransferTimeAndEnergy) {
  LinkSpec spec;
  spec.rate_mbps = 100;
  spec.latency_ms = 0.5;
  spec.overhead = 0.05;
  spec.power_w = 0.4;
  LinkModel link(spec);
  // 1 MB: 8,388,608 bits * 1.05 over 100 Mbit/s = 88.08 ms.
  const int64_t mb = 1 << 20;
  EXPECT_NEAR(link.busy_ms(mb), 8388608 * 1.05 / 1e5, 1e-9);
  EXPECT_NEAR(link.transfer_ms(mb), 0.5 + 8388608 * 1.05 / 1e5, 1e-9);
  EXPECT_NEAR(link.energy_mj(mb), 0.4 * link.busy_ms(mb), 1e-9);
  EXPECT_NEAR(link.utilisation(mb, 10), 8388608 * 1.05 * 10 / 1e8, 1e-12);
  spec.power_w = 0;
  spec.energy_nj_per_bit = 2;
  EXPECT_NEAR(LinkModel(spec).energy_mj(mb), 8388608 * 1.05 * 2e-6, 1e-9);
}

TEST(PlanEvaluator, ComposesStagesLinksAndEnergy) {
  const Graph& g = model("squeezenet1_1");
  auto cuts = enumerate_cuts(g);
  SystemDescription s = two_devices();
  PlanEvaluator ev(g, cuts, s);
  const int n = ev.nodes();
  const int p = n / 2;
  PlanCost c = ev.evaluate({{p}, {0, 1}});
  ASSERT_TRUE(c.feasible) << c.infeasible_reason;

  // The prefix sums agree with the per-node models.
  double first = 0, second = 0;
  DeviceModel a(s.devices[0]), b(s.devices[1]);
  for (int i = 0; i < n; ++i) (i < p ? first : second) += (i < p ? a : b).node_ms(g, g.nodes[i]);
  EXPECT_NEAR(c.stage_ms[0], first, 1e-9);
  EXPECT_NEAR(c.stage_ms[1], second, 1e-9);
  ASSERT_EQ(c.link_bytes.size(), 1u);
  EXPECT_EQ(c.link_bytes[0], cuts[p - 1].bytes);  // fp32 transfer: the tensors as they are
  LinkModel link(s.links[0]);
  EXPECT_NEAR(c.link_ms[0], link.transfer_ms(c.link_bytes[0]), 1e-9);
  EXPECT_NEAR(c.period_ms, std::max({first, second, link.busy_ms(c.link_bytes[0])}), 1e-9);
  EXPECT_NEAR(c.throughput_fps, 1000.0 / c.period_ms, 1e-9);
  EXPECT_NEAR(c.latency_ms, first + second + c.link_ms[0], 1e-9);
  double energy =
      5 * first + 2 * (c.period_ms - first) + 8 * second + 1 * (c.period_ms - second) + link.energy_mj(c.link_bytes[0]);
  EXPECT_NEAR(c.energy_mj, energy, 1e-9);

  // One device: no link, the whole model's weights on it.
  PlanCost single = ev.evaluate({{}, {1}});
  EXPECT_TRUE(single.link_bytes.empty());
  EXPECT_NEAR(single.latency_ms, ev.stage_ms(1, 0, n), 1e-9);
  EXPECT_GT(single.memory_bytes[0], graph::graph_cost(g).weight_bytes);
  // Splitting divides the weights between the devices.
  EXPECT_LT(c.memory_bytes[0], single.memory_bytes[0]);
  EXPECT_LT(c.memory_bytes[1], single.memory_bytes[0]);
}

TEST(PlanEvaluator, TransferFormatScalesLinkBytes) {
  const Graph& g = model("resnet18");
  auto cuts = enumerate_cuts(g);
  SystemDescription s = two_devices();
  const int p = static_cast<int>(g.nodes.size()) / 3;
  PlanCost fp32 = PlanEvaluator(g, cuts, s, Precision::kFp32).evaluate({{p}, {0, 1}});
  PlanCost fp16 = PlanEvaluator(g, cuts, s, Precision::kFp16).evaluate({{p}, {0, 1}});
  PlanCost int8 = PlanEvaluator(g, cuts, s, Precision::kInt8).evaluate({{p}, {0, 1}});
  EXPECT_EQ(fp32.link_bytes[0], cuts[p - 1].bytes);
  EXPECT_EQ(fp16.link_bytes[0] * 2, fp32.link_bytes[0]);
  EXPECT_EQ(int8.link_bytes[0] * 4, fp32.link_bytes[0]);
  EXPECT_LT(int8.link_ms[0], fp32.link_ms[0]);
}

TEST(PlanEvaluator, LinkOverCapacityAtTargetFpsIsInfeasible) {
  const Graph& g = model("vgg16");
  auto cuts = enumerate_cuts(g);
  // Cut after the first conv: 64x224x224 floats = 12.8 MB per frame; at 10 fps that is over
  // 1 Gbit/s, let alone 100 Mbit/s.
  SystemDescription s = two_devices("constraints: {target_fps: 10}\n");
  PlanEvaluator ev(g, cuts, s);
  PlanCost early = ev.evaluate({{1}, {0, 1}});
  EXPECT_FALSE(early.feasible);
  EXPECT_GT(early.link_utilisation[0], 1.0);
  EXPECT_NE(early.infeasible_reason.find("link a->b"), std::string::npos) << early.infeasible_reason;
  // The same cut without a frame rate target is merely slow.
  PlanCost unconstrained = PlanEvaluator(g, cuts, two_devices()).evaluate({{1}, {0, 1}});
  EXPECT_TRUE(unconstrained.feasible);
  // Near the end the tensor is small enough.
  const int late = static_cast<int>(g.nodes.size()) - 2;
  EXPECT_TRUE(ev.evaluate({{late}, {0, 1}}).feasible);
}

TEST(PlanEvaluator, MemoryAndLatencyLimits) {
  const Graph& g = model("vgg16");  // ~528 MB of weights
  auto cuts = enumerate_cuts(g);
  SystemDescription s = two_devices("constraints: {max_memory_mb: 400, max_latency_ms: 100000}\n");
  PlanEvaluator ev(g, cuts, s);
  PlanCost single = ev.evaluate({{}, {0}});
  EXPECT_FALSE(single.feasible);
  EXPECT_NE(single.infeasible_reason.find("device 'a' needs"), std::string::npos) << single.infeasible_reason;
  EXPECT_NE(single.infeasible_reason.find("400 MB limit"), std::string::npos) << single.infeasible_reason;

  s.constraints.max_memory_mb.clear();
  s.constraints.max_latency_ms = 1.0;
  PlanCost slow = PlanEvaluator(g, cuts, s).evaluate({{}, {0}});
  EXPECT_FALSE(slow.feasible);
  EXPECT_NE(slow.infeasible_reason.find("over the 1 ms bound"), std::string::npos) << slow.infeasible_reason;
}

TEST(PlanEvaluator, InvalidPlansAreErrors) {
  const Graph& g = model("paper_cnn");
  auto cuts = enumerate_cuts(g);
  SystemDescription s = two_devices();
  PlanEvaluator ev(g, cuts, s);
  EXPECT_THROW(ev.evaluate({{2}, {0}}), Error);        // two stages, one device
  EXPECT_THROW(ev.evaluate({{2}, {0, 0}}), Error);     // one device twice
  EXPECT_THROW(ev.evaluate({{0}, {0, 1}}), Error);     // not a cut
  EXPECT_THROW(ev.evaluate({{3, 2}, {0, 1}}), Error);  // wrong sizes and order
  EXPECT_NO_THROW(ev.evaluate({{2}, {1, 0}}));         // the reversed chain, links being bidirectional
  s.links[0].bidirectional = false;
  EXPECT_THROW(PlanEvaluator(g, cuts, s).evaluate({{2}, {1, 0}}), Error);
}

}  // namespace
}  // namespace fluidedge::partition
