// Calibration: the ranges are the float model's extremes over the whole calibration set,
// whichever way its rows are grouped into runs (a large model is observed a few rows at a
// time), and the percentile method's are the exact percentiles of all the values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "graph/shape_inference.h"
#include "qdq_graphs.h"
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
    if (!observed.is_output(t) && !observed.is_initializer(t)) observed.outputs.push_back(t);
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

// A tensor whose batch is not its first dimension (a Transpose moves it) is observed whole: the
// percentile heaps are sized by the values per input row, not per row of dimension 0.
TEST(Calibration, ATensorWithItsBatchElsewhereIsObservedWhole) {
  graph::Graph g;
  g.inputs = {"input"};
  // Enough values (4 x 2048 per row) for the 0.01 % ranks to be far from the ends.
  g.values["input"] = graph::ValueInfo{graph::DType::kFloat32, {1, 4, 2048}, true};
  std::vector<float> w(2048 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(i % 7) - 0.03f;
  g.set_initializer("w", graph::Tensor::from_vector<float>({2048, 3}, w));
  using testing::qdq_graph_parts::add_node;
  add_node(g, "Transpose", {"input"}, "t", {{"perm", std::vector<int64_t>{1, 0, 2}}});  // [4, N, 2048]
  add_node(g, "MatMul", {"t", "w"}, "output");                                          // [4, N, 3]
  g.outputs = {"output"};
  graph::infer_shapes(g);

  AccuracySamples samples = random_samples(g, 10, 3);
  std::vector<runtime::TensorMap> batches{samples.inputs};
  runtime::fast::FastSession session(g, {});
  auto sorted = [](const graph::Tensor& t) {
    std::vector<float> v(t.data<float>(), t.data<float>() + t.numel());
    std::sort(v.begin(), v.end());
    return v;
  };
  // The transposed input holds the inputs' values: their percentiles are those of "t".
  const std::vector<float> t = sorted(samples.inputs.at("input"));
  const std::vector<float> y = sorted(session.run(samples.inputs).at("output"));
  auto at = [](const std::vector<float>& v, double q) { return v[static_cast<size_t>(q * (v.size() - 1))]; };

  for (int64_t bytes_per_run : {int64_t{1}, kObservedBytesPerRun}) {
    auto ranges = calibrate(g, {"t", "output"}, batches, CalibrationMethod::kPercentile, {}, bytes_per_run);
    EXPECT_EQ(ranges.at("t").lo, at(t, 0.0001)) << bytes_per_run;
    EXPECT_EQ(ranges.at("t").hi, at(t, 0.9999)) << bytes_per_run;
    EXPECT_NEAR(ranges.at("output").lo, at(y, 0.0001), 1e-4f) << bytes_per_run;
    EXPECT_NEAR(ranges.at("output").hi, at(y, 0.9999), 1e-4f) << bytes_per_run;
  }
}

}  // namespace
}  // namespace fluidedge::quantize
