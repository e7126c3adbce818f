// How fast a device node pretends to be: a declared device (`--emulate`: that device's time for
// a batch of a part) or a CPU `--slowdown` times slower than this core at its best (timed per part
// at deploy, linear in the rows between one row and a full micro-batch). The node runs each batch
// on its own CPU and waits out the rest, so the cluster sees the emulated device's speed whatever
// this host is doing; a run that alone takes longer is an overrun. No gRPC: tested alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace fluidedge::cluster {

class SpeedEmulator {
 public:
  using Clock = std::chrono::steady_clock;
  // `device_ms`: the declared device's time for a batch of rows (empty: none); `slowdown` >= 1
  // (1 and no device: this host's own speed, nothing emulated). `max_batch`: the part's limit.
  SpeedEmulator(double slowdown, std::function<double(int64_t rows)> device_ms, int max_batch);

  // Whether it changes anything, and whether it needs this core's times (calibrate()).
  bool active() const { return slowdown_ > 1.0 || static_cast<bool>(device_ms_); }
  bool needs_calibration() const { return slowdown_ > 1.0 && !device_ms_; }
  // This core's best CPU time for one row and for a full micro-batch of the part.
  void calibrate(double row_ms, double full_ms);

  // The emulated device's time for a batch of `rows`.
  double emulated_ms(int64_t rows) const;
  // After a batch of `rows` that started at `start` and whose run took `run_ms`: waits until the
  // emulated device would have finished it. Returns whether the run alone took longer (an overrun).
  bool wait_out(Clock::time_point start, int64_t rows, double run_ms) const;

 private:
  double slowdown_;
  std::function<double(int64_t)> device_ms_;
  int max_batch_;
  double row_ms_ = 0, full_ms_ = 0;
};

}  // namespace fluidedge::cluster
