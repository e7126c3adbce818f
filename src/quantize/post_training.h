// Post-training static quantization, end to end: calibration samples from a dataset, a directory
// or random inputs; the calibrated QDQ model (or its QOperator form); and what it costs: top-1
// accuracy of the float and the int8 model on labelled samples, or their top-1 agreement.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "graph/graph.h"
#include "quantize/calibration.h"
#include "quantize/qdq_writer.h"
#include "quantize/samples.h"

namespace fluidedge::quantize {

// The calibration and evaluation samples from `source` for `graph`'s single input: "mnist",
// "fashion-mnist" or a directory of IDX files (its train split to calibrate, its test split to
// evaluate, with labels; the dataset is read once); a directory of .npy files (each [N, ...]
// inputs, no labels: both from the same files); or "random" (uniform in [0, 1), each seeded
// apart). At most `calibration_count` and `evaluation_count` samples.
struct SampleSplits {
  AccuracySamples calibration, evaluation;
};
SampleSplits load_sample_splits(const graph::Graph& graph, const std::string& source, int64_t calibration_count,
                                int64_t evaluation_count, uint64_t seed);

enum class QuantizedFormat { kQdq, kQOperator };
QuantizedFormat quantized_format(const std::string& name);  // "qdq", "qoperator"

struct PostTrainingOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  QdqOptions qdq;
  QuantizedFormat format = QuantizedFormat::kQdq;
  int64_t batch = 32;  // calibration batch
};

struct QuantizedModel {
  graph::Graph graph;
  int64_t activations = 0;  // quantized activation tensors
  int64_t weights = 0;      // weight tensors made int8
  int64_t float_weight_bytes = 0;
  int64_t int8_weight_bytes = 0;  // every initializer of the quantized model
};

// `on_batch(done, total)` reports calibration progress.
QuantizedModel quantize_model(const graph::Graph& model, const AccuracySamples& calibration,
                              const PostTrainingOptions& options,
                              const std::function<void(int64_t, int64_t)>& on_batch = {});

struct AccuracyComparison {
  int64_t samples = 0;
  double agreement = 0;                                      // share of samples with the same top-1 class
  std::optional<double> float_accuracy, quantized_accuracy;  // with labels
};

// Both models on the fast backend over `samples` in batches of `batch`.
AccuracyComparison compare_accuracy(const graph::Graph& float_model, const graph::Graph& quantized,
                                    const AccuracySamples& samples, int64_t batch);

}  // namespace fluidedge::quantize
