// Calibration: the ranges are the float model's extremes over the whole calibration set,
// whichever way its rows are grouped into runs (a large model is observed a few rows at a
// time), and the percentile method's are the exact percentiles of all the values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "quantize/calibration.h"
#include "quantize/qdq_writer.h"
#include "quantize/samples.h"
#include "runtime/fast/fast_session.h"
#include "zoo_models.h"

namespace fluidedge::quantize {
namespace {

TEST(Calibration, RangesDoNotDependOnHowRowsAreGroupedIntoRuns) {
  const graph::Graph g = prepare_for_quantization(testing::zoo_model("paper_cnn"));
  const std::vector<std::string> tensors = quantized_activations(g);
  ASSERT_GT(tensors.size(), 3u);
  AccuracySamples samples = random_samples(g, 10, 7);
  std::vector<runtime::TensorMap> batches(2);
  for (const auto& [name, t] : samples.inputs) {
    batches[0][name] = t.rows(0, 6);
    batches[1][name] = t.rows(6, 4);
  }

  // What the ranges must be: every tensor of all ten rows, observed at once.
  graph::Graph observed = g;
  for (const auto& t : tensors)
    if (std::find(observed.outputs.begin(), observed.outputs.end(), t) == observed.outputs.end() &&
        !observed.is_initializer(t))
      observed.outputs.push_back(t);
  runtime::fast::FastSession session(observed, {});
  runtime::TensorMap all = session.run(samples.inputs);

  int64_t progress_calls = 0;
  auto by_batch =
      calibrate(g, tensors, batches, CalibrationMethod::kMinMax, [&](int64_t, int64_t) { ++progress_calls; });
  auto by_row = calibrate(g, tensors, batches, CalibrationMethod::kMinMax, {}, 1);  // one row per run
  auto percentile = calibrate(g, tensors, batches, CalibrationMethod::kPercentile, {}, 1);
  EXPECT_EQ(progress_calls, 2) << "one call per batch, however it is split into runs";
  for (const auto& t : tensors) {
    const graph::Tensor& v = observed.is_initializer(t) ? *observed.initializer(t) : all.at(t);
    std::vector<float> values(v.data<float>(), v.data<float>() + v.numel());
    const float lo = *std::min_element(values.begin(), values.end());
    const float hi = *std::max_element(values.begin(), values.end());
    const float tolerance = 1e-5f * (1 + std::max(std::abs(lo), std::abs(hi)));
    for (const auto* ranges : {&by_batch, &by_row}) {
      ASSERT_TRUE(ranges->count(t)) << t;
      EXPECT_NEAR(ranges->at(t).lo, lo, tolerance) << t;
      EXPECT_NEAR(ranges->at(t).hi, hi, tolerance) << t;
    }
    // Percentiles are exact: the values at ranks 0.01 % and 99.99 % of all of them.
    std::sort(values.begin(), values.end());
    const double last = static_cast<double>(values.size() - 1);
    EXPECT_NEAR(percentile.at(t).lo, values[static_cast<size_t>(0.0001 * last)], tolerance) << t;
    EXPECT_NEAR(percentile.at(t).hi, values[static_cast<size_t>(0.9999 * last)], tolerance) << t;
  }
}

}  // namespace
}  // namespace fluidedge::quantize
