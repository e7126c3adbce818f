// `fluidedge bench fluid`: the Fluid DyDNN paper's experiment with real device-node processes
// (see bench_fluid_command.cpp), callable by `fluidedge demo` as well as from its command line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/json_output.h"
#include "cluster/tls.h"

namespace fluidedge::cli {

struct FluidBenchOptions {
  std::string models = "runs/bench-fluid";
  std::string data = "mnist";
  int epochs = 15;
  double link_rate = 100;
  double link_latency = 0.5;
  int max_batch = 8;
  int concurrency = 64;
  int requests = 0;  // 0: the whole test split once per cell
  // The emulated devices: each node emulates a declared device of `device_gflops` (achieved on
  // conv/gemm) and `device_bandwidth` GB/s, the same the partitioner plans the Static split for
  // (fluidedge node --emulate): an embedded Arm core on these small layers. Unemulated, one core
  // of this machine runs the paper CNN ~50x faster, and every cell would measure the client and
  // the links, i.e. this host, instead of the devices.
  double device_gflops = 2.0;
  double device_bandwidth = 4.0;
  double failure_seconds = 2;  // how long a killed device stays down before it is restarted
  std::string backend;  // the nodes' (and the calibration's); empty: runtime::default_backend()
  std::string tls = "on";  // on: mutual TLS between the client and the nodes (a throwaway CA); off: plaintext
  std::shared_ptr<const cluster::LocalCertificates> certs;  // set when run, as --tls says
  std::string plot = "bench-fluid.png";  // the Figure-2 plot (empty: none)
  std::string report;                     // a directory for an HTML report of the run (empty: none)
  bool skip_failures = false;
  bool json = false;
  std::vector<std::string> variants{"static", "dynamic", "fluid"};
};


// Trains what is missing, runs every cell and failure run, prints a table as it goes (unless
// o.json) and draws o.plot; returns what `--json` prints.
Json run_bench_fluid(FluidBenchOptions o);

}  // namespace fluidedge::cli
