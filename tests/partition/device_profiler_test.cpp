// Device profiles measured with the fast backend: every node of the model is named (folded and
// fused ones at 0 ms, saying where their work went), the file loads with load_device_profile,
// and the partitioner costs a profiled device without missing nodes.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "partition/cut.h"
#include "partition/device_profiler.h"
#include "partition/search.h"
#include "runtime/fast/fast_session.h"
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

}  // namespace
}  // namespace fluidedge::partition
