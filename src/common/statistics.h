// Summary statistics of measured samples, shared by every command that reports latencies.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace fluidedge {

// The q-quantile (q in [0, 1]) by nearest rank; 0 for no samples.
inline double percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(i, samples.size() - 1)];
}

// Calls `run` until `seconds` have passed and it ran at least `min_runs` times; appends each
// call's time in ms to `ms`.
template <typename F>
void time_repeated(F&& run, double seconds, std::vector<double>& ms, size_t min_runs = 1) {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  for (size_t runs = 0; runs < min_runs || std::chrono::duration<double>(clock::now() - start).count() < seconds;
       ++runs) {
    auto t0 = clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
}

}  // namespace fluidedge
