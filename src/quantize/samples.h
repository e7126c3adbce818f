// The samples a model is calibrated or evaluated on: inputs with dim 0 the sample, and labels
// when they come from a dataset. Shared by `fluidedge quantize` (calibration, int8 accuracy) and
// the partitioner (accuracy of a plan under quantized transfer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/session.h"

namespace fluidedge::quantize {

// The samples accuracy is estimated on: inputs with dim 0 the sample, optional labels.
struct AccuracySamples {
  runtime::TensorMap inputs;
  std::optional<graph::Tensor> labels;  // int64 [N]; without: agreement with the float model only
  std::string description;              // "32 random inputs (seed 1)", "mnist test split, 1000 images"
  int64_t size() const;
};

// `count` seeded random inputs for `graph`: float inputs uniform in [0, 1) (images), integer
// inputs 0.
AccuracySamples random_samples(const graph::Graph& graph, int64_t count, uint64_t seed = 1);

// The first `count` images of `split` (0: all) with their labels, checked against the model's
// single float input (same shape apart from the batch).
AccuracySamples dataset_samples(const graph::Graph& graph, const graph::Tensor& images, const graph::Tensor& labels,
                                int64_t count, const std::string& description);

// Top-1 class of each row of a [N, ...] score tensor (argmax over the rest).
std::vector<int64_t> top1(const graph::Tensor& scores);

}  // namespace fluidedge::quantize
