#include "quantize/samples.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "common/error.h"

namespace fluidedge::quantize {

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

}  // namespace fluidedge::quantize
