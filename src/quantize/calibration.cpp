#include "quantize/calibration.h"

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "runtime/fast/fast_session.h"

namespace fluidedge::quantize {

namespace {

// Values kept per tensor for the percentile method: a strided sample of each batch, enough for
// the 0.01 % tails to hold a few hundred values.
constexpr size_t kSamplesPerTensor = size_t{1} << 22;

constexpr double kPercentile = 99.99;

struct Observed {
  float lo = std::numeric_limits<float>::infinity(), hi = -std::numeric_limits<float>::infinity();
  std::vector<float> sample;
};

}  // namespace

CalibrationMethod calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::kMinMax;
  if (name == "percentile") return CalibrationMethod::kPercentile;
  fail("calibration method '{}': expected minmax or percentile", name);
}

std::string calibration_method_name(CalibrationMethod method) {
  return method == CalibrationMethod::kMinMax ? "minmax" : "percentile";
}

std::map<std::string, TensorRange> calibrate(const graph::Graph& graph, const std::vector<std::string>& tensors,
                                             const std::vector<runtime::TensorMap>& batches, CalibrationMethod method,
                                             const std::function<void(int64_t, int64_t)>& on_batch,
                                             int64_t observed_bytes_per_run) {
  if (batches.empty()) fail("calibration needs at least one batch of inputs");
  // The float model with every observed tensor an output.
  graph::Graph observed = graph;
  for (const auto& t : tensors) {
    if (!observed.has_value(t)) fail("calibration: '{}' is no value of the model", t);
    if (std::find(observed.outputs.begin(), observed.outputs.end(), t) == observed.outputs.end() &&
        !observed.is_initializer(t))
      observed.outputs.push_back(t);
  }
  runtime::fast::FastSession session(observed, {});
  std::map<std::string, Observed> seen;
  int64_t total_values = 0;
  for (const auto& b : batches) total_values += b.begin()->second.dim(0);
  auto observe = [&](const runtime::TensorMap& rows) {
    runtime::TensorMap out = session.run(rows);
    int64_t bytes = 0;
    for (const auto& t : tensors) {
      const graph::Tensor& v = observed.is_initializer(t) ? *observed.initializer(t) : out.at(t);
      if (v.dtype() != graph::DType::kFloat32) fail("calibration: '{}' is {}, not float32", t, dtype_name(v.dtype()));
      bytes += static_cast<int64_t>(v.nbytes());
      Observed& o = seen[t];
      const float* values = v.data<float>();
      const auto count = static_cast<size_t>(v.numel());
      for (size_t i = 0; i < count; ++i) {
        o.lo = std::min(o.lo, values[i]);
        o.hi = std::max(o.hi, values[i]);
      }
      if (method == CalibrationMethod::kPercentile) {
        // These rows' share of the sample, evenly strided.
        size_t share = std::max<size_t>(1, kSamplesPerTensor * static_cast<size_t>(v.rank() ? v.dim(0) : 1) /
                                               static_cast<size_t>(std::max<int64_t>(total_values, 1)));
        size_t stride = std::max<size_t>(1, count / share);
        for (size_t i = 0; i < count; i += stride) o.sample.push_back(values[i]);
      }
    }
    return bytes;
  };
  int64_t rows_per_run = 0;  // known after the first run of one row
  for (size_t k = 0; k < batches.size(); ++k) {
    const int64_t rows = batches[k].begin()->second.dim(0);
    for (int64_t begin = 0; begin < rows;) {
      const int64_t n = rows_per_run ? std::min(rows_per_run, rows - begin) : 1;
      runtime::TensorMap part;
      for (const auto& [name, t] : batches[k]) part[name] = n == rows ? t : t.rows(begin, n);
      const int64_t bytes = observe(part);
      if (!rows_per_run) rows_per_run = std::max<int64_t>(1, observed_bytes_per_run / std::max<int64_t>(bytes, 1));
      begin += n;
    }
    if (on_batch) on_batch(static_cast<int64_t>(k) + 1, static_cast<int64_t>(batches.size()));
  }
  std::map<std::string, TensorRange> ranges;
  for (auto& [t, o] : seen) {
    TensorRange r{o.lo, o.hi};
    if (method == CalibrationMethod::kPercentile && o.sample.size() > 1) {
      auto at = [&](double q) {
        auto k = static_cast<size_t>(q / 100.0 * static_cast<double>(o.sample.size() - 1));
        std::nth_element(o.sample.begin(), o.sample.begin() + static_cast<long>(k), o.sample.end());
        return o.sample[k];
      };
      r = {at(100.0 - kPercentile), at(kPercentile)};
    }
    ranges[t] = r;
  }
  return ranges;
}

}  // namespace fluidedge::quantize
