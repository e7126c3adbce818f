#include "partition/stage_runner.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "graph/half.h"
#include "partition/cut.h"
#include "quantize/post_training.h"

namespace fluidedge::partition {

AffineInt8 affine_int8_parameters(const float* data, int64_t count) {
  float lo = 0, hi = 0;  // the range includes 0
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(data[i])) continue;
    lo = std::min(lo, data[i]);
    hi = std::max(hi, data[i]);
  }
  AffineInt8 p;
  if (hi > lo) p.scale = (hi - lo) / 255.0f;
  p.zero_point = static_cast<int>(std::lround(-128.0 - lo / p.scale));
  p.zero_point = std::clamp(p.zero_point, -128, 127);
  return p;
}

namespace {

void round_trip_frame(float* data, int64_t count, Precision format) {
  if (format == Precision::kFp16) {
    for (int64_t i = 0; i < count; ++i) data[i] = graph::half_to_float(graph::float_to_half(data[i]));
    return;
  }
  AffineInt8 p = affine_int8_parameters(data, count);
  for (int64_t i = 0; i < count; ++i) {
    long q = std::lround(static_cast<double>(data[i]) / p.scale) + p.zero_point;
    q = std::clamp(q, -128L, 127L);
    data[i] = static_cast<float>(q - p.zero_point) * p.scale;
  }
}

}  // namespace

graph::Tensor transfer_round_trip(const graph::Tensor& tensor, Precision format) {
  if (format == Precision::kFp32 || tensor.dtype() != graph::DType::kFloat32) return tensor;
  graph::Tensor out = tensor.clone();
  int64_t frames = out.rank() == 0 ? 1 : out.dim(0);
  int64_t per_frame = frames == 0 ? 0 : out.numel() / frames;
  float* data = out.data<float>();
  for (int64_t f = 0; f < frames; ++f) round_trip_frame(data + f * per_frame, per_frame, format);
  return out;
}

StageRunner::StageRunner(const graph::Graph& graph, std::string backend, runtime::SessionOptions options)
    : graph_(graph), backend_(std::move(backend)), options_(options) {}

void StageRunner::set_calibration(runtime::TensorMap model_inputs) { calibration_ = std::move(model_inputs); }

graph::Graph StageRunner::at_precision(graph::Graph stage, int begin, Precision precision) {
  if (precision == Precision::kFp16) {
    for (auto& [name, t] : stage.initializers)
      t = transfer_round_trip(t, precision);  // float weights only; each value rounded on its own
    return stage;
  }
  if (precision != Precision::kInt8) return stage;
  if (quantize::quantized_activations(quantize::prepare_for_quantization(stage)).empty()) return stage;
  if (calibration_.empty())
    fail("stage of nodes {}..{} runs in int8 and needs calibration inputs, and none were given", begin,
         begin + static_cast<int>(stage.nodes.size()) - 1);
  // The float model's tensors at the stage's inputs, as the stages before would send them in fp32.
  runtime::TensorMap at_cut = begin == 0 ? calibration_ : run_stage(0, begin, calibration_);
  quantize::AccuracySamples samples;
  for (const auto& name : stage.inputs) {
    auto it = at_cut.find(name);
    if (it == at_cut.end()) fail("stage of nodes from {} needs '{}', which the model does not compute", begin, name);
    samples.inputs[name] = it->second;
  }
  std::string name = stage.name;
  graph::Graph q = quantize::quantize_model(stage, samples, {}).graph;
  q.name = name;
  return q;
}

StageRunner::Stage& StageRunner::get(int begin, int end, Precision precision) {
  const int n = nodes();
  if (begin < 0 || end > n || begin >= end)
    fail("stage [{}, {}) is not a node range of a {}-node model", begin, end, n);
  const Key key{begin, end, precision};
  auto it = stages_.find(key);
  if (it != stages_.end()) {
    it->second.last_use = ++clock_;
    return it->second;
  }
  Stage s;
  s.graph = at_precision(split_stage(graph_, begin, end), begin, precision);
  s.session = runtime::make_session(backend_, s.graph, options_);
  for (const auto& [name, t] : s.graph.initializers) s.weight_bytes += static_cast<int64_t>(t.nbytes());
  s.last_use = ++clock_;
  recount(s);
  ++built_;
  evict(key);
  return stages_.emplace(key, std::move(s)).first->second;
}

void StageRunner::recount(Stage& s) {
  const int64_t now = s.weight_bytes + s.session->held_bytes();
  held_bytes_ += now - s.bytes;
  s.bytes = now;
}

void StageRunner::evict(const Key& keep) {
  while (held_bytes_ > limit_bytes_ && !stages_.empty()) {
    auto oldest = stages_.end();
    for (auto it = stages_.begin(); it != stages_.end(); ++it)
      if (it->first != keep && (oldest == stages_.end() || it->second.last_use < oldest->second.last_use)) oldest = it;
    if (oldest == stages_.end()) return;
    held_bytes_ -= oldest->second.bytes;
    stages_.erase(oldest);
  }
}

const graph::Graph& StageRunner::stage(int begin, int end, Precision precision) {
  return get(begin, end, precision).graph;
}

runtime::TensorMap StageRunner::run_stage(int begin, int end, const runtime::TensorMap& available,
                                          Precision precision) {
  Stage& s = get(begin, end, precision);
  runtime::TensorMap feeds;
  for (const auto& name : s.graph.inputs) {
    auto it = available.find(name);
    if (it == available.end())
      fail("stage of nodes {}..{} needs '{}', which the previous stage did not send", begin, end - 1, name);
    // An fp16 device holds what it receives in half precision.
    feeds[name] = precision == Precision::kFp16 ? transfer_round_trip(it->second, precision) : it->second;
  }
  runtime::TensorMap out = s.session->run(feeds);
  recount(s);
  evict({begin, end, precision});
  // Outputs that are initializers (constants) are not computed by the session; pass them on.
  for (const auto& name : s.graph.outputs)
    if (!out.count(name))
      if (const graph::Tensor* t = s.graph.initializer(name)) out[name] = *t;
  return out;
}

runtime::TensorMap StageRunner::run(const std::vector<int>& positions, const runtime::TensorMap& inputs,
                                    Precision transfer, const std::vector<Precision>& precisions) {
  const std::vector<int> bounds = stage_bounds(positions, nodes());
  if (!precisions.empty() && precisions.size() + 1 != bounds.size())
    fail("{} stage precisions for a plan of {} stages", precisions.size(), bounds.size() - 1);
  runtime::TensorMap current = inputs;
  for (size_t s = 0; s + 1 < bounds.size(); ++s) {
    runtime::TensorMap out =
        run_stage(bounds[s], bounds[s + 1], current, precisions.empty() ? Precision::kFp32 : precisions[s]);
    if (s + 2 < bounds.size())
      for (auto& [name, t] : out) t = transfer_round_trip(t, transfer);
    current = std::move(out);
  }
  return current;
}

}  // namespace fluidedge::partition
