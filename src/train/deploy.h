// The deployable parts of a trained width-split model: what each device runs, and the
// combiners. Every part is an ordinary graph (an ONNX file once saved).
//   Fluid:   part j = sub-network j (input -> its features and logits); combiner S = the
//            members' features -> combined logits.
//   Dynamic: part j = group j's slices; inputs are the image and the activations groups < j
//            expose; outputs are what group j exposes and the logits over groups 1..j.
//   Static:  the whole model (the partitioner cuts it into pipeline stages).
#pragma once

#include <string>
#include <vector>

#include "train/width_split.h"

namespace fluidedge::train {

struct Part {
  std::string name;  // "part1", "combiner_1+2"
  std::string role;  // for people: "sub-network 1", "group 2", "combiner of 1+2"
  std::string key;   // the prediction it produces: "1", "1+2", ...
  graph::Graph graph;
};

std::vector<Part> deployable_parts(const SplitModel& model);

}  // namespace fluidedge::train
