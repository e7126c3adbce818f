#include "cluster/speed_emulator.h"

#include <algorithm>
#include <thread>

namespace fluidedge::cluster {

SpeedEmulator::SpeedEmulator(double slowdown, std::function<double(int64_t rows)> device_ms, int max_batch)
    : slowdown_(slowdown), device_ms_(std::move(device_ms)), max_batch_(std::max(1, max_batch)) {}

void SpeedEmulator::calibrate(double row_ms, double full_ms) {
  row_ms_ = row_ms;
  full_ms_ = max_batch_ == 1 ? row_ms : full_ms;
}

double SpeedEmulator::emulated_ms(int64_t rows) const {
  if (device_ms_) return device_ms_(rows);
  const double per_extra_row = max_batch_ > 1 ? (full_ms_ - row_ms_) / (max_batch_ - 1) : row_ms_;
  return slowdown_ * (row_ms_ + std::max(0.0, per_extra_row) * static_cast<double>(rows - 1));
}

bool SpeedEmulator::wait_out(Clock::time_point start, int64_t rows, double run_ms) const {
  if (!active()) return false;
  const double ms = emulated_ms(rows);
  std::this_thread::sleep_until(
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms)));
  return run_ms > ms;
}

}  // namespace fluidedge::cluster
