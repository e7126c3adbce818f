// How fast a node pretends to be, without gRPC: a declared device's time, a slowdown linear in
// the rows between the calibrated points, and the wait that makes a batch take that long.
#include "cluster/speed_emulator.h"

#include <gtest/gtest.h>

namespace fluidedge::cluster {
namespace {

using Clock = SpeedEmulator::Clock;

TEST(SpeedEmulator, ADeclaredDeviceTakesItsOwnTime) {
  SpeedEmulator e(
      1.0, [](int64_t rows) { return 3.0 * static_cast<double>(rows); }, 8);
  EXPECT_TRUE(e.active());
  EXPECT_FALSE(e.needs_calibration());
  EXPECT_DOUBLE_EQ(e.emulated_ms(1), 3.0);
  EXPECT_DOUBLE_EQ(e.emulated_ms(5), 15.0);
}

TEST(SpeedEmulator, ASlowdownIsLinearInTheRowsBetweenTheCalibratedPoints) {
  SpeedEmulator e(4.0, {}, 5);
  EXPECT_TRUE(e.needs_calibration());
  e.calibrate(/*row_ms=*/1.0, /*full_ms=*/3.0);  // 0.5 ms per extra row
  EXPECT_DOUBLE_EQ(e.emulated_ms(1), 4.0);
  EXPECT_DOUBLE_EQ(e.emulated_ms(3), 4.0 * 2.0);
  EXPECT_DOUBLE_EQ(e.emulated_ms(5), 4.0 * 3.0);

  SpeedEmulator single(2.0, {}, 1);
  single.calibrate(1.5, 99);  // a part of max batch 1: the full batch is the row
  EXPECT_DOUBLE_EQ(single.emulated_ms(1), 3.0);
  EXPECT_DOUBLE_EQ(single.emulated_ms(2), 6.0);
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

TEST(SpeedEmulator, WaitsOutTheEmulatedTimeAndReportsOverruns) {
  SpeedEmulator e(
      1.0, [](int64_t) { return 30.0; }, 1);
  const auto start = Clock::now();
  EXPECT_FALSE(e.wait_out(start, 1, /*run_ms=*/5));
  EXPECT_GE(ms_since(start), 30.0) << "the batch takes the emulated device's time";
  EXPECT_TRUE(e.wait_out(Clock::now(), 1, /*run_ms=*/31)) << "a run longer than the device is an overrun";

  SpeedEmulator host(1.0, {}, 8);
  EXPECT_FALSE(host.active());
  EXPECT_FALSE(host.wait_out(Clock::now(), 8, 1e9)) << "this host's own speed: nothing to wait for, no overrun";
}

}  // namespace
}  // namespace fluidedge::cluster
