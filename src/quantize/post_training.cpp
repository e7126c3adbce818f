#include "quantize/post_training.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "data/dataset.h"
#include "graph/npy.h"
#include "graph/qdq_transforms.h"
#include "runtime/fast/fast_session.h"

namespace fluidedge::quantize {

namespace {

namespace fs = std::filesystem;

bool has_npy_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".npy") return true;
  return false;
}

// Every .npy file of `dir` in name order, stacked, at most `count` rows.
AccuracySamples npy_samples(const graph::Graph& graph, const fs::path& dir, int64_t count) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".npy") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<graph::Tensor> parts;
  int64_t rows = 0;
  for (const auto& f : files) {
    if (count > 0 && rows >= count) break;
    graph::Tensor t = graph::load_npy(f.string());
    if (t.rank() == 0) fail("{}: a scalar; expected a batch of inputs", f.string());
    rows += t.dim(0);
    parts.push_back(std::move(t));
  }
  std::vector<const graph::Tensor*> ptrs;
  for (const auto& p : parts) ptrs.push_back(&p);
  graph::Tensor all = graph::concat_rows(ptrs);
  if (count > 0 && all.dim(0) > count) all = all.rows(0, count);
  // The same checks as a dataset's (shape and type per sample), with no labels.
  AccuracySamples s =
      dataset_samples(graph, all, graph::Tensor(graph::DType::kInt64, {all.dim(0)}), 0,
                      fmt::format("{} ({} .npy file{})", dir.string(), parts.size(), parts.size() == 1 ? "" : "s"));
  s.labels.reset();
  return s;
}

int64_t initializer_bytes(const graph::Graph& g) {
  int64_t bytes = 0;
  for (const auto& [name, t] : g.initializers) bytes += static_cast<int64_t>(t.nbytes());
  return bytes;
}

}  // namespace

SampleSplits load_sample_splits(const graph::Graph& graph, const std::string& source, int64_t calibration_count,
                                int64_t evaluation_count, uint64_t seed) {
  if (source == "random")
    return {random_samples(graph, calibration_count, seed), random_samples(graph, evaluation_count, seed + 1)};
  if (source != "mnist" && source != "fashion-mnist") {
    if (!fs::is_directory(source))
      fail("calibration data '{}': not mnist, fashion-mnist, random or a directory", source);
    if (has_npy_files(source))
      return {npy_samples(graph, source, calibration_count), npy_samples(graph, source, evaluation_count)};
  }
  data::Dataset d = data::load_dataset(source);
  return {
      dataset_samples(graph, d.train.images, d.train.labels, calibration_count, fmt::format("{} train split", d.name)),
      dataset_samples(graph, d.test.images, d.test.labels, evaluation_count, fmt::format("{} test split", d.name))};
}

QuantizedFormat quantized_format(const std::string& name) {
  if (name == "qdq") return QuantizedFormat::kQdq;
  if (name == "qoperator") return QuantizedFormat::kQOperator;
  fail("format '{}': expected qdq or qoperator", name);
}

QuantizedModel quantize_model(const graph::Graph& model, const AccuracySamples& calibration,
                              const PostTrainingOptions& options,
                              const std::function<void(int64_t, int64_t)>& on_batch) {
  if (options.batch < 1) fail("calibration batch {}: must be at least 1", options.batch);
  graph::Graph prepared = prepare_for_quantization(model);
  std::vector<std::string> activations = quantized_activations(prepared);
  if (activations.empty())
    fail("model '{}' has no operator that runs quantized (Conv, Gemm, MatMul with constant weights, Add, pools)",
         model.name);
  std::vector<runtime::TensorMap> batches;
  for (int64_t begin = 0; begin < calibration.size(); begin += options.batch) {
    runtime::TensorMap b;
    for (const auto& [name, t] : calibration.inputs)
      b[name] = t.rows(begin, std::min(options.batch, calibration.size() - begin));
    batches.push_back(std::move(b));
  }
  auto ranges = calibrate(prepared, activations, batches, options.method, on_batch);
  QuantizedModel q;
  q.graph = write_qdq(prepared, ranges, options.qdq);
  if (options.format == QuantizedFormat::kQOperator) graph::fuse_qdq(q.graph);
  q.activations = static_cast<int64_t>(activations.size());
  for (const auto& [name, t] : q.graph.initializers) q.weights += t.dtype() == graph::DType::kInt8 && t.rank() > 1;
  q.float_weight_bytes = initializer_bytes(model);
  q.int8_weight_bytes = initializer_bytes(q.graph);
  return q;
}

AccuracyComparison compare_accuracy(const graph::Graph& float_model, const graph::Graph& quantized,
                                    const AccuracySamples& samples, int64_t batch) {
  runtime::fast::FastSession f(float_model, {}), q(quantized, {});
  AccuracyComparison c;
  c.samples = samples.size();
  int64_t same = 0, right_float = 0, right_quantized = 0;
  for (int64_t begin = 0; begin < samples.size(); begin += batch) {
    int64_t n = std::min(batch, samples.size() - begin);
    runtime::TensorMap in;
    for (const auto& [name, t] : samples.inputs) in[name] = t.rows(begin, n);
    auto a = top1(f.run(in).at(float_model.outputs.at(0)));
    auto b = top1(q.run(in).at(quantized.outputs.at(0)));
    for (int64_t i = 0; i < n; ++i) {
      same += a[i] == b[i];
      if (samples.labels) {
        int64_t label = samples.labels->data<int64_t>()[begin + i];
        right_float += a[i] == label;
        right_quantized += b[i] == label;
      }
    }
  }
  double count = static_cast<double>(std::max<int64_t>(c.samples, 1));
  c.agreement = static_cast<double>(same) / count;
  if (samples.labels) {
    c.float_accuracy = static_cast<double>(right_float) / count;
    c.quantized_accuracy = static_cast<double>(right_quantized) / count;
  }
  return c;
}

}  // namespace fluidedge::quantize
