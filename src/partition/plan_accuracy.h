// What a plan costs in accuracy: its devices' precisions (a stage on an int8 device runs
// quantized, on an fp16 one in half precision; stage_runner.h) and the format of the tensors
// on its links (encoded as a sender would encode them, transfer_round_trip). The plan's stages
// are run so, and the predictions compared with the float model's: top-1 agreement on given (or
// random) inputs, and accuracy against labels when a dataset is given. The cost model only
// knows bytes and times; this is what the `min_accuracy` constraint of system.yaml is checked
// against, for the plans of the front only (as the partitioning paper measures them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
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

struct PlanAccuracy {
  Precision transfer = Precision::kFp32;
  std::vector<Precision> precisions;  // per stage (all fp32 when empty)
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
class PlanAccuracyEvaluator {
 public:
  // `graph` must outlive the evaluator. Samples run in chunks of `chunk` (memory stays bounded).
  // Int8 stages are calibrated on `calibration` (at most kCalibrationSamples of it), or on the
  // evaluation samples when it is empty.
  PlanAccuracyEvaluator(const graph::Graph& graph, AccuracySamples samples, AccuracySamples calibration = {},
                        int64_t chunk = 16);
  static constexpr int64_t kCalibrationSamples = 64;

  // The plan cutting at `positions`, stage s at `precisions[s]` (empty: all fp32).
  PlanAccuracy evaluate(const std::vector<int>& positions, Precision transfer,
                        const std::vector<Precision>& precisions = {});
  // The same for a costed plan, each stage at its device's precision in `system`.
  PlanAccuracy evaluate(const PipelinePlan& plan, const SystemDescription& system, Precision transfer);
  const AccuracySamples& samples() const { return samples_; }
  const std::string& calibration_description() const { return calibration_description_; }
  // What a device of `precision` runs for nodes [begin, end) (its QDQ graph for int8).
  const graph::Graph& stage(int begin, int end, Precision precision) { return runner_.stage(begin, end, precision); }

 private:
  std::vector<runtime::TensorMap> chunks_;    // sample inputs, chunked
  std::vector<graph::Tensor> float_outputs_;  // first output of the float model per chunk
  AccuracySamples samples_;
  StageRunner runner_;
  std::string output_;
  std::string calibration_description_;
  std::map<std::tuple<std::vector<int>, Precision, std::vector<Precision>>, PlanAccuracy> cache_;
};

// The precision each stage of `plan` runs at: its device's.
std::vector<Precision> stage_precisions(const PipelinePlan& plan, const SystemDescription& system);
// Whether any device of `system` computes in other than fp32 (then every plan's accuracy can differ).
bool has_reduced_precision(const SystemDescription& system);

// The front after the min_accuracy constraint: plans whose score (accuracy with labels, else
// agreement with the float model), each stage at its device's precision and the links in
// `transfer`, is below `min_accuracy` are dropped.
struct AccuracyFiltered {
  std::vector<PlanCost> kept;
  std::vector<PlanAccuracy> kept_accuracy;  // parallel to kept
  std::vector<PlanCost> dropped;
  std::vector<PlanAccuracy> dropped_accuracy;
};
// `on_scored(done, total)`, if given, is called after each plan is scored.
AccuracyFiltered filter_by_accuracy(const std::vector<PlanCost>& front, PlanAccuracyEvaluator& evaluator,
                                    const SystemDescription& system, Precision transfer, double min_accuracy,
                                    const std::function<void(int64_t, int64_t)>& on_scored = {});

}  // namespace fluidedge::partition
