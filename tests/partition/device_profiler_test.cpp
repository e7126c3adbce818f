// Device profiles measured with the fast backend: every node of the model is named (folded and
// fused ones at 0 ms, saying where their work went), the file loads with load_device_profile,
// and the partitioner costs a profiled device without missing nodes; in int8 as in fp32.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "partition/cut.h"
#include "partition/device_profiler.h"
#include "partition/search.h"
#include "runtime/fast/fast_session.h"
#include "runtime/xnnpack/xnnpack_session.h"
#include "zoo_models.h"

namespace fluidedge::partition {
namespace {

namespace fs = std::filesystem;

class DeviceProfiler : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { runtime::fast::register_fast_backend(); }
};

TEST_F(DeviceProfiler, NamesEveryNodeAndAttributesFusedWork) {
  const graph::Graph& model = testing::zoo_model("resnet18");
  ProfileOptions o;
  o.device = "here";
  o.repeats = 3;
  MeasuredProfile m = measure_device_profile(model, o);
  ASSERT_EQ(m.nodes.size(), model.nodes.size());
  int folded = 0, fused = 0, timed = 0;
  double sum = 0;
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const ProfiledNode& p = m.nodes[i];
    EXPECT_EQ(p.name, model.nodes[i].name);
    EXPECT_GE(p.ms, 0);
    sum += p.ms;
    if (p.folded) {
      ++folded;
      EXPECT_EQ(p.ms, 0);
      // ResNet's batch norms are folded into their convolutions.
      EXPECT_EQ(p.op_type, "BatchNormalization") << p.name;
    } else if (!p.fused_into.empty()) {
      ++fused;
      EXPECT_EQ(p.ms, 0);
    } else {
      ++timed;
      if (p.op_type == "Conv") {
        EXPECT_GT(p.ms, 0) << p.name;
      }
    }
  }
  EXPECT_EQ(folded, 20);  // one batch norm per convolution
  EXPECT_GT(fused, 0);    // ReLUs and residual adds ride on convolutions
  EXPECT_EQ(
      timed, m.steps - [&] {
        int reorders = 0;
        for (const auto& p : m.nodes) reorders += p.reorders;
        return reorders;
      }());
  EXPECT_NEAR(m.total_ms, sum, 1e-9);
  EXPECT_GT(m.run_ms, 0);
}

TEST_F(DeviceProfiler, WrittenProfileLoadsAndCostsAPartition) {
  const graph::Graph& model = testing::zoo_model("squeezenet1_1");
  ProfileOptions o;
  o.device = "measured";
  o.repeats = 3;
  o.scale = 2.5;
  MeasuredProfile m = measure_device_profile(model, o);
  fs::path dir = fs::temp_directory_path() / ("fluidedge_profile_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "measured.json") << m.json();

  DeviceProfile loaded = load_device_profile(dir / "measured.json");
  EXPECT_EQ(loaded.device, "measured");
  EXPECT_EQ(loaded.node_ms.size(), model.nodes.size());
  EXPECT_NEAR(loaded.total_ms, m.total_ms, 1e-9 * m.total_ms);
  for (const auto& n : m.nodes) EXPECT_DOUBLE_EQ(loaded.node_ms.at(n.name), n.ms) << n.name;

  std::ofstream(dir / "system.yaml") << R"(
devices:
  - {name: measured, profile: measured.json}
  - {name: board, peak_gflops: 13.5, memory_bandwidth_gbps: 4}
links:
  - {rate_mbps: 1000, latency_ms: 0.1}
)";
  SystemDescription system = load_system(dir / "system.yaml");
  const graph::Graph g = partitionable_graph(model);
  SearchResult r = search_plans(g, system);
  ASSERT_FALSE(r.front.empty());
  EXPECT_EQ(r.missing_profile_nodes[0], 0);
  // The profiled device alone costs exactly the profile's total (every node is named once).
  PlanCost alone = evaluate(g, enumerate_cuts(g), {}, {0}, system);
  EXPECT_NEAR(alone.stage_ms[0], m.total_ms, 1e-6 * m.total_ms);
  fs::remove_all(dir);
}

