// Calibration: the range of each activation a quantized model will hold in 8 bits, observed by
// running the float model (fast backend) on representative inputs. Two methods: the observed
// minimum and maximum, and percentiles (0.01 % and 99.99 %) of the observed values, which
// ignore the rare outliers that would otherwise widen the step of every other value (exact: of
// every value seen, computed in memory of 0.02 % of them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/session.h"

namespace fluidedge::quantize {

enum class CalibrationMethod { kMinMax, kPercentile };
// "minmax", "percentile"; an unknown name is an error naming the choices.
CalibrationMethod calibration_method(const std::string& name);
std::string calibration_method_name(CalibrationMethod method);

struct TensorRange {
  float lo = 0, hi = 0;
};

// Observed values one run of the float model may hold. Every observed tensor is an output of
// that run, so a batch of a large model (EfficientNet-B0: ~100 MB of activations per image) is
// observed a few rows at a time: its first row alone, then as many rows as this allows.
constexpr int64_t kObservedBytesPerRun = int64_t{256} << 20;

// The ranges of `tensors` (values of `graph`) over every batch of `batches`; they do not depend
// on how the rows are grouped into runs. `on_batch(done, total)`, if given, is called after each
// batch.
std::map<std::string, TensorRange> calibrate(const graph::Graph& graph, const std::vector<std::string>& tensors,
                                             const std::vector<runtime::TensorMap>& batches, CalibrationMethod method,
                                             const std::function<void(int64_t, int64_t)>& on_batch = {},
                                             int64_t observed_bytes_per_run = kObservedBytesPerRun);

}  // namespace fluidedge::quantize
