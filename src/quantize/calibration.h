// Calibration: the range of each activation a quantized model will hold in 8 bits, observed by
// running the float model (fast backend) on representative inputs. Two methods: the observed
// minimum and maximum, and percentiles (0.01 % and 99.99 %) of the observed values, which
// ignore the rare outliers that would otherwise widen the step of every other value.
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

// The ranges of `tensors` (values of `graph`) over every batch of `batches`. `on_batch(done,
// total)`, if given, is called after each batch.
std::map<std::string, TensorRange> calibrate(const graph::Graph& graph, const std::vector<std::string>& tensors,
                                             const std::vector<runtime::TensorMap>& batches, CalibrationMethod method,
                                             const std::function<void(int64_t, int64_t)>& on_batch = {});

}  // namespace fluidedge::quantize
