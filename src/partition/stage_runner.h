// Running a partitioned model on this machine, stage after stage, as the devices of a plan would:
// what proves that a plan's stage files compute the model, and what the accuracy estimate under
// quantized transfer runs. A search front shares most of its stages between plans, so sessions
// are built once per distinct stage (node range) and reused.
#pragma once

#include <map>
#include <memory>
#include <string>
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

  // The stage graph running nodes [begin, end) (0 and nodes() for the ends of the model).
  const graph::Graph& stage(int begin, int end);
  // Runs that stage on `available` (it picks the tensors it needs) and returns what it sends on.
  runtime::TensorMap run_stage(int begin, int end, const runtime::TensorMap& available);

  // Runs the plan cutting at `positions` on the model's inputs: every stage in order, the
  // tensors crossing each cut passed through `transfer`. Returns the model's outputs.
  runtime::TensorMap run(const std::vector<int>& positions, const runtime::TensorMap& inputs,
                         Precision transfer = Precision::kFp32);

  int nodes() const { return static_cast<int>(graph_.nodes.size()); }
  // Stages held now, and built in total (a stage evicted and needed again is built again).
  size_t cached_stages() const { return stages_.size(); }
  int64_t built_stages() const { return built_; }
  // Sessions hold their stage's weights; beyond `bytes` of weights, the least recently used
  // stages are dropped (the one in use never is). Default 1 GiB.
  void set_cache_limit(int64_t bytes) { limit_bytes_ = bytes; }

 private:
  struct Stage {
    graph::Graph graph;
    std::unique_ptr<runtime::Session> session;
    int64_t weight_bytes = 0;
    int64_t last_use = 0;
  };
  Stage& get(int begin, int end);
  void evict(std::pair<int, int> keep);

  const graph::Graph& graph_;
  std::string backend_;
  runtime::SessionOptions options_;
  std::map<std::pair<int, int>, Stage> stages_;
  int64_t limit_bytes_ = int64_t{1} << 30;
  int64_t held_bytes_ = 0;
  int64_t clock_ = 0;
  int64_t built_ = 0;
};

}  // namespace fluidedge::partition
