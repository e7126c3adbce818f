// The three training procedures of the Fluid paper over a width-split model (DESIGN.md,
// docs/training.md): Static — ordinary training; Dynamic — incremental (stage j trains group
// j's new weights and head j, earlier groups frozen); Fluid — nested incremental (stage j
// trains sub-network j alone, earlier ones frozen; a last stage trains the combiners with every
// trunk frozen).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "train/trainer.h"
#include "train/width_split.h"

namespace fluidedge::train {

struct TrainResult {
  SplitModel model;                        // with the trained weights
  std::map<std::string, double> accuracy;  // test accuracy per subset key ("1", "1+2", "full")
  std::vector<StageReport> stages;
  double train_seconds = 0;
  double teacher_accuracy = -1;  // test accuracy of a teacher trained here (or -1)
};

// config.teacher "static" trains a Static teacher first (its time counts in train_seconds);
// Dynamic and Fluid stages then distil from its logits when config.distill_weight > 0.
TrainResult train_variant(const graph::Graph& base, Variant variant, int groups, const data::Dataset& data,
                          const TrainConfig& config);

}  // namespace fluidedge::train
