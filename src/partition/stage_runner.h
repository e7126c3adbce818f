// Running a partitioned model on this machine, stage after stage, as the devices of a plan would:
// what proves that a plan's stage files compute the model, and what the accuracy estimate of a
// plan runs (each stage at its device's precision, the tensors on the links in their format). A
// search front shares most of its stages between plans, so sessions are built once per distinct
// stage (node range and precision) and reused.
//
// A stage's precision: fp32 runs it as it is. int8 runs it as an int8 device would: quantized
// post-training (QDQ, per-channel int8 weights, uint8 activations by min/max) with ranges
// calibrated on the float model's tensors at the stage's inputs, and executed by the fast
// backend's integer kernels; a stage with nothing to quantize runs in float. fp16 is emulated:
// the stage's weights and inputs are rounded to half precision and it computes in fp32 (the
// fp32 accumulation of an fp16 device's kernels; no fp16 backend exists here).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "partition/system.h"
#include "runtime/session.h"

namespace fluidedge::partition {

// What a receiver gets when a sender transmits `tensor` in `format`: fp32 unchanged; fp16
// rounded to half precision; int8 quantized with a per-tensor affine scale and zero point that
// the sender computes from the tensor itself. Each row along dimension 0 is one frame and is
// encoded on its own, as a device sends one request at a time. Non-float tensors pass as they are.
graph::Tensor transfer_round_trip(const graph::Tensor& tensor, Precision format);

// Affine int8 parameters of a frame: real = (q - zero_point) * scale, q in [-128, 127]. The
// range always contains 0, so zero padding survives exactly.
struct AffineInt8 {
  float scale = 1;
  int zero_point = 0;
};
AffineInt8 affine_int8_parameters(const float* data, int64_t count);

class StageRunner {
 public:
  // `graph` is kept by reference and must outlive the runner.
  explicit StageRunner(const graph::Graph& graph, std::string backend = "fast", runtime::SessionOptions options = {});

  // The model inputs int8 stages are calibrated on (their stage's inputs are computed from them in
  // fp32). Stages built before keep their ranges. Without, building an int8 stage is an Error.
  void set_calibration(runtime::TensorMap model_inputs);

  // The stage graph running nodes [begin, end) (0 and nodes() for the ends of the model) at
  // `precision`: what a device of that precision is given (the QDQ model for int8).
  const graph::Graph& stage(int begin, int end, Precision precision = Precision::kFp32);
  // Runs that stage on `available` (it picks the tensors it needs) and returns what it sends on.
  runtime::TensorMap run_stage(int begin, int end, const runtime::TensorMap& available,
                               Precision precision = Precision::kFp32);

  // Runs the plan cutting at `positions` on the model's inputs: every stage in order, stage s at
  // `precisions[s]` (none given: all fp32), the tensors crossing each cut passed through
  // `transfer`. Returns the model's outputs.
  runtime::TensorMap run(const std::vector<int>& positions, const runtime::TensorMap& inputs,
                         Precision transfer = Precision::kFp32, const std::vector<Precision>& precisions = {});

  int nodes() const { return static_cast<int>(graph_.nodes.size()); }
  // Stages held now, and built in total (a stage evicted and needed again is built again).
  size_t cached_stages() const { return stages_.size(); }
  int64_t built_stages() const { return built_; }
  int64_t held_bytes() const { return held_bytes_; }
  // A stage holds its weights and its session's buffers (an activation arena per batch size it
  // ran); beyond `bytes` held in all, the least recently used stages are dropped (the one in use
  // never is). Default 1 GiB.
  void set_cache_limit(int64_t bytes) { limit_bytes_ = bytes; }

 private:
  struct Stage {
    graph::Graph graph;
    std::unique_ptr<runtime::Session> session;
    int64_t weight_bytes = 0;
    int64_t bytes = 0;  // weights and the session's buffers, as counted in held_bytes_
    int64_t last_use = 0;
  };
  using Key = std::tuple<int, int, Precision>;
  Stage& get(int begin, int end, Precision precision);
  // The stage's graph at `precision`, from its fp32 graph.
  graph::Graph at_precision(graph::Graph stage, int begin, Precision precision);
  // Counts what `s` holds now (its session plans a batch size when it first runs it).
  void recount(Stage& s);
  void evict(const Key& keep);

  const graph::Graph& graph_;
  std::string backend_;
  runtime::SessionOptions options_;
  runtime::TensorMap calibration_;
  std::map<Key, Stage> stages_;
  int64_t limit_bytes_ = int64_t{1} << 30;
  int64_t held_bytes_ = 0;
  int64_t clock_ = 0;
  int64_t built_ = 0;
};

}  // namespace fluidedge::partition
