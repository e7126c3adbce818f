// Trains an IR graph on a labelled image dataset through the reference backend's ATen executor
// (autograd): mini-batches, SGD with momentum or Adam, a cosine learning-rate schedule, random
// shifts, rotations and zooms as augmentation, label smoothing, distillation from a teacher, seeded and reproducible, a
// progress bar per epoch on a terminal. Which parameters train and which outputs the loss reads are chosen per call,
// which is how the incremental (Dynamic) and nested incremental (Fluid) procedures freeze earlier stages.
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
  double learning_rate = 4e-3;     // peak; cosine-decayed to 0 over the epochs
  double momentum = 0.9;           // sgd
  double weight_decay = 0.0;
  int max_shift = 2;             // random translation in pixels (0: none)
  double max_rotation = 10.0;    // random rotation in degrees, either way (0: none)
  double max_scale = 0.1;        // random zoom by a factor in [1 - s, 1 + s] (0: none)
  double label_smoothing = 0.1;  // share of the target spread evenly over all classes
  // Knowledge distillation, used when a stage is given a teacher's logits: the loss is
  // (1 - distill_weight) * cross-entropy + distill_weight * T^2 * KL(teacher_T || student_T),
  // with both distributions softened by the temperature T.
  double distill_weight = 0.0;
  double distill_temperature = 4.0;
  // Where the Dynamic and Fluid procedures get a teacher from (procedures.h): "none", "static"
  // (a Static model trained first with this same recipe), or an ONNX file of a trained model.
  std::string teacher = "none";
  uint64_t seed = 1;
  // Checkpoints (procedures.h): non-empty, the model is saved there after every stage as
  // stage-K.onnx; with `resume`, a stage whose checkpoint exists is loaded instead of trained.
  std::string checkpoint_dir;
  bool resume = false;
};

struct StageReport {
  std::string label;
  bool from_checkpoint = false;  // loaded, not trained
  int epochs = 0;
  double seconds = 0;
  double final_loss = 0;
};

// The training-time augmentation of a batch of images ([N, C, H, W] float32) as train() applies
// it: integer shifts when only max_shift is set, else a random affine distortion (rotation,
// zoom, shift) per image. Deterministic for a seed.
graph::Tensor augment_images(const graph::Tensor& images, const TrainConfig& config, uint64_t seed);

class Trainer {
 public:
  // The graph's initializers become trainable ATen tensors.
  explicit Trainer(const graph::Graph& graph);
  ~Trainer();

  // Trains the parameters in `trainable` (all others frozen) to minimise the summed
  // cross-entropy of `loss_outputs` against the labels. With `teacher_logits` ([N, classes],
  // row i for image i of `data`) and config.distill_weight > 0, each output's loss also
  // distils from the teacher (TrainConfig). The teacher's logits are of the unshifted images:
  // a shift of a pixel or two does not change what a digit looks like.
  StageReport train(const data::Split& data, const std::set<std::string>& trainable,
                    const std::vector<std::string>& loss_outputs, const TrainConfig& config, const std::string& label,
                    const graph::Tensor& teacher_logits = {});

  // The named output's values for every image of `data` ([N, ...]), in inference mode.
  graph::Tensor predict(const data::Split& data, const std::string& output, int64_t batch = 500);

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
