// `fluidedge bench runtime`: the device backends against ONNX Runtime on zoo models (see
// bench_runtime_command.cpp), callable by `fluidedge demo` as well as from its command line.
#pragma once

#include <string>

#include "cli/json_output.h"

namespace fluidedge::cli {

struct BenchRuntimeOptions {
  std::string models;
  std::string batches = "1,32";
  int rounds = 5;
  double seconds = 1.0;  // per backend, model and batch, split over the rounds
  bool no_reference = false;
  bool int8 = false;  // bench_runtime_int8.cpp
  int cpu = -1;       // -1: the last core
  bool json = false;
  std::string report;  // a directory for an HTML report of the run (empty: none)
};

// Times every model and batch, with a progress bar, and prints the table unless o.json;
// returns what `--json` prints.
Json run_bench_runtime(const BenchRuntimeOptions& o);
// `--int8`: each model quantized (QDQ), fast int8 against ORT int8 and fast fp32.
Json run_bench_runtime_int8(const BenchRuntimeOptions& o);

}  // namespace fluidedge::cli
