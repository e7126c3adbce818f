// A terminal progress bar for long work (training epochs, profiling, benchmarks). Drawn on
// stderr only when stderr is a terminal, so logs and --json output stay clean in pipes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fluidedge {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Advances by `steps` and redraws at most every 100 ms; `status` is shown after the bar.
  void advance(int64_t steps = 1, const std::string& status = {});
  // Draws the final state and ends the line.
  void finish(const std::string& status = {});

  static bool enabled();

 private:
  void draw(const std::string& status);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace fluidedge
