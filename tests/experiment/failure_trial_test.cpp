// The failure trial on two real Fluid nodes: the killed node is seen down, the stream recovers
// on the survivor, the restarted node rejoins and serves again, and nothing is lost or doubled.
#include "experiment/failure_trial.h"

#include <random>

#include <gtest/gtest.h>

#include "cluster/coordinator.h"
#include "fluid_harness.h"

namespace fluidedge {
namespace {

TEST(FailureTrial, DetectsRecoversAndRejoinsWithNothingLost) {
  auto a = testing::start_node("dev1"), b = testing::start_node("dev2");
  cluster::Coordinator c(
      testing::make_config("fluid", "ht", testing::model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
  c.start(10000);
  std::mt19937 rng(5);
  const graph::Tensor image = testing::random_image(rng);
  experiment::FailureTrialOptions o;
  o.before_kill = std::chrono::milliseconds(400);
  o.down = std::chrono::milliseconds(800);
  o.after_restart = std::chrono::milliseconds(2500);
  o.concurrency = 8;
  o.bin_ms = 50;
  auto t = experiment::run_failure_trial(
      c, b,
      [&](int64_t) {
        return runtime::TensorMap{{"input", image}};
      },
      o);
  EXPECT_EQ(t.killed, "dev2");
  EXPECT_GT(t.sent, 0);
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.duplicated, 0);
  EXPECT_EQ(t.failed, 0) << t.error;
  EXPECT_EQ(t.answered, t.sent);
  ASSERT_TRUE(t.detect_ms) << "the coordinator never saw dev2 go down";
  ASSERT_TRUE(t.recover_ms);
  EXPECT_GE(*t.recover_ms, 0);
  ASSERT_TRUE(t.rejoin_ms) << "dev2 did not rejoin";
  EXPECT_GT(t.served_by_it_after_rejoin, 0);
  // The timeline covers the stream, its marks in order.
  const auto& l = t.timeline;
  EXPECT_EQ(l.answered.size(), static_cast<size_t>((400 + 800 + 2500) / 50));
  int64_t in_bins = 0;
  for (size_t k = 0; k < l.answered.size(); ++k) {
    in_bins += l.answered[k];
    EXPECT_LE(l.with_killed_device[k], l.answered[k]);
  }
  EXPECT_LE(in_bins, t.answered);
  ASSERT_TRUE(l.killed_s && l.detected_s && l.restarted_s && l.rejoined_s);
  EXPECT_LE(*l.killed_s, *l.detected_s);
  EXPECT_LT(*l.detected_s, *l.restarted_s);
  EXPECT_LE(*l.restarted_s, *l.rejoined_s);
  EXPECT_TRUE(b.alive());
}

}  // namespace
}  // namespace fluidedge