TEST_F(DeviceProfiler, RejectsNonsenseOptions) {
  ProfileOptions o;
  o.repeats = 0;
  EXPECT_THROW(measure_device_profile(testing::zoo_model("lenet5"), o), Error);
}

// An int8 profile times the quantized model and keys it by the float model's names, as the
// partitioner cuts the float model: every node named, every convolution timed, the
// QuantizeLinear/DequantizeLinear steps charged to the nodes whose activations they convert
// (nothing is lost: the node times add up to the steps'), and the file says int8.
TEST_F(DeviceProfiler, Int8ProfileTimesTheQuantizedModelUnderTheFloatNames) {
  const graph::Graph& model = testing::zoo_model("resnet18");
  ProfileOptions o;
  o.device = "int8-board";
  o.repeats = 3;
  o.precision = Precision::kInt8;
  // XNNPACK's int8 kernels (the Arm boards' backend) are profiled the same way.
  runtime::xnnpack::register_xnnpack_backend();
  o.backend = "xnnpack";
  MeasuredProfile on_xnnpack = measure_device_profile(model, o);
  ASSERT_EQ(on_xnnpack.nodes.size(), model.nodes.size());
  for (const auto& n : on_xnnpack.nodes) {
    if (n.op_type == "Conv") {
      EXPECT_GT(n.ms, 0) << n.name;
    }
  }
  o.backend = "fast";
  MeasuredProfile m = measure_device_profile(model, o);
  ASSERT_EQ(m.nodes.size(), model.nodes.size());
  double sum = 0;
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    EXPECT_EQ(m.nodes[i].name, model.nodes[i].name);
    if (m.nodes[i].op_type == "Conv") {
      EXPECT_GT(m.nodes[i].ms, 0) << m.nodes[i].name;
    }
    sum += m.nodes[i].ms;
  }
  EXPECT_NEAR(m.total_ms, sum, 1e-9);
  // The graph input's QuantizeLinear is charged to the node that reads the input.
  EXPECT_GT(m.nodes[0].ms, 0);
  EXPECT_EQ(m.profile().precision, Precision::kInt8);

  fs::path dir = fs::temp_directory_path() / ("fluidedge_int8_profile_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "int8.json") << m.json();
  DeviceProfile loaded = load_device_profile(dir / "int8.json");
  EXPECT_EQ(loaded.precision, Precision::kInt8);
  EXPECT_EQ(loaded.node_ms.size(), model.nodes.size());
  // It costs a device that computes in int8, and only such a device.
  std::ofstream(dir / "int8.yaml") << "devices:\n  - {name: board, profile: int8.json, precision: int8}\n";
  std::ofstream(dir / "fp32.yaml") << "devices:\n  - {name: board, profile: int8.json}\n";
  SystemDescription system = load_system(dir / "int8.yaml");
  const graph::Graph g = partitionable_graph(model);
  PlanCost alone = evaluate(g, enumerate_cuts(g), {}, {0}, system);
  EXPECT_NEAR(alone.stage_ms[0], m.total_ms, 1e-6 * m.total_ms);
  try {
    load_system(dir / "fp32.yaml");
    ADD_FAILURE() << "an int8 profile costed an fp32 device";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("precision fp32"), std::string::npos) << msg;
    EXPECT_NE(msg.find("measured in int8"), std::string::npos) << msg;
  }
  fs::remove_all(dir);
}

TEST_F(DeviceProfiler, Fp16IsRefusedNamingWhy) {
  ProfileOptions o;
  o.repeats = 1;
  o.precision = Precision::kFp16;
  try {
    measure_device_profile(testing::zoo_model("lenet5"), o);
    ADD_FAILURE() << "fp16 profiled";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp16"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fluidedge::partition
