// What `fluidedge run` feeds a model: --input files (named by the input's name, or by the file
// name --output-dir writes for it, or in order), the matching NAME.npy files of --input-dir (so
// the stage files `partition` writes chain by hand: `run stage_2.onnx --input-dir OUT1`), and
// seeded random values for the rest (--random).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/session.h"

namespace fluidedge::cli {

struct InputSources {
  std::vector<std::string> files;  // --input [NAME=]FILE.npy
  std::string dir;                 // --input-dir: every input with a DIR/<npy_file_name(input)>
  bool random = false;             // fill the inputs given neither way
  uint64_t seed = 0;
  int64_t batch = 0;  // batch of random inputs (0: the model's); given inputs must have it too
};

// The model's inputs from `sources`; an --input wins over --input-dir for the same input.
// Every mistake (an unknown or ambiguous name, an input given twice, a directory without any of
// the model's inputs, a missing input without --random) fails with one message naming it.
runtime::TensorMap gather_inputs(const InputSources& sources, const graph::Graph& g);

// The file `--output-dir` writes value `name` to, and `--input-dir` reads it from: the name with
// every '/' made '_', and ".npy".
std::string npy_file_name(const std::string& name);

}  // namespace fluidedge::cli
