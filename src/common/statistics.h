// Summary statistics of measured samples, shared by every command that reports latencies.
#pragma once

#include <algorithm>
#include <vector>

namespace fluidedge {

// The q-quantile (q in [0, 1]) by nearest rank; 0 for no samples.
inline double percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(i, samples.size() - 1)];
}

}  // namespace fluidedge
