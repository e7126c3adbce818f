// A two-node Fluid cluster in which one node is the arm64 fluidedge-node under user-mode
// emulation (as a Raspberry Pi 4's core) and the other this build's: HT and HA answers equal the
// whole model's, and kill -9 of the arm64 node loses no request and answers none twice; it
// rejoins when it comes back. The cluster models are small, so emulation keeps up.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fluid_harness.h"
#include "graph/onnx_io.h"
#include "runtime/backends.h"
#include "runtime/session.h"

namespace fluidedge {
namespace {

using testing::NodeProcess;
using testing::start_node;

// The arm64 node as a Pi 4's core (NEON, no SVE) on `backend`.
NodeProcess arm64_node(const std::string& name, const std::string& backend) {
  return start_node(
      name, "127.0.0.1:0", {"--backend", backend},
      {FLUIDEDGE_QEMU_AARCH64, "-L", FLUIDEDGE_ARM64_SYSROOT, "-cpu", "cortex-a72", FLUIDEDGE_ARM64_NODE});
}

class Arm64Cluster : public ::testing::TestWithParam<std::string> {};

TEST_P(Arm64Cluster, HtAndHaAnswersEqualTheWholeModel) {
  NodeProcess host = start_node("dev1");
  NodeProcess arm = arm64_node("dev2", GetParam());
  runtime::register_lean_backends();
  auto whole = runtime::make_session("fast", graph::load_onnx((testing::model_dir("fluid") / "model.onnx").string()));
  for (std::string mode : {"ht", "ha"}) {
    cluster::Coordinator c(testing::make_config("fluid", mode, testing::model_dir("fluid"),
                                                {{&host, "part1.onnx"}, {&arm, "part2.onnx"}}));
    c.start();
    std::mt19937 rng(3);
    int from_arm = 0;
    for (int i = 0; i < 24; ++i) {
      auto image = testing::random_image(rng);
      cluster::Answer answer = c.submit({{"input", image}}).get();
      ASSERT_TRUE(answer.error.empty()) << answer.error;
      for (const auto& n : answer.nodes) from_arm += n == "dev2";
      auto expected = whole->run({{"input", image}});
      std::string output = mode == "ht" ? "logits_" + answer.produced_by : "combiner_1+2";
      if (mode == "ha") {
        EXPECT_EQ(answer.produced_by, "1+2");
      }
      const float* got = answer.prediction.data<float>();
      const float* want = expected.at(output).data<float>();
      for (int k = 0; k < 10; ++k) EXPECT_NEAR(got[k], want[k], 1e-4f * (1 + std::abs(want[k]))) << mode;
    }
    // One request at a time in HT goes to the faster node; the window below makes the arm64
    // node take its share.
    if (mode == "ht") {
      auto answers = testing::stream(c, 64);
      testing::expect_each_answered_once(answers, 64);
      for (const auto& a : answers)
        for (const auto& n : a.nodes) from_arm += n == "dev2";
    }
    EXPECT_GT(from_arm, 0) << "the arm64 node answered nothing in " << mode;
  }
}

TEST_P(Arm64Cluster, KillNineOfTheArm64NodeLosesNothingAndItRejoins) {
  for (std::string mode : {"ht", "ha"}) {
    SCOPED_TRACE(mode);
    NodeProcess host = start_node("dev1");
    NodeProcess arm = arm64_node("dev2", GetParam());
    cluster::Coordinator c(testing::make_config("fluid", mode, testing::model_dir("fluid"),
                                                {{&host, "part1.onnx"}, {&arm, "part2.onnx"}}));
    c.start();
    const int total = 300;
    auto answers = testing::stream(c, total, [&](int answered) {
      if (answered == 80) arm.kill();
      if (answered == 160) {
        arm.restart();
        EXPECT_TRUE(testing::wait_ready(c, "dev2", 30000)) << "the arm64 node did not rejoin";
      }
    });
    testing::expect_each_answered_once(answers, total);
    auto seen = testing::downs_and_returns(c.events(), "dev2");
    EXPECT_EQ(seen.downs, 1);
    EXPECT_EQ(seen.returns, 1);
    int from_arm = 0;
    for (size_t i = answers.size() - 100; i < answers.size(); ++i)
      for (const auto& n : answers[i].nodes) from_arm += n == "dev2";
    EXPECT_GT(from_arm, 0) << "no answer from the arm64 node after it rejoined";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Arm64Cluster, ::testing::Values("xnnpack", "fast"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fluidedge
