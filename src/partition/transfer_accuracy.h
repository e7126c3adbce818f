// What sending cut tensors in fp16 or int8 costs in accuracy. A plan's stages are run with the
// tensors crossing each link encoded as a sender would encode them (transfer_round_trip), and
// the predictions are compared with the float model's: top-1 agreement on given (or random)
// inputs, and accuracy against labels when a dataset is given. The cost model only knows bytes;
// this is what the `min_accuracy` constraint of system.yaml is checked against.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "partition/cost_model.h"
#include "partition/stage_runner.h"
#include "partition/system.h"
#include "quantize/samples.h"

namespace fluidedge::partition {

// The samples accuracy is estimated on (quantize/samples.h, shared with `fluidedge quantize`).
using quantize::AccuracySamples;
using quantize::dataset_samples;
using quantize::random_samples;
using quantize::top1;

struct TransferAccuracy {
  Precision transfer = Precision::kFp32;
  int64_t samples = 0;
  double agreement = 1;                  // fraction of samples whose top-1 matches the float model
  std::optional<double> accuracy;        // with labels: top-1 accuracy of the plan
  std::optional<double> float_accuracy;  // with labels: top-1 accuracy of the float model
  double output_relative_error = 0;      // ||plan - float|| / ||float|| over the first output

  // What min_accuracy is compared with: accuracy with labels, else agreement.
  double score() const { return accuracy ? *accuracy : agreement; }
};

// Evaluates plans of one model on one set of samples. The float model runs once; plans with the
// same cut positions (whatever their devices) are evaluated once.
class TransferAccuracyEvaluator {
 public:
  // `graph` must outlive the evaluator. Samples run in chunks of `chunk` (memory stays bounded).
  TransferAccuracyEvaluator(const graph::Graph& graph, AccuracySamples samples, int64_t chunk = 16);

  TransferAccuracy evaluate(const std::vector<int>& positions, Precision transfer);
  const AccuracySamples& samples() const { return samples_; }

 private:
  std::vector<runtime::TensorMap> chunks_;    // sample inputs, chunked
  std::vector<graph::Tensor> float_outputs_;  // first output of the float model per chunk
  AccuracySamples samples_;
  StageRunner runner_;
  std::string output_;
  std::map<std::pair<std::vector<int>, Precision>, TransferAccuracy> cache_;
};

// The front after the min_accuracy constraint: plans whose score (accuracy with labels, else
// agreement with the float model) under `transfer` is below `min_accuracy` are dropped.
struct AccuracyFiltered {
  std::vector<PlanCost> kept;
  std::vector<TransferAccuracy> kept_accuracy;  // parallel to kept
  std::vector<PlanCost> dropped;
  std::vector<TransferAccuracy> dropped_accuracy;
};
// `on_scored(done, total)`, if given, is called after each plan is scored.
AccuracyFiltered filter_by_accuracy(const std::vector<PlanCost>& front, TransferAccuracyEvaluator& evaluator,
                                    Precision transfer, double min_accuracy,
                                    const std::function<void(int64_t, int64_t)>& on_scored = {});

}  // namespace fluidedge::partition
