#include "partition/plan_accuracy.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "graph/shape_inference.h"

namespace fluidedge::partition {

PlanAccuracyEvaluator::PlanAccuracyEvaluator(const graph::Graph& graph, AccuracySamples samples,
                                             AccuracySamples calibration, int64_t chunk)
    : samples_(std::move(samples)), runner_(graph) {
  if (graph.outputs.empty()) fail("model '{}' has no outputs", graph.name);
  output_ = graph.outputs[0];
  const int64_t n = samples_.size();
  if (n < 1) fail("the accuracy estimate needs at least one sample");
  const AccuracySamples& cal = calibration.inputs.empty() ? samples_ : calibration;
  const int64_t calibrated = std::min(cal.size(), kCalibrationSamples);
  runtime::TensorMap cal_inputs;
  for (const auto& [name, t] : cal.inputs) cal_inputs[name] = t.rows(0, calibrated);
  runner_.set_calibration(std::move(cal_inputs));
  calibration_description_ = fmt::format("{} of {}", calibrated, cal.description);
  chunk = std::max<int64_t>(1, chunk);
  for (int64_t begin = 0; begin < n; begin += chunk) {
    runtime::TensorMap c;
    for (const auto& [name, t] : samples_.inputs) c[name] = t.rows(begin, std::min(chunk, n - begin));
    float_outputs_.push_back(runner_.run({}, c).at(output_));
    chunks_.push_back(std::move(c));
  }
}

std::vector<Precision> stage_precisions(const PipelinePlan& plan, const SystemDescription& system) {
  std::vector<Precision> p;
  for (int d : plan.devices) p.push_back(system.devices.at(static_cast<size_t>(d)).precision);
  return p;
}

bool has_reduced_precision(const SystemDescription& system) {
  return std::any_of(system.devices.begin(), system.devices.end(),
                     [](const DeviceSpec& d) { return d.precision != Precision::kFp32; });
}

PlanAccuracy PlanAccuracyEvaluator::evaluate(const PipelinePlan& plan, const SystemDescription& system,
                                             Precision transfer) {
  return evaluate(plan.positions, transfer, stage_precisions(plan, system));
}

PlanAccuracy PlanAccuracyEvaluator::evaluate(const std::vector<int>& positions, Precision transfer,
                                             const std::vector<Precision>& given) {
  // All fp32 is spelled one way, so that equal plans share a cache entry.
  std::vector<Precision> precisions = given;
  if (std::all_of(precisions.begin(), precisions.end(), [](Precision p) { return p == Precision::kFp32; }))
    precisions.clear();
  if (!precisions.empty() && precisions.size() != positions.size() + 1)
    fail("{} stage precisions for a plan of {} stages", precisions.size(), positions.size() + 1);
  auto key = std::make_tuple(positions, transfer, precisions);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  PlanAccuracy r;
  r.transfer = transfer;
  r.precisions = precisions;
  r.samples = samples_.size();
  int64_t agree = 0, correct = 0, float_correct = 0, row = 0;
  double diff = 0, norm = 0;
  const int64_t* labels = samples_.labels ? samples_.labels->data<int64_t>() : nullptr;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    graph::Tensor got = positions.empty() && precisions.empty()
                            ? float_outputs_[c]
                            : runner_.run(positions, chunks_[c], transfer, precisions).at(output_);
    std::vector<int64_t> a = top1(got), b = top1(float_outputs_[c]);
    std::vector<float> x = got.to_float(), y = float_outputs_[c].to_float();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      diff += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
      norm += static_cast<double>(y[i]) * y[i];
    }
    for (size_t i = 0; i < a.size(); ++i, ++row) {
      agree += a[i] == b[i];
      if (labels) {
        correct += a[i] == labels[row];
        float_correct += b[i] == labels[row];
      }
    }
  }
  r.agreement = static_cast<double>(agree) / static_cast<double>(r.samples);
  if (labels) {
    r.accuracy = static_cast<double>(correct) / static_cast<double>(r.samples);
    r.float_accuracy = static_cast<double>(float_correct) / static_cast<double>(r.samples);
  }
  r.output_relative_error = norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
  cache_.emplace(key, r);
  return r;
}

AccuracyFiltered filter_by_accuracy(const std::vector<PlanCost>& front, PlanAccuracyEvaluator& evaluator,
                                    const SystemDescription& system, Precision transfer, double min_accuracy,
                                    const std::function<void(int64_t, int64_t)>& on_scored) {
  AccuracyFiltered f;
  for (const auto& plan : front) {
    PlanAccuracy a = evaluator.evaluate(plan.plan, system, transfer);
    if (on_scored)
      on_scored(static_cast<int64_t>(f.kept.size() + f.dropped.size()) + 1, static_cast<int64_t>(front.size()));
    if (a.score() + 1e-12 >= min_accuracy) {
      f.kept.push_back(plan);
      f.kept_accuracy.push_back(a);
    } else {
      f.dropped.push_back(plan);
      f.dropped_accuracy.push_back(a);
    }
  }
  return f;
}

}  // namespace fluidedge::partition
