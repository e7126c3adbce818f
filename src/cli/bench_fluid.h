// `fluidedge bench fluid`: the Fluid DyDNN paper's experiment with real device-node processes
// (see bench_fluid_command.cpp), callable by `fluidedge demo` as well as from its command line.
#pragma once

#include <string>
#include <vector>

#include "cli/json_output.h"
#include "experiment/fluid_experiment.h"

namespace fluidedge::cli {

struct FluidBenchOptions {
  experiment::FluidExperimentOptions run;  // the experiment (its binaries are set when run)
  std::string tls = "on";                  // on: mutual TLS between the client and the nodes; off: plaintext
  std::string plot = "bench-fluid.png";    // the Figure-2 plot (empty: none)
  std::string report;                      // a directory for an HTML report of the run (empty: none)
  bool json = false;
};

// Runs the experiment (experiment/fluid_experiment.h), prints a table as it goes (unless
// o.json) and draws o.plot; returns what `--json` prints.
Json run_bench_fluid(FluidBenchOptions o);

// What `--json` prints for a report, with the plot's path.
Json fluid_report_json(const experiment::FluidReport& report, const std::string& plot);

}  // namespace fluidedge::cli
