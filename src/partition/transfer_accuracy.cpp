#include "partition/transfer_accuracy.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "graph/shape_inference.h"

namespace fluidedge::partition {

int64_t AccuracySamples::size() const {
  if (inputs.empty()) return 0;
  const graph::Tensor& t = inputs.begin()->second;
  return t.rank() == 0 ? 1 : t.dim(0);
}

AccuracySamples random_samples(const graph::Graph& graph, int64_t count, uint64_t seed) {
  if (count < 1) fail("the accuracy estimate needs at least one input (got {})", count);
  AccuracySamples s;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (const auto& name : graph.inputs) {
    const auto& v = graph.value(name);
    graph::Shape shape = v.shape;
    if (shape.empty()) fail("input '{}' has no batch dimension; cannot draw samples for it", name);
    shape[0] = count;
    graph::Tensor t(v.dtype, shape);
    if (v.dtype == graph::DType::kFloat32) {
      float* p = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = uniform(rng);
    }
    s.inputs[name] = t;
  }
  s.description = fmt::format("{} random input{} (seed {})", count, count == 1 ? "" : "s", seed);
  return s;
}

AccuracySamples dataset_samples(const graph::Graph& graph, const graph::Tensor& images, const graph::Tensor& labels,
                                int64_t count, const std::string& description) {
  if (graph.inputs.size() != 1)
    fail("a dataset can only feed a model with one input; '{}' has {}", graph.name, graph.inputs.size());
  const std::string& name = graph.inputs[0];
  const auto& v = graph.value(name);
  graph::Shape want(v.shape.begin() + 1, v.shape.end()), got(images.shape().begin() + 1, images.shape().end());
  if (v.dtype != images.dtype() || want != got)
    fail("{}: images are {} of shape {} per sample, but the model's input '{}' takes {} of shape {}", description,
         graph::dtype_name(images.dtype()), graph::shape_str(got), name, graph::dtype_name(v.dtype),
         graph::shape_str(want));
  int64_t n = images.dim(0);
  if (count > 0) n = std::min(n, count);
  if (n < 1) fail("{}: no samples", description);
  AccuracySamples s;
  s.inputs[name] = images.rows(0, n);
  s.labels = labels.rows(0, n);
  s.description = fmt::format("{}, {} sample{}", description, n, n == 1 ? "" : "s");
  return s;
}

std::vector<int64_t> top1(const graph::Tensor& scores) {
  std::vector<float> v = scores.to_float();
  int64_t rows = scores.rank() == 0 ? 1 : scores.dim(0);
  std::vector<int64_t> out;
  if (rows == 0) return out;
  int64_t per = static_cast<int64_t>(v.size()) / rows;
  for (int64_t r = 0; r < rows; ++r) {
    auto begin = v.begin() + r * per;
    out.push_back(std::max_element(begin, begin + per) - begin);
  }
  return out;
}

TransferAccuracyEvaluator::TransferAccuracyEvaluator(const graph::Graph& graph, AccuracySamples samples, int64_t chunk)
    : samples_(std::move(samples)), runner_(graph) {
  if (graph.outputs.empty()) fail("model '{}' has no outputs", graph.name);
  output_ = graph.outputs[0];
  const int64_t n = samples_.size();
  if (n < 1) fail("the accuracy estimate needs at least one sample");
  chunk = std::max<int64_t>(1, chunk);
  for (int64_t begin = 0; begin < n; begin += chunk) {
    runtime::TensorMap c;
    for (const auto& [name, t] : samples_.inputs) c[name] = t.rows(begin, std::min(chunk, n - begin));
    float_outputs_.push_back(runner_.run({}, c).at(output_));
    chunks_.push_back(std::move(c));
  }
}

TransferAccuracy TransferAccuracyEvaluator::evaluate(const std::vector<int>& positions, Precision transfer) {
  auto key = std::make_pair(positions, transfer);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  TransferAccuracy r;
  r.transfer = transfer;
  r.samples = samples_.size();
  int64_t agree = 0, correct = 0, float_correct = 0, row = 0;
  double diff = 0, norm = 0;
  const int64_t* labels = samples_.labels ? samples_.labels->data<int64_t>() : nullptr;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    graph::Tensor got =
        positions.empty() ? float_outputs_[c] : runner_.run(positions, chunks_[c], transfer).at(output_);
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

AccuracyFiltered filter_by_accuracy(const std::vector<PlanCost>& front, TransferAccuracyEvaluator& evaluator,
                                    Precision transfer, double min_accuracy,
                                    const std::function<void(int64_t, int64_t)>& on_scored) {
  AccuracyFiltered f;
  for (const auto& plan : front) {
    TransferAccuracy a = evaluator.evaluate(plan.plan.positions, transfer);
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
