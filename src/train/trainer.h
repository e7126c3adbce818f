// Trains an IR graph on a labelled image dataset through the reference backend's ATen executor
// (autograd): mini-batches, SGD with momentum or Adam, a cosine learning-rate schedule, random
// shifts as augmentation, seeded and reproducible, a progress bar per epoch on a terminal.
// Which parameters train and which outputs the loss reads are chosen per call, which is how the
// incremental (Dynamic) and nested incremental (Fluid) procedures freeze earlier stages.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "graph/graph.h"

namespace fluidedge::train {

struct TrainConfig {
  int epochs = 15;
  int64_t batch = 64;
  std::string optimizer = "adam";  // "adam" or "sgd"
  double learning_rate = 2e-3;     // peak; cosine-decayed to 0 over the epochs
  double momentum = 0.9;           // sgd
  double weight_decay = 0.0;
  int max_shift = 2;               // random translation in pixels (0: none)
  uint64_t seed = 1;
};

struct StageReport {
  std::string label;
  int epochs = 0;
  double seconds = 0;
  double final_loss = 0;
};

class Trainer {
 public:
  // The graph's initializers become trainable ATen tensors.
  explicit Trainer(const graph::Graph& graph);
  ~Trainer();

  // Trains the parameters in `trainable` (all others frozen) to minimise the summed
  // cross-entropy of `loss_outputs` against the labels.
  StageReport train(const data::Split& data, const std::set<std::string>& trainable,
                    const std::vector<std::string>& loss_outputs, const TrainConfig& config, const std::string& label);

  // Top-1 accuracy (fraction) of each named output on `data`, in inference mode.
  std::map<std::string, double> accuracy(const data::Split& data, const std::vector<std::string>& outputs,
                                         int64_t batch = 500);

  // One parameter's current value, and replacing it (same shape).
  graph::Tensor parameter(const std::string& name) const;
  void set_parameter(const std::string& name, const graph::Tensor& value);

  // The graph with the trained weights.
  graph::Graph graph() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace fluidedge::train
